// Writes the seed corpus of every fuzz target (docs/fuzzing.md) with the project's own
// encoders, so that the seeds stay valid when a schema or format changes:
//
//   fuzz_make_corpus OUTPUT_DIR [SOURCE_DIR]
//
// creates OUTPUT_DIR/<target>/<seed> for each target (fixed names: running it again
// overwrites the same files). SOURCE_DIR (default: the source tree this was built from)
// is where config/*.toml are read. scripts/fuzz.sh runs it before every fuzzing run, and
// `scripts/fuzz.sh corpus` refreshes the committed seeds in fuzz/corpus/. Each seed is a
// valid input, plus a few near misses (a NaN sample, a torn record) that start the
// fuzzer on the error paths.

#include <edflib.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_keys.hpp"
#include "sensorgate/common/openbci_packet.hpp"
#include "sensorgate/common/serial_framing.hpp"
#include "sensorgate/uplink/codec.hpp"
#include "sensorgate/uplink/disk_spool.hpp"
#include "sensorgate/uplink/model_envelope.hpp"
#include "sensorgate/uplink/model_payload.hpp"

namespace {

namespace fs = std::filesystem;
namespace up = sensorgate::uplink;
using Bytes = std::vector<std::uint8_t>;

fs::path g_out;

void write(const std::string& target, const std::string& name, const Bytes& bytes) {
  const fs::path dir = g_out / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}

void write(const std::string& target, const std::string& name, std::string_view text) {
  write(target, name, Bytes(text.begin(), text.end()));
}

Bytes read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// A deterministic EEG-like signal: a 10 Hz sine per channel plus a channel offset.
std::vector<float> signal(std::size_t frames, std::size_t channels) {
  std::vector<float> out;
  for (std::size_t f = 0; f < frames; ++f) {
    for (std::size_t c = 0; c < channels; ++c) {
      out.push_back(static_cast<float>(40.0 * std::sin(0.245 * static_cast<double>(f) + static_cast<double>(c)) +
                                       static_cast<double>(c)));
    }
  }
  return out;
}

Bytes frame_batch(const std::string& device, std::uint64_t seq, std::uint16_t channels, std::size_t frames) {
  return up::encode_frame_batch(device, seq, 1'700'000'000'000'000'000 + static_cast<std::int64_t>(seq) * 3'906'250,
                                256.0, channels, signal(frames, channels));
}

void frame_batches() {
  write("frame_batch", "one_frame_1ch", frame_batch("sim-0000", 0, 1, 1));
  write("frame_batch", "4_frames_16ch", frame_batch("sim-0001", 1000, 16, 4));
  write("frame_batch", "32_frames_8ch", frame_batch("cyton_lab.1", 77, 8, 32));
  auto samples = signal(2, 4);
  samples[5] = std::nanf("");
  write("frame_batch", "nan_sample", up::encode_frame_batch("sim-0002", 5, 0, 256.0, 4, samples));
  write("frame_batch", "bad_rate", up::encode_frame_batch("sim-0003", 5, 0, -1.0, 2, signal(2, 2)));
}

up::WindowSummaryRecord window_summary(std::size_t channels) {
  up::WindowSummaryRecord w;
  w.device_id = "sim-0001";
  w.window_start_ns = 1'700'000'000'000'000'000;
  w.window_end_ns = w.window_start_ns + 1'000'000'000;
  w.revision = 1;
  w.histogram_edges = {-10, 0, 10};
  for (std::size_t c = 0; c < channels; ++c) {
    w.channels.push_back({static_cast<std::uint16_t>(c), 256, -20.5F, 19.25F, 0.5, 120.0});
    for (int b = 0; b < 4; ++b) w.histogram_counts.push_back(64);
    for (int b = 0; b < 5; ++b) w.band_powers.push_back(static_cast<float>(b + 1));
  }
  w.anomaly_score = 1.5F;
  w.label = 1;
  w.prediction = 0.75F;
  w.model_version = 3;
  w.prequential_accuracy = 0.9F;
  return w;
}

Bytes signed_model(const up::ModelRecord& model) {
  return up::encode_signed_model(model, sensorgate::fuzz::fixed_signing_keys().secret_key);
}

up::LinearModel linear_model() {
  up::LinearModel m;
  m.mean = {1, 2, 3};
  m.scale = {0.5F, 1, 2};
  m.weights = {0.25F, -1, 4};
  m.bias = 0.125F;
  return m;
}

up::CentroidModel centroid_model() {
  up::CentroidModel m;
  m.mean = {0, 1};
  m.scale = {1, 3};
  m.k = 3;
  m.centroids = {0, 0, 1, 1, -1, 2};
  return m;
}

void uplink_messages() {
  write("uplink_message", "window_summary_2ch", up::encode_window_summary("gw-1", 1, 42, window_summary(2)));
  auto plain = window_summary(1);
  plain.histogram_edges.clear();
  plain.histogram_counts.clear();
  plain.band_powers.clear();
  write("uplink_message", "window_summary_plain", up::encode_window_summary("gw-1", 2, 43, plain));
  up::AnomalyEventRecord event{"sim-0001", 100, 3'000'000'100, 7.5, 1'000'000'100, 3, {2, 0, 5}, true};
  write("uplink_message", "anomaly_event", up::encode_anomaly_event("gw-1", 3, 44, event));
  write("uplink_message", "model_status",
        up::encode_model_status("gw-1", 4, 45, up::ModelStatusRecord{7, false, 6, "signature does not verify"}));
  up::RawFramesRecord raw{"sim-0002", 10, 1'000, 256.0, 2, signal(3, 2)};
  write("uplink_message", "raw_frames", up::encode_raw_frames("gw-1", 5, 46, raw));
  const std::array<std::uint64_t, 3> sequences = {1, 2, 5};
  write("uplink_message", "ack", up::encode_ack("gw-1", sequences));
  write("uplink_message", "command_rollback", up::encode_gateway_command({{}, true}));
  const up::ModelRecord model{up::ModelKind::kLogisticRegression, 4, "mean,variance", 5,
                              up::encode_linear_model(linear_model())};
  write("uplink_message", "command_model", up::encode_gateway_command({signed_model(model), false}));
}

void model_envelopes() {
  const Bytes linear = up::encode_linear_model(linear_model());
  const Bytes centroids = up::encode_centroid_model(centroid_model());
  const up::ModelRecord logistic{up::ModelKind::kLogisticRegression, 4, "c0.mean,c0.variance,c0.alpha",
                                 1'700'000'000'000'000'000, linear};
  const up::ModelRecord kmeans{up::ModelKind::kKMeans, 9, "c0.mean,c0.variance", 1'700'000'000'000'000'001, centroids};
  write("model_envelope", "0_envelope_logistic", cat({0}, signed_model(logistic)));
  write("model_envelope", "0_envelope_kmeans", cat({0}, signed_model(kmeans)));
  write("model_envelope", "1_payload_linear", cat({1}, linear));
  write("model_envelope", "1_payload_centroids", cat({1}, centroids));
  // Mode 2 reads kind, version, created_at, a length-prefixed spec, a position, a byte,
  // then the payload (FuzzedDataProvider takes integers from the end of the input).
  write("model_envelope", "2_fields", cat(cat({2}, Bytes{'m', 'e', 'a', 'n', '\\', 'x'}), linear));
}

void serial_streams() {
  Bytes stream = {0};  // the leading delimiter a sender writes when it opens the port
  for (std::uint64_t seq = 0; seq < 3; ++seq)
    sensorgate::encode_serial_frame(frame_batch("sim-0", seq * 8, 4, 8), stream);
  sensorgate::encode_serial_frame(Bytes{}, stream);
  sensorgate::encode_serial_frame(Bytes{0x11, 0x00, 0x22}, stream);
  Bytes long_block(300, 0x7F);  // a full 254-byte COBS block and more
  sensorgate::encode_serial_frame(long_block, stream);
  // Byte 0: max_payload (0 = 1 MiB); byte 1: 3 chunk sizes follow.
  write("serial_framing", "frames_chunked", cat({0, 3, 0, 16, 200}, stream));
  write("serial_framing", "frames_whole", cat({0, 0}, stream));
  Bytes garbage = {0x42, 0x99, 0x01, 0x00};  // a bad frame closed by its delimiter
  write("serial_framing", "garbage_then_frames_small_max", cat(cat({2, 1, 7}, garbage), stream));
}

Bytes openbci_stream(bool daisy, std::size_t frames, std::uint64_t first) {
  sensorgate::OpenBciEncoder encoder(daisy, sensorgate::kOpenBciDefaultGain);
  encoder.set_next_frame(first);
  Bytes out;
  const auto values = signal(frames, encoder.channels());
  for (std::size_t f = 0; f < frames; ++f) {
    encoder.encode(std::span(values).subspan(f * encoder.channels(), encoder.channels()), out,
                   {static_cast<std::int16_t>(f), -3, 1000});
  }
  return out;
}

void openbci_streams() {
  // Byte 0: bit 0 Daisy, (byte 0 >> 1) % 7 the gain index (6: 24); byte 1: chunk sizes.
  write("openbci_packet", "cyton_12", cat({12, 2, 32, 4}, openbci_stream(false, 12, 250)));
  write("openbci_packet", "daisy_8", cat({13, 0}, openbci_stream(true, 8, 60)));
  Bytes lossy = openbci_stream(false, 6, 0);
  lossy.erase(lossy.begin() + 33, lossy.begin() + 66);   // a lost packet
  lossy.insert(lossy.begin() + 70, {0xA0, 0x01, 0xC0});  // and a few bytes of garbage
  write("openbci_packet", "cyton_loss_gain1", cat({0, 1, 9}, lossy));
}

/// A 2-signal EDF+ (or 24-bit BDF+) file with an annotation, written by EDFlib (which
/// writes only the "+" variants).
Bytes edf_file(bool bdf) {
  const fs::path path = fs::temp_directory_path() / ("sensorgate-make-corpus-" + std::to_string(::getpid()) + ".edf");
  const int handle = edfopen_file_writeonly(path.c_str(), bdf ? EDFLIB_FILETYPE_BDFPLUS : EDFLIB_FILETYPE_EDFPLUS, 2);
  if (handle < 0) throw std::runtime_error("EDFlib cannot create " + path.string());
  for (int s = 0; s < 2; ++s) {
    edf_set_samplefrequency(handle, s, 8);
    edf_set_physical_maximum(handle, s, 3276.7);
    edf_set_physical_minimum(handle, s, -3276.8);
    edf_set_digital_maximum(handle, s, bdf ? 8388607 : 32767);
    edf_set_digital_minimum(handle, s, bdf ? -8388608 : -32768);
    edf_set_label(handle, s, s == 0 ? "C3" : "EOG..");
    edf_set_physical_dimension(handle, s, s == 0 ? "uV" : "mV");
  }
  const auto values = signal(8, 1);
  for (int record = 0; record < 2; ++record) {
    for (int s = 0; s < 2; ++s) {
      std::array<double, 8> buffer{};
      for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = values[i] * (s + 1);
      edfwrite_physical_samples(handle, buffer.data());
    }
  }
  edfwrite_annotation_utf8(handle, 5000, 2000, "eyes closed");
  edfclose_file(handle);
  Bytes bytes = read_file(path);
  fs::remove(path);
  return bytes;
}

void recordings() {
  // Byte 0: 0 EDF, 1 ARFF, 2 text (the content decides), 3 channel spec; byte 1: options
  // (bit 0: 250 Hz given, bit 1: channel spec "0", bit 2: resample to 100 Hz).
  write("recording", "edf_plus", cat({0, 0}, edf_file(false)));
  write("recording", "bdf_plus_channel0", cat({0, 2}, edf_file(true)));
  const auto seed = [](std::uint8_t format, std::uint8_t flags, std::string_view body) {
    Bytes out = {format, flags};
    out.insert(out.end(), body.begin(), body.end());
    return out;
  };
  const auto text = [&](std::uint8_t flags, std::string_view body) { return seed(2, flags, body); };
  write("recording", "arff",
        seed(1, 1,
             "% UCI style\n@RELATION eeg\n@ATTRIBUTE AF3 NUMERIC\n@ATTRIBUTE 'F 7' REAL\n"
             "@ATTRIBUTE eyeDetection {0,1}\n@DATA\n4329.23,4009.23,0\n4324.62,4004.62,1\n4327.69,4006.67,1\n"));
  write("recording", "csv_rate_label",
        text(0, "% Sample Rate = 4 Hz\nC3, C4, label\n1, 2, 0\n3, 4.5e1, 1\n-5, 6, 1\n7, 8, 0\n"));
  write("recording", "csv_blanks_resample", text(5, "# comment\nFp1\tFp2 Cz\n1 2 3\n4 5 6\n\n7 8 9\n"));
  write("recording", "openbci_gui",
        text(0,
             "%OpenBCI Raw EXG Data\n%Number of channels = 2\n%Sample Rate = 250 Hz\n%Board = Cyton\n"
             "Sample Index, EXG Channel 0, EXG Channel 1, Accel Channel 0, Timestamp (Formatted)\n"
             "0, 61379.36, -1.5, 0.0, 2021-03-04 10:00:00.000\n1, 61380.01, -2.25, 0.0, 2021-03-04 10:00:00.004\n"));
  write("recording", "plain_numbers", text(1, "12\n-7\n3.5 4 5\n1e2\n"));
  write("recording", "arff_by_content", text(1, "@relation r\n@attribute a numeric\n@data\n1\n2\n"));
  write("recording", "channel_spec", seed(3, 0, "0-2,Cz,EEG Fpz-Cz"));
}

void configs(const fs::path& source) {
  write("config", "gateway.toml", read_file(source / "config" / "gateway.toml"));
  write("config", "minimal.toml", std::string_view("[gateway]\nid = \"gw-1\"\n"));
  write("config", "serial.toml",
        std::string_view("[gateway]\nid = \"bench\"\n[serial]\nport = \"/dev/ttyUSB0\"\nformat = \"openbci-daisy\"\n"
                         "device_id = \"cyton-1\"\ngain = 24.0\n[windows]\nlength_ms = 1000\nslide_ms = 250\n"
                         "histogram_edges = [-50, 0, 50.5]\n[uplink]\nspool_dir = \"/tmp/spool\"\n"
                         "spool_fsync = \"never\"\n"));
  write("config", "errors.toml",
        std::string_view("[windows]\nlength_ms = 0\n[processing]\nworkers = \"two\"\n[unknown]\nkey = 1979-05-27\n"));
}

void spool_segments() {
  const fs::path dir = fs::temp_directory_path() / ("sensorgate-make-corpus-spool-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  {
    up::DiskSpoolOptions options;
    options.directory = dir;
    options.fsync = up::FsyncPolicy::kNever;
    up::DiskSpool spool(options);
    spool.append(1, up::encode_window_summary("gw-1", 1, 42, window_summary(2)));
    spool.append(2, Bytes{});
    spool.append(3, up::encode_ack("gw-1", std::array<std::uint64_t, 1>{1}));
  }
  Bytes segment;
  for (const auto& entry : fs::directory_iterator(dir)) segment = read_file(entry.path());
  fs::remove_all(dir);
  if (segment.empty()) throw std::runtime_error("the spool wrote no segment");
  write("spool_records", "three_records", segment);
  write("spool_records", "torn_tail", Bytes(segment.begin(), segment.end() - 7));
  Bytes corrupt = segment;
  corrupt[up::DiskSpool::kHeaderBytes + 3] ^= 0x40U;  // the first record's CRC no longer matches
  write("spool_records", "corrupt_first", corrupt);
}

void label_messages() {
  write("label_message", "label",
        std::string_view(R"({"start_ns":1700000000000000000,"end_ns":1700000001000000000,"label":1})"));
  write("label_message", "reordered_spaces",
        std::string_view(R"({ "label": 0, "end_ns": 2000, "start_ns": 1000, "extra": [1, 2.5, null] })"));
  write("label_message", "bad_range", std::string_view(R"({"start_ns":5,"end_ns":5,"label":2})"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: fuzz_make_corpus OUTPUT_DIR [SOURCE_DIR]\n";
    return 2;
  }
  try {
    g_out = argv[1];
    const fs::path source = argc == 3 ? fs::path(argv[2]) : fs::path(SENSORGATE_SOURCE_DIR);
    frame_batches();
    uplink_messages();
    model_envelopes();
    serial_streams();
    openbci_streams();
    recordings();
    configs(source);
    spool_segments();
    label_messages();
  } catch (const std::exception& e) {
    std::cerr << "fuzz_make_corpus: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
