#include "sensorgate/sim/signal_input.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "sensorgate/kernels/moments.hpp"
#include "sensorgate/sim/synthetic_eeg.hpp"

namespace sensorgate::sim {
namespace {

double synthetic_seconds(const std::string& spec) {
  const std::string text = spec.substr(kSyntheticSpecPrefix.size());
  std::size_t used = 0;
  double seconds = 0;
  try {
    seconds = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  // The stream is generated into memory (16 x 256 floats a second: 1.4 GB a day).
  if (used != text.size() || !(seconds > 0) || seconds > 86400.0) {
    throw std::runtime_error("\"" + spec + "\": expected synthetic:SECONDS with 0 < SECONDS <= 86400");
  }
  return seconds;
}

}  // namespace

SignalInput read_signal_input(const std::string& spec, const ReadOptions& read, std::uint64_t seed) {
  SignalInput input;
  if (is_synthetic_spec(spec)) {
    const SignalShape shape;
    input.channels = shape.channels;
    input.rate_hz = shape.sample_rate_hz;
    const auto frames = static_cast<std::size_t>(std::llround(synthetic_seconds(spec) * shape.sample_rate_hz));
    input.samples.resize(frames * shape.channels);
    SyntheticEeg(seed, 0, shape).generate(input.samples);
    return input;
  }
  auto recording = read_recording(spec, read);
  if (recording.channels() == 0 || recording.channels() > kernels::kMaxChannels) {
    throw std::runtime_error(fmt::format("{}: {} channels (1-256 supported)", spec, recording.channels()));
  }
  input.channels = static_cast<std::uint16_t>(recording.channels());
  input.rate_hz = recording.sample_rate_hz;
  input.samples = std::move(recording.samples);
  return input;
}

}  // namespace sensorgate::sim
