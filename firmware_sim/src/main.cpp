// sensorgate-sim: simulated EEG headsets publishing FrameBatches over MQTT or a serial line.
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <charconv>
#include <thread>

#include "sensorgate/common/cli.hpp"
#include "sensorgate/common/mqtt_cli_flags.hpp"
#include "sensorgate/common/mqtt_connection.hpp"
#include "sensorgate/common/runtime.hpp"
#include "sensorgate/common/stop_signal.hpp"
#include "sensorgate/sim/mqtt_frame_publisher.hpp"
#include "sensorgate/sim/progress_line.hpp"
#include "sensorgate/sim/serial_frame_writer.hpp"
#include "sensorgate/sim/simulator.hpp"

namespace {

struct ReplaySettings {
  std::string path;
  std::string channels;       ///< channel spec, e.g. "0-15" or "C3,Cz,C4"; empty: all
  double file_rate_hz = 0.0;  ///< the rate of a file that does not state one
  double skip_s = 0.0;        ///< start this far into the file, resuming the device's stream
};

struct Settings {
  sensorgate::sim::PublisherOptions mqtt;
  sensorgate::sim::SimulatorOptions sim;
  ReplaySettings replay;
  /// Write to this serial device instead of publishing over MQTT (serial.port).
  std::optional<sensorgate::sim::SerialWriterOptions> serial;
  std::string log_level;
};

/// Reads the recording to replay, with channel selection and resampling to the
/// configured rate (when one is configured).
std::shared_ptr<const sensorgate::sim::Recording> load_replay(const Settings& s) {
  sensorgate::sim::ReadOptions options;
  options.channel_spec = s.replay.channels;
  if (s.replay.file_rate_hz > 0) options.sample_rate_hz = s.replay.file_rate_hz;
  if (s.sim.shape.sample_rate_hz > 0) options.resample_to_hz = s.sim.shape.sample_rate_hz;
  auto recording = sensorgate::sim::read_recording(s.replay.path, options);
  spdlog::info("sim: replaying {}: {} channels at {} Hz, {:.1f} s", s.replay.path, recording.channels(),
               recording.sample_rate_hz, static_cast<double>(recording.frames()) / recording.sample_rate_hz);
  return std::make_shared<const sensorgate::sim::Recording>(std::move(recording));
}

double parse_speed(sensorgate::ConfigFile& file) {
  const std::string text = file.get_string(
      "sim.speed", "1", "\"max\" = as fast as the broker takes it; a number = real-time factor (1 = real time)");
  if (text == "max") return 0.0;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || !(value > 0)) {
    file.fail("sim.speed", R"(expected "max" or a positive real-time factor such as "1" or "10", got ")" + text + "\"");
  }
  return value;
}

/// [serial] and what an OpenBCI format demands of the stream: one device of 8 (Cyton) or
/// 16 (Daisy) channels at 250 or 125 Hz, and no fault its 8-bit packet counter cannot
/// carry (a duplicate or a reordered packet would read as 255 lost ones).
void read_serial_settings(sensorgate::ConfigFile& file, Settings& s) {
  using sensorgate::sim::SerialWireFormat;
  sensorgate::sim::SerialWriterOptions serial;
  serial.port =
      file.get_string("serial.port", "", "Serial device to write to instead of publishing over MQTT; \"\" = MQTT");
  serial.baud = static_cast<std::uint32_t>(
      file.get_int("serial.baud", 115200, 50, 4'000'000, "Baud rate (8N1, raw); a pty ignores it"));
  const auto format = file.get_choice(
      "serial.format", "framed", {"framed", "openbci-cyton", "openbci-daisy"},
      "framed: COBS + CRC frames; openbci-cyton: 1 device, 8 ch at 250 Hz; openbci-daisy: 1 device, 16 ch at 125 Hz");
  serial.format = format == "openbci-cyton"   ? SerialWireFormat::kOpenBciCyton
                  : format == "openbci-daisy" ? SerialWireFormat::kOpenBciDaisy
                                              : SerialWireFormat::kFramed;
  serial.gain = file.get_double("serial.gain", sensorgate::kOpenBciDefaultGain, 1.0, 24.0,
                                "OpenBCI: the ADS1299 gain, for uV -> counts");
  serial.garbage_rate = file.get_double("faults.serial_garbage_rate", 0.0, 0.0, 1.0,
                                        "Serial only: probability of a run of random bytes before a batch");
  serial.seed = s.sim.faults.seed;
  if (serial.port.empty()) return;
  if (serial.format != SerialWireFormat::kFramed) {
    const bool daisy = serial.format == SerialWireFormat::kOpenBciDaisy;
    const auto& f = s.sim.faults;
    if (f.duplicate_rate > 0) file.fail("faults.duplicate_rate", "not possible with an OpenBCI serial format");
    if (f.reorder_rate > 0) file.fail("faults.reorder_rate", "not possible with an OpenBCI serial format");
    if (f.delay_rate > 0) file.fail("faults.delay_rate", "not possible with an OpenBCI serial format");
    if (s.sim.devices != 1) file.fail("sim.devices", "an OpenBCI serial line carries one device");
    if (s.replay.path.empty()) {
      // Synthetic EEG takes the board's shape unless told otherwise, and must match it.
      if (s.sim.shape.sample_rate_hz == 0) s.sim.shape.sample_rate_hz = daisy ? 125.0 : 250.0;
      if (s.sim.shape.channels != (daisy ? 16 : 8)) {
        file.fail("sim.channels", std::string("must be ") + (daisy ? "16 for openbci-daisy" : "8 for openbci-cyton"));
      }
    }
    if (s.sim.shape.sample_rate_hz != 0 && s.sim.shape.sample_rate_hz != (daisy ? 125.0 : 250.0)) {
      file.fail("sim.sample_rate_hz",
                std::string("must be ") + (daisy ? "125 for openbci-daisy" : "250 for openbci-cyton"));
    }
  }
  s.serial = serial;
}

/// An OpenBCI format carries exactly the board's shape; a replay must have it.
void check_openbci_replay(const Settings& s) {
  using sensorgate::sim::SerialWireFormat;
  if (!s.sim.replay || s.serial->format == SerialWireFormat::kFramed) return;
  const bool daisy = s.serial->format == SerialWireFormat::kOpenBciDaisy;
  const std::size_t channels = daisy ? 16 : 8;
  const double rate = daisy ? 125.0 : 250.0;
  if (s.sim.replay->channels() != channels || s.sim.replay->sample_rate_hz != rate) {
    throw std::runtime_error(fmt::format(
        "{}: {} channels at {} Hz, but {} carries {} channels at {} Hz (pick channels with --channels, resample with "
        "--rate)",
        s.replay.path, s.sim.replay->channels(), s.sim.replay->sample_rate_hz,
        daisy ? "openbci-daisy" : "openbci-cyton", channels, rate));
  }
}

/// [signal]: the parts of the synthetic EEG and their amplitudes (docs/synthetic-eeg.md).
void read_signal_settings(sensorgate::ConfigFile& file, sensorgate::sim::SignalShape& shape) {
  constexpr double kMaxUv = 1e6;
  shape.background_uv = file.get_double("signal.background_uv", shape.background_uv, 0.0, kMaxUv,
                                        "RMS of the 1/f background on every channel, uV");
  shape.alpha_uv = file.get_double("signal.alpha_uv", shape.alpha_uv, 0.0, kMaxUv,
                                   "Alpha bursts: peak amplitude on the most posterior channel, uV");
  shape.alpha_hz = file.get_double("signal.alpha_hz", shape.alpha_hz, 1.0, 100.0, "Alpha bursts: centre frequency, Hz");
  shape.alpha_burst_s =
      file.get_double("signal.alpha_burst_s", shape.alpha_burst_s, 0.1, 3600.0, "Alpha bursts: mean burst length, s");
  shape.alpha_gap_s = file.get_double("signal.alpha_gap_s", shape.alpha_gap_s, 0.01, 3600.0,
                                      "Alpha bursts: mean pause between bursts, s");
  shape.line_uv = file.get_double("signal.line_uv", shape.line_uv, 0.0, kMaxUv,
                                  "Mains pickup amplitude (each channel 0.5-1.5x this), uV; 0 = off");
  shape.line_hz = file.get_double("signal.line_hz", shape.line_hz, 1.0, 1000.0, "Mains frequency, 50 or 60 Hz");
  shape.blinks_per_s =
      file.get_double("signal.blinks_per_s", shape.blinks_per_s, 0.0, 10.0, "Eye blinks: mean rate per second");
  shape.blink_uv =
      file.get_double("signal.blink_uv", shape.blink_uv, 0.0, kMaxUv, "Eye blinks: peak on channels 0-1, uV");
  shape.muscle_per_s = file.get_double("signal.muscle_per_s", shape.muscle_per_s, 0.0, 10.0,
                                       "Muscle (EMG) artefacts: mean rate per second");
  shape.muscle_uv = file.get_double("signal.muscle_uv", shape.muscle_uv, 0.0, kMaxUv,
                                    "Muscle artefacts: RMS at the burst's middle, uV");
  shape.muscle_s = file.get_double("signal.muscle_s", shape.muscle_s, 0.01, 60.0, "Muscle artefacts: mean length, s");
  shape.offset_uv = file.get_double("signal.offset_uv", shape.offset_uv, -kMaxUv, kMaxUv,
                                    "Constant added to every sample (an amplifier's DC offset), uV");
}

/// [anomalies]: labelled anomalies at a rate or on a schedule, and the labels file.
void read_anomaly_settings(sensorgate::ConfigFile& file, sensorgate::sim::AnomalyOptions& a) {
  using sensorgate::sim::AnomalyChannels;
  a.rate_per_hour = file.get_double("anomalies.rate_per_hour", 0.0, 0.0, 1e6,
                                    "Random anomalies per device and hour; 0 = none (a schedule still applies)");
  const std::string types =
      file.get_string("anomalies.types", "spike,seizure,flat,pop,disconnect",
                      "Types random anomalies are drawn from, comma-separated: spike, seizure, flat, pop, disconnect");
  a.types.clear();
  for (std::size_t from = 0; from <= types.size();) {
    const auto to = std::min(types.find(',', from), types.size());
    const auto name = types.substr(from, to - from);
    if (name.find_first_not_of(' ') != std::string::npos) {
      const auto type = sensorgate::sim::parse_anomaly_type(name);
      if (!type) file.fail("anomalies.types", "unknown type \"" + name + "\" (spike, seizure, flat, pop, disconnect)");
      a.types.push_back(*type);
    }
    from = to + 1;
  }
  if (a.types.empty()) file.fail("anomalies.types", "needs at least one type");
  try {
    a.channels = AnomalyChannels::parse(
        file.get_string("anomalies.channels", "",
                        R"(Channels of random anomalies: "" = the type's default, "all", or indices such as "0 3")"));
  } catch (const std::invalid_argument& e) {
    file.fail("anomalies.channels", e.what());
  }
  try {
    a.schedule = sensorgate::sim::parse_anomaly_schedule(
        file.get_string("anomalies.schedule", "",
                        "Fixed anomalies: DEVICE:TYPE:START_S[:DURATION_S[:CHANNELS]] entries separated by ';'"));
  } catch (const std::invalid_argument& e) {
    file.fail("anomalies.schedule", e.what());
  }
  a.min_gap_s = file.get_double("anomalies.min_gap_s", a.min_gap_s, 0.0, 1e6,
                                "Quiet seconds after a random anomaly before the next may start");
  a.spike_uv = file.get_double("anomalies.spike_uv", a.spike_uv, 0.0, 1e6, "Spike: peak amplitude, uV");
  a.spike_ms = file.get_double("anomalies.spike_ms", a.spike_ms, 1.0, 10'000.0,
                               "Spike: length of its interval (spike plus after-wave), ms");
  a.seizure_uv = file.get_double("anomalies.seizure_uv", a.seizure_uv, 0.0, 1e6,
                                 "Seizure-like spike-and-wave burst: amplitude, uV");
  a.seizure_s = file.get_double("anomalies.seizure_s", a.seizure_s, 0.01, 3600.0, "Seizure: length, s");
  a.seizure_hz =
      file.get_double("anomalies.seizure_hz", a.seizure_hz, 0.1, 100.0, "Seizure: spike-and-wave repetition rate, Hz");
  a.flat_s = file.get_double("anomalies.flat_s", a.flat_s, 0.01, 3600.0,
                             "Flat line: the channel holds its value this many seconds");
  a.pop_uv = file.get_double("anomalies.pop_uv", a.pop_uv, 0.0, 1e6, "Electrode pop: step size, uV");
  a.pop_s = file.get_double("anomalies.pop_s", a.pop_s, 0.01, 3600.0,
                            "Electrode pop: length, s (decay time constant pop_s / 5)");
  a.disconnect_s = file.get_double("anomalies.disconnect_s", a.disconnect_s, 0.01, 3600.0, "Disconnect: length, s");
  a.disconnect_rail = file.get_choice("anomalies.disconnect", "rail", {"rail", "zero"},
                                      "Disconnect: the channel reads the rail (+-rail_uv) or zero") == "rail";
  a.rail_uv = file.get_double("anomalies.rail_uv", a.rail_uv, 0.0, 1e9,
                              "Disconnect: the rail, uV (ADS1299 at gain 24: 187500)");
  a.labels_path =
      file.get_string("anomalies.labels", "", "Ground truth: CSV file of injected anomaly intervals; \"\" = no file");
}

Settings read_settings(sensorgate::ConfigFile& file) {
  Settings s;
  // A clean session by default: the simulator only publishes, it has nothing to resume.
  s.mqtt.connection = sensorgate::MqttConnectionOptions::from(file, "sensorgate-sim-" + sensorgate::host_name(), true,
                                                              "\"sensorgate-sim-<host name>\"");
  s.mqtt.topic_prefix =
      file.get_string("mqtt.topic_prefix", "sensorgate", "Topics are <topic_prefix>/<device_id>/frames");
  s.mqtt.max_in_flight = static_cast<std::size_t>(
      file.get_int("mqtt.max_in_flight", 256, 1, 65535, "Most QoS 1 publishes awaiting the broker's acknowledgement"));
  s.sim.devices = static_cast<std::uint32_t>(
      file.get_int("sim.devices", 4, 1, 100'000, "Number of simulated headsets; device i is <device_prefix>-<iiii>"));
  s.sim.device_prefix = file.get_string("sim.device_prefix", "sim", "Prefix of the device ids");
  s.sim.shape.channels =
      static_cast<std::uint16_t>(file.get_int("sim.channels", 16, 1, 256, "Channels per synthetic headset"));
  // 0: not configured; synthetic EEG then runs at 256 Hz and a replay at the file's rate.
  s.sim.shape.sample_rate_hz = file.get_double("sim.sample_rate_hz", 0.0, 1.0, 100'000.0,
                                               {"Sampling rate in Hz; a replay is resampled to it",
                                                "not set: 256 Hz for synthetic EEG, the file's own rate for a replay"});
  s.sim.device_id = file.get_string("sim.device_id", "",
                                    R"(The id of the only device when devices = 1; "" = "<device_prefix>-0000")");
  s.replay.path = file.get_string("replay.file", "",
                                  "Replay this recording (EDF/BDF, CSV, OpenBCI, ARFF, text) instead of synthetic EEG");
  s.replay.channels = file.get_string(
      "replay.channels", "", R"(Channels to replay: indices, ranges or names, e.g. "0-15" or "C3,Cz,C4"; "" = all)");
  s.replay.file_rate_hz = file.get_double("replay.file_rate_hz", 0.0, 0.0, 100'000.0,
                                          "Sampling rate of a file that states none, Hz; 0 = none given");
  s.replay.skip_s = file.get_double("replay.skip_s", 0.0, 0.0, 1e9,
                                    "Start this many seconds into the file; sequence numbers and time continue");
  s.sim.publish_labels = file.get_bool("replay.publish_labels", false,
                                       "Publish the file's labels on <prefix>/<device>/labels (MQTT only)");
  s.sim.batch_frames =
      static_cast<std::uint32_t>(file.get_int("sim.batch_frames", 32, 1, 65536, "Frames per published FrameBatch"));
  // -1: not configured; synthetic EEG then runs 10 s and a replay to the file's end.
  s.sim.duration_s = file.get_double("sim.duration_s", -1.0, 0.0, 1e9,
                                     {"Seconds of signal per device; 0 = until Ctrl-C (a replay: to the file's end)",
                                      "not set: 10 s of synthetic EEG, or the whole replayed file"});
  s.sim.speed = parse_speed(file);
  s.sim.seed =
      static_cast<std::uint64_t>(file.get_int("sim.seed", 1, 0, INT64_MAX, "Random seed; same seed, same signal"));
  s.sim.start_time_ns = file.get_int("sim.start_time_ns", 0, 0, INT64_MAX,
                                     "Device time of frame 0, ns since the epoch; 0 = now, rounded up to a second");
  read_signal_settings(file, s.sim.shape);
  read_anomaly_settings(file, s.sim.anomalies);
  auto& f = s.sim.faults;
  f.drop_rate = file.get_double("faults.drop_rate", 0.0, 0.0, 1.0, "Probability a batch is dropped");
  f.duplicate_rate = file.get_double("faults.duplicate_rate", 0.0, 0.0, 1.0, "Probability a batch is sent twice");
  f.reorder_rate = file.get_double("faults.reorder_rate", 0.0, 0.0, 1.0,
                                   "Probability a batch is held back until reorder_depth later batches went out");
  f.reorder_depth = static_cast<std::uint32_t>(
      file.get_int("faults.reorder_depth", 1, 1, 1000, "Later batches a reordered batch waits for"));
  f.delay_rate = file.get_double("faults.delay_rate", 0.0, 0.0, 1.0,
                                 "Probability a batch is held back by delay_ms of device time");
  f.delay_ms =
      file.get_double("faults.delay_ms", 0.0, 0.0, 3'600'000.0, "Device time a delayed batch is held back, ms");
  f.burst_rate =
      file.get_double("faults.burst_rate", 0.0, 0.0, 1.0, "Probability a burst of burst_batches batches is lost");
  f.burst_batches =
      static_cast<std::uint32_t>(file.get_int("faults.burst_batches", 4, 1, 100'000, "Batches per lost burst"));
  f.clock_skew_ppm = file.get_double("faults.clock_skew_ppm", 0.0, -100'000.0, 100'000.0,
                                     "The device's reported timestamps run fast (+) or slow (-), ppm");
  f.seed = static_cast<std::uint64_t>(file.get_int("faults.seed", 1, 0, INT64_MAX, "Seed of the fault injection"));
  f.log_path = file.get_string("faults.log", "", "JSON-lines file listing every injected fault; \"\" = none");
  read_serial_settings(file, s);
  s.log_level = file.get_choice("log.level", "info", {"trace", "debug", "info", "warn", "error", "off"},
                                "Log level; --log-level overrides it");
  file.reject_unknown_keys();
  return s;
}

int run(int argc, char** argv) {
  sensorgate::StopSignal stop_signal;
  CLI::App app{"sensorgate-sim: simulated EEG headsets publishing frame batches over MQTT (QoS 1)", "sensorgate-sim"};
  sensorgate::CommonFlags common;
  common.add_to(app);
  sensorgate::MqttCliFlags mqtt_flags;
  std::optional<std::string> mqtt_url;
  std::optional<std::int64_t> devices;
  std::optional<double> duration;
  std::optional<std::string> speed;
  std::optional<std::int64_t> seed;
  std::optional<std::int64_t> channels;
  std::optional<double> rate;
  std::optional<std::int64_t> batch;
  std::optional<std::int64_t> start;
  std::optional<double> drop_rate;
  std::optional<double> duplicate_rate;
  std::optional<double> reorder_rate;
  std::optional<std::int64_t> reorder_depth;
  std::optional<double> delay_rate;
  std::optional<double> delay_ms;
  std::optional<double> burst_rate;
  std::optional<std::int64_t> burst_batches;
  std::optional<double> skew_ppm;
  std::optional<std::string> fault_log;
  std::optional<std::string> replay;
  std::optional<std::string> replay_channels;
  std::optional<double> replay_file_rate;
  std::optional<double> replay_skip;
  std::optional<bool> publish_labels;
  std::optional<std::string> device_id;
  std::optional<std::string> serial_port;
  std::optional<std::string> serial_format;
  std::optional<std::int64_t> baud;
  std::optional<double> garbage_rate;
  std::optional<double> line_hz;
  std::optional<double> anomaly_rate;
  std::optional<std::string> anomaly_types;
  std::optional<std::string> anomaly_schedule;
  std::optional<std::string> labels;
  app.add_option("--mqtt", mqtt_url, "MQTT broker URL (mqtt.url)");
  app.add_option("--devices", devices, "number of simulated headsets (sim.devices)");
  app.add_option("--duration", duration, "seconds of signal per device, 0 = until Ctrl-C (sim.duration_s)");
  app.add_option("--speed", speed, "max, or a real-time factor: 1 = real time (sim.speed)");
  app.add_option("--seed", seed, "random seed; same seed, same signal (sim.seed)");
  app.add_option("--channel-count", channels, "channels per synthetic device (sim.channels)");
  app.add_option("--rate", rate, "sampling rate in Hz (sim.sample_rate_hz)");
  app.add_option("--batch-frames", batch, "frames per published batch (sim.batch_frames)");
  app.add_option("--start-time-ns", start, "device time of frame 0, ns since the epoch (sim.start_time_ns)");
  app.add_option("--replay", replay, "replay this recording (EDF/EDF+, CSV, OpenBCI GUI, ARFF, text) (replay.file)");
  app.add_option("--channels", replay_channels, "channels to replay, e.g. 0-15 or C3,Cz,C4 (replay.channels)");
  app.add_option("--file-rate", replay_file_rate, "sampling rate of a file that states none (replay.file_rate_hz)");
  app.add_option("--replay-skip", replay_skip,
                 "start this many seconds into the file; sequence numbers and device time continue from there, "
                 "so a second run resumes the first (replay.skip_s)");
  app.add_flag("--publish-labels", publish_labels,
               "publish the file's labels on <prefix>/<device>/labels (MQTT only) (replay.publish_labels)");
  app.add_option("--device-id", device_id, "id of the single simulated device (sim.device_id)");
  app.add_option("--serial", serial_port,
                 "write to this serial device (a pty, /dev/ttyUSB1) instead of MQTT (serial.port)");
  app.add_option("--serial-format", serial_format, "framed|openbci-cyton|openbci-daisy (serial.format)");
  app.add_option("--baud", baud, "serial baud rate (serial.baud)");
  auto* faults = app.add_option_group("Fault injection", "every injected fault is written to --fault-log");
  faults->add_option("--drop-rate", drop_rate, "probability a batch is dropped (faults.drop_rate)");
  faults->add_option("--duplicate-rate", duplicate_rate, "probability a batch is sent twice (faults.duplicate_rate)");
  faults->add_option("--reorder-rate", reorder_rate, "probability a batch is sent late (faults.reorder_rate)");
  faults->add_option("--reorder-depth", reorder_depth, "...after this many later batches (faults.reorder_depth)");
  faults->add_option("--delay-rate", delay_rate, "probability a batch is delayed (faults.delay_rate)");
  faults->add_option("--delay-ms", delay_ms, "...by this much device time (faults.delay_ms)");
  faults->add_option("--burst-rate", burst_rate, "probability a burst of batches is lost (faults.burst_rate)");
  faults->add_option("--burst-batches", burst_batches, "batches per lost burst (faults.burst_batches)");
  faults->add_option("--clock-skew-ppm", skew_ppm, "reported device clock error in ppm (faults.clock_skew_ppm)");
  faults->add_option("--serial-garbage-rate", garbage_rate,
                     "probability of random bytes on the serial line before a batch (faults.serial_garbage_rate)");
  faults->add_option("--fault-log", fault_log, "JSON-lines file listing every injected fault (faults.log)");
  app.add_option("--line-hz", line_hz, "mains frequency of the synthetic line noise, 50 or 60 (signal.line_hz)");
  auto* anomalies = app.add_option_group("Anomalies", "labelled anomalies; ground truth goes to --labels");
  anomalies->add_option("--anomaly-rate-per-hour", anomaly_rate,
                        "random anomalies per device and hour (anomalies.rate_per_hour)");
  anomalies->add_option("--anomaly-types", anomaly_types,
                        "comma-separated: spike,seizure,flat,pop,disconnect (anomalies.types)");
  anomalies->add_option("--anomaly-schedule", anomaly_schedule,
                        "DEVICE:TYPE:START_S[:DURATION_S[:CHANNELS]] entries separated by ';' (anomalies.schedule)");
  anomalies->add_option("--labels", labels, "CSV file of injected anomaly intervals (anomalies.labels)");
  mqtt_flags.add_to(app);
  if (int rc = sensorgate::parse_cli(app, argc, argv); rc >= 0) return rc;
  if (int rc = common.print_config_if_asked([](sensorgate::ConfigFile& file) { (void)read_settings(file); }); rc >= 0) {
    return rc;
  }

  Settings settings;
  try {
    auto file = common.load_config();
    if (mqtt_url) file.set_override("mqtt.url", *mqtt_url, "--mqtt");
    mqtt_flags.apply_to(file);
    if (devices) file.set_override("sim.devices", *devices, "--devices");
    if (duration) file.set_override("sim.duration_s", *duration, "--duration");
    if (speed) file.set_override("sim.speed", *speed, "--speed");
    if (seed) file.set_override("sim.seed", *seed, "--seed");
    if (channels) file.set_override("sim.channels", *channels, "--channel-count");
    if (rate) file.set_override("sim.sample_rate_hz", *rate, "--rate");
    if (batch) file.set_override("sim.batch_frames", *batch, "--batch-frames");
    if (start) file.set_override("sim.start_time_ns", *start, "--start-time-ns");
    if (drop_rate) file.set_override("faults.drop_rate", *drop_rate, "--drop-rate");
    if (duplicate_rate) file.set_override("faults.duplicate_rate", *duplicate_rate, "--duplicate-rate");
    if (reorder_rate) file.set_override("faults.reorder_rate", *reorder_rate, "--reorder-rate");
    if (reorder_depth) file.set_override("faults.reorder_depth", *reorder_depth, "--reorder-depth");
    if (delay_rate) file.set_override("faults.delay_rate", *delay_rate, "--delay-rate");
    if (delay_ms) file.set_override("faults.delay_ms", *delay_ms, "--delay-ms");
    if (burst_rate) file.set_override("faults.burst_rate", *burst_rate, "--burst-rate");
    if (burst_batches) file.set_override("faults.burst_batches", *burst_batches, "--burst-batches");
    if (skew_ppm) file.set_override("faults.clock_skew_ppm", *skew_ppm, "--clock-skew-ppm");
    if (fault_log) file.set_override("faults.log", *fault_log, "--fault-log");
    if (replay) file.set_override("replay.file", *replay, "--replay");
    if (replay_channels) file.set_override("replay.channels", *replay_channels, "--channels");
    if (replay_file_rate) file.set_override("replay.file_rate_hz", *replay_file_rate, "--file-rate");
    if (replay_skip) file.set_override("replay.skip_s", *replay_skip, "--replay-skip");
    if (publish_labels) file.set_override("replay.publish_labels", *publish_labels, "--publish-labels");
    if (device_id) file.set_override("sim.device_id", *device_id, "--device-id");
    if (serial_port) file.set_override("serial.port", *serial_port, "--serial");
    if (serial_format) file.set_override("serial.format", *serial_format, "--serial-format");
    if (baud) file.set_override("serial.baud", *baud, "--baud");
    if (garbage_rate) file.set_override("faults.serial_garbage_rate", *garbage_rate, "--serial-garbage-rate");
    if (line_hz) file.set_override("signal.line_hz", *line_hz, "--line-hz");
    if (anomaly_rate) file.set_override("anomalies.rate_per_hour", *anomaly_rate, "--anomaly-rate-per-hour");
    if (anomaly_types) file.set_override("anomalies.types", *anomaly_types, "--anomaly-types");
    if (anomaly_schedule) file.set_override("anomalies.schedule", *anomaly_schedule, "--anomaly-schedule");
    if (labels) file.set_override("anomalies.labels", *labels, "--labels");
    settings = read_settings(file);
  } catch (const sensorgate::ConfigError& e) {
    return sensorgate::report_config_error(e);
  }
  if (common.check_config) {
    fmt::print("configuration valid ({})\n", common.config_path.empty() ? "defaults and flags" : common.config_path);
    return 0;
  }
  sensorgate::init_logging("sim", common.log_level.value_or(settings.log_level));

  try {
    if (!settings.replay.path.empty()) {
      settings.sim.replay = load_replay(settings);
      if (settings.sim.duration_s < 0) settings.sim.duration_s = 0;
      settings.sim.replay_skip_frames =
          static_cast<std::uint64_t>(std::llround(settings.replay.skip_s * settings.sim.replay->sample_rate_hz));
      if (settings.sim.replay_skip_frames >= settings.sim.replay->frames()) {
        spdlog::critical("sim: --replay-skip {} s is past the end of {} ({:.1f} s)", settings.replay.skip_s,
                         settings.replay.path,
                         static_cast<double>(settings.sim.replay->frames()) / settings.sim.replay->sample_rate_hz);
        return 2;
      }
    } else {
      if (settings.sim.shape.sample_rate_hz == 0) settings.sim.shape.sample_rate_hz = 256.0;
      if (settings.sim.duration_s < 0) settings.sim.duration_s = 10;
    }
    std::unique_ptr<sensorgate::sim::BatchPublisher> output;
    std::string destination;
    sensorgate::sim::SerialFrameWriter* serial_writer = nullptr;
    if (settings.serial) {
      check_openbci_replay(settings);
      auto writer = std::make_unique<sensorgate::sim::SerialFrameWriter>(*settings.serial);
      writer->open();
      serial_writer = writer.get();
      output = std::move(writer);
      destination = "serial " + settings.serial->port;
    } else {
      auto mqtt = std::make_unique<sensorgate::sim::MqttFramePublisher>(settings.mqtt);
      mqtt->connect();
      output = std::move(mqtt);
      destination = settings.mqtt.connection.url;
    }
    auto& publisher = *output;
    sensorgate::sim::Simulator simulator(settings.sim, publisher);
    const auto& s = settings.sim;
    spdlog::info("sim: {} device(s) x {} ch @ {} Hz, seed {}, speed {}, duration {}, start time {} ns, to {}",
                 s.devices, simulator.shape().channels, simulator.shape().sample_rate_hz, s.seed,
                 s.speed > 0 ? fmt::format("{}x", s.speed) : "max",
                 s.duration_s > 0 ? fmt::format("{} s", s.duration_s) : "until stopped", simulator.start_time_ns(),
                 destination);

    std::atomic<bool> stop{false};
    std::atomic<bool> done{false};
    std::exception_ptr failure;
    const auto started = std::chrono::steady_clock::now();
    std::thread runner([&] {
      try {
        simulator.run(stop);
      } catch (...) {
        failure = std::current_exception();
      }
      done = true;
    });
    // The progress line draws on stderr when it is a terminal (and logs are not more verbose).
    sensorgate::sim::ProgressLine progress(simulator.frames_to_send(), simulator.shape().sample_rate_hz,
                                           isatty(STDERR_FILENO) != 0 ? stderr : nullptr);
    const auto running_for = [&] { return std::chrono::steady_clock::now() - started; };
    while (!done.load()) {
      if (stop_signal.wait_for(std::chrono::milliseconds(100)) != 0) {
        spdlog::info("sim: signal received, stopping");
        stop = true;
      }
      progress.update(simulator.frames_per_device(), running_for());
    }
    progress.finish(simulator.frames_per_device(), running_for());
    runner.join();
    if (failure) std::rethrow_exception(failure);
    publisher.finish(std::chrono::seconds(30));
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double samples = static_cast<double>(simulator.frames_per_device()) * s.devices *
                           static_cast<double>(simulator.shape().channels);
    spdlog::info("sim: published {} batches ({} frames per device, {:.1f} MB) in {:.2f} s: {:.0f} samples/s",
                 publisher.published(), simulator.frames_per_device(), static_cast<double>(publisher.bytes()) / 1e6,
                 elapsed, elapsed > 0 ? samples / elapsed : 0.0);
    if (serial_writer != nullptr && settings.serial->garbage_rate > 0) {
      spdlog::info("sim: serial garbage: {} runs, {} bytes", serial_writer->garbage_runs(),
                   serial_writer->garbage_bytes());
    }
    if (s.anomalies.enabled()) {
      spdlog::info("sim: injected {} labelled anomalies{}", simulator.anomalies_injected(),
                   s.anomalies.labels_path.empty() ? "" : " (labels in " + s.anomalies.labels_path + ")");
    }
    if (s.faults.any_batch_faults()) {
      const auto& f = simulator.faults();
      spdlog::info("sim: injected faults (frames): dropped {}, duplicated {}, reordered {}, delayed {}",
                   f.dropped_frames, f.duplicated_frames, f.reordered_frames, f.delayed_frames);
    }
  } catch (const sensorgate::MqttConnectError& e) {
    spdlog::critical("sim: {}", e.what());
    return sensorgate::kExitMqttConnectFailed;
  } catch (const std::exception& e) {
    spdlog::critical("sim: {}", e.what());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return sensorgate::guarded_main(argc, argv, run);
}
