#pragma once
// SyntheticEeg: a deterministic multichannel EEG-like signal for one simulated headset.
// Per channel: 1/f ("pink") background noise, alpha bursts (8-12 Hz, waxing and waning,
// strongest on the back channels), 50 or 60 Hz line noise, eye blinks on the frontal
// channels and short broadband muscle artefacts. Channel order is taken as front to back
// (channels 0 and 1 are Fp1/Fp2-like, the last ones occipital). The same (seed, device
// index, shape) always gives the same samples, however they are cut into batches, so
// tests recompute any window exactly. See docs/synthetic-eeg.md.

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "sensorgate/sim/fast_rng.hpp"

namespace sensorgate::sim {

/// What the synthetic signal is made of; every amplitude in microvolts, 0 turns a part off.
struct SignalShape {
  double sample_rate_hz = 256.0;
  std::uint16_t channels = 16;
  double background_uv = 12.0;  ///< RMS of the pink (1/f) background on every channel
  double alpha_uv = 20.0;       ///< peak alpha amplitude on the most posterior channel, mid-burst
  double alpha_hz = 10.0;       ///< centre alpha frequency; each burst is within +-5 % of it
  double alpha_burst_s = 2.0;   ///< mean alpha burst length
  double alpha_gap_s = 2.0;     ///< mean pause between alpha bursts
  double line_uv = 3.0;         ///< mains pickup amplitude (each channel 0.5-1.5x this)
  double line_hz = 50.0;        ///< 50 (Europe, Asia) or 60 (Americas)
  double blinks_per_s = 0.2;    ///< mean eye-blink rate
  double blink_uv = 120.0;      ///< blink peak on channels 0 and 1 (0.3x on channels 2 and 3)
  double muscle_per_s = 0.05;   ///< mean rate of muscle (EMG) bursts
  double muscle_uv = 30.0;      ///< RMS of a muscle burst at its middle
  double muscle_s = 0.5;        ///< mean muscle burst length
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
  /// One transient (alpha burst, blink, muscle burst): when it starts, how long it lasts.
  struct Event {
    std::uint64_t start = 0;   ///< frame of the next (or current) occurrence
    std::uint64_t length = 0;  ///< frames; 0 while none is scheduled
    double amplitude = 0;
    double step = 0;            ///< alpha: phase step per frame of this burst
    std::uint16_t channel = 0;  ///< muscle: first of the two channels it covers
  };

  struct Channel {
    // Pink-noise filter state (Paul Kellet's refined filter, 1/f within +-0.05 dB from
    // 0.0005 to 0.45 x the sample rate: 0.1 to 115 Hz at 256 Hz).
    double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
    // Alpha and line terms are a*sin(phase) + b*cos(phase) of one shared oscillator, which
    // gives each channel its own gain and phase for two multiplications.
    double alpha_sin = 0, alpha_cos = 0;
    double line_sin = 0, line_cos = 0;
    double blink_gain = 0;
  };

  /// Draws the next occurrence after `after` (Poisson, mean gap `mean_gap_s`; none when
  /// it is not positive) and its length, `mean_length_s` times 0.5-1.5.
  void schedule(Event& event, std::uint64_t after, double mean_gap_s, double mean_length_s);
  /// The progress of `event` at the current frame, in [0, 1); negative when it is not
  /// under way (and schedules the next one when it just ended).
  [[nodiscard]] double progress(Event& event, double mean_gap_s, double mean_length_s);
  void start_alpha_burst();

  SignalShape shape_;
  FastRng rng_;
  std::vector<Channel> channels_;
  std::uint64_t frame_ = 0;
  double pink_scale_ = 0;
  double alpha_phase_ = 0;
  double line_phase_ = 0;
  double line_step_ = 0;
  Event alpha_;
  Event blink_;
  Event muscle_;
  std::array<double, 2> muscle_prev_{};  // the last white draw per muscle channel (high-pass)
};

}  // namespace sensorgate::sim
