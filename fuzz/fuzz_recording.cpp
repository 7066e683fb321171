// The recording readers of the simulator (read_recording: EDF/BDF through EDFlib, CSV,
// OpenBCI GUI text, ARFF, plain numeric text) and parse_channel_spec. EDFlib reads only
// from a path, so each input is written to a file in a private temporary directory. Byte 0
// picks the target:
//   0: the rest as "input.edf" (EDF/BDF reader),
//   1: as "input.arff" (ARFF reader),
//   2: as "input.txt" (the content decides: CSV, OpenBCI GUI text, ARFF, plain numbers),
//   3: as a channel spec for parse_channel_spec over fixed channel names;
// byte 1 the options: bit 0 a sample rate of 250 Hz, bit 1 the channel spec "0", bit 2
// resampling to 100 Hz (only for short inputs).
// Only RecordingError (std::invalid_argument for a channel spec) is an expected failure.
// Invariants of a recording read: at least one channel, frames x channels samples, a
// finite positive rate, one label per frame or none, finite samples.

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "sensorgate/sim/recording.hpp"

namespace {

namespace fs = std::filesystem;
namespace sim = sensorgate::sim;

fs::path write_input(const char* name, const std::uint8_t* data, std::size_t size) {
  const fs::path path = sensorgate::fuzz::scratch_directory() / name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  FUZZ_CHECK(f != nullptr);
  FUZZ_CHECK(size == 0 || std::fwrite(data, 1, size, f) == size);
  FUZZ_CHECK(std::fclose(f) == 0);
  return path;
}

void check_recording(const sim::Recording& rec) {
  FUZZ_CHECK(rec.channels() >= 1);
  FUZZ_CHECK(rec.samples.size() == rec.frames() * rec.channels());
  FUZZ_CHECK(std::isfinite(rec.sample_rate_hz) && rec.sample_rate_hz > 0);
  FUZZ_CHECK(rec.labels.empty() || rec.labels.size() == rec.frames());
  for (const float x : rec.samples) FUZZ_CHECK(std::isfinite(x));
}

void read(const char* name, const std::uint8_t* data, std::size_t size, std::uint8_t flags) {
  sim::ReadOptions options;
  if ((flags & 1U) != 0) options.sample_rate_hz = 250.0;
  if ((flags & 2U) != 0) options.channel_spec = "0";
  if ((flags & 4U) != 0 && size < 2048) options.resample_to_hz = 100.0;
  const fs::path path = write_input(name, data, size);
  try {
    const sim::Recording rec = sim::read_recording(path, options);
    check_recording(rec);
    if (options.channel_spec == "0") FUZZ_CHECK(rec.channels() == 1);
    if (options.resample_to_hz) FUZZ_CHECK(rec.sample_rate_hz == 100.0);
  } catch (const sim::RecordingError& e) {
    // What the readers promise: the message starts with the file name.
    FUZZ_CHECK(std::string_view(e.what()).starts_with(path.string()));
  }
}

void channel_spec(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string> kNames = {"Fp1", "Fp2", "C3", "Cz", "C4", "EEG Fpz-Cz", "O1", "3", "cz2"};
  const std::string_view spec(reinterpret_cast<const char*>(data), size);
  try {
    const auto indices = sim::parse_channel_spec(spec, kNames);
    FUZZ_CHECK(!indices.empty());
    std::set<std::size_t> seen;
    for (const std::size_t i : indices) {
      FUZZ_CHECK(i < kNames.size());
      FUZZ_CHECK(seen.insert(i).second);  // no channel twice
    }
  } catch (const std::invalid_argument&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  sensorgate::fuzz::quiet_logging();
  sensorgate::fuzz::make_scratch_directory("recording");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t* rest = data + 2;
  const std::size_t rest_size = size - 2;
  switch (data[0] % 4) {
    case 0: read("input.edf", rest, rest_size, data[1]); break;
    case 1: read("input.arff", rest, rest_size, data[1]); break;
    case 2: read("input.txt", rest, rest_size, data[1]); break;
    default: channel_spec(rest, rest_size); break;
  }
  return 0;
}
