#pragma once
// SignalInput: the signal an offline tool plays through the gateway's processing, named by
// one spec string: "synthetic:SECONDS" (clean synthetic EEG) or a recording file (EDF/EDF+,
// CSV, OpenBCI text, ARFF). Shared by `sensorgate-gateway evaluate` and `compare`.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sensorgate/sim/recording.hpp"

namespace sensorgate::sim {

inline constexpr std::string_view kSyntheticSpecPrefix = "synthetic:";

struct SignalInput {
  std::uint16_t channels = 0;
  double rate_hz = 0;
  std::vector<float> samples;  ///< frame-major
  [[nodiscard]] std::size_t frames() const { return channels == 0 ? 0 : samples.size() / channels; }
};

[[nodiscard]] inline bool is_synthetic_spec(std::string_view spec) {
  return spec.starts_with(kSyntheticSpecPrefix);
}

/// Reads `spec`: synthetic EEG from `seed` (up to a day of it, which is generated into
/// memory), or the recording through `read`. Throws std::runtime_error naming the spec
/// (malformed seconds, 0 or more than 256 channels) and RecordingError.
SignalInput read_signal_input(const std::string& spec, const ReadOptions& read, std::uint64_t seed);

}  // namespace sensorgate::sim
