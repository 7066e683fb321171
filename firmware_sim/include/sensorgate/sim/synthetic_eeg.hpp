#pragma once
// SyntheticEeg: a deterministic multichannel EEG-like signal for one simulated headset.
// Per channel: 1/f ("pink") background noise, an alpha rhythm (8-12 Hz, amplitude
// waxing and waning, strongest on the back channels), 50 Hz line noise, and eye blinks on
// the two frontal channels. The same (seed, device index) always gives the same samples,
// however they are cut into batches, so tests recompute any window exactly.

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace sensorgate::sim {

struct SignalShape {
  double sample_rate_hz = 256.0;
  std::uint16_t channels = 16;
  double background_uv = 12.0;  ///< RMS of the pink background
  double alpha_uv = 20.0;       ///< peak alpha amplitude on the strongest channel
  double alpha_hz = 10.0;
  double line_uv = 3.0;  ///< 50 Hz mains pickup
  double line_hz = 50.0;
  double blinks_per_s = 0.2;
  double blink_uv = 120.0;
  /// Constant added to every sample (a DC offset as on raw amplifiers); 0 for clean EEG.
  double offset_uv = 0.0;
};

class SyntheticEeg {
 public:
  SyntheticEeg(std::uint64_t seed, std::uint32_t device_index, SignalShape shape);

  /// Writes the next `out.size() / channels` frames (frame-major) into `out`.
  void generate(std::span<float> out);

  [[nodiscard]] std::uint64_t frames_generated() const { return frame_; }
  [[nodiscard]] const SignalShape& shape() const { return shape_; }

 private:
  struct Channel {
    double b0 = 0, b1 = 0, b2 = 0;  // pink-noise filter state (Paul Kellet's economy filter)
    double alpha_gain = 0;
    double alpha_phase = 0;
    double line_phase = 0;
  };

  SignalShape shape_;
  std::mt19937_64 rng_;
  std::normal_distribution<double> white_{0.0, 1.0};
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
  std::vector<Channel> channels_;
  std::uint64_t frame_ = 0;
  double blink_left_s_ = 0;  // remaining time of the current blink
  double alpha_mod_phase_ = 0;
};

}  // namespace sensorgate::sim
