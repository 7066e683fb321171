#include "sensorgate/sim/synthetic_eeg.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace sensorgate::sim {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

// Paul Kellet's refined pink filter: six one-pole filters of white noise plus a direct and
// a one-sample-delayed white term.
constexpr std::array<double, 6> kPinkPole{0.99886, 0.99332, 0.96900, 0.86650, 0.55000, -0.7616};
constexpr std::array<double, 6> kPinkGain{0.0555179, 0.0750759, 0.1538520, 0.3104856, 0.5329522, -0.0168980};
constexpr double kPinkDirect = 0.5362;
constexpr double kPinkDelayed = 0.115926;

/// RMS of the pink filter's output for unit white input, from its impulse response
/// h[k] = sum_i g_i p_i^k (+ direct at k = 0, + delayed at k = 1): the sum of h[k]^2 in
/// closed form. Scaling by it makes background_uv the exact RMS.
double pink_rms() {
  double g0 = 0;
  double g1 = 0;
  double sum = 0;
  for (std::size_t i = 0; i < kPinkPole.size(); ++i) {
    g0 += kPinkGain[i];
    g1 += kPinkGain[i] * kPinkPole[i];
    for (std::size_t j = 0; j < kPinkPole.size(); ++j) {
      sum += kPinkGain[i] * kPinkGain[j] / (1.0 - kPinkPole[i] * kPinkPole[j]);
    }
  }
  sum += kPinkDirect * (kPinkDirect + 2.0 * g0) + kPinkDelayed * (kPinkDelayed + 2.0 * g1);
  return std::sqrt(sum);
}

/// 1 in the middle, raised-cosine ramps of `ramp` frames at both ends.
double tukey(double k, double length, double ramp) {
  if (k < ramp) return 0.5 * (1.0 - std::cos(std::numbers::pi * k / ramp));
  if (length - k < ramp) return 0.5 * (1.0 - std::cos(std::numbers::pi * (length - k) / ramp));
  return 1.0;
}

}  // namespace

SyntheticEeg::SyntheticEeg(std::uint64_t seed, std::uint32_t device_index, SignalShape shape)
    : shape_(shape),
      rng_(FastRng::splitmix64(seed ^ FastRng::splitmix64(std::uint64_t{device_index} + 1))),
      channels_(shape.channels),
      pink_scale_(shape.background_uv / pink_rms()),
      line_step_(kTwoPi * shape.line_hz / shape.sample_rate_hz) {
  const auto last = static_cast<double>(std::max<std::size_t>(1, channels_.size() - 1));
  for (std::size_t c = 0; c < channels_.size(); ++c) {
    Channel& ch = channels_[c];
    // Alpha is strongest over the back of the head: let it grow with the channel index,
    // nearly in phase everywhere (one generator), with small per-channel lags.
    const double alpha_gain = 0.3 + 0.7 * static_cast<double>(c) / last;
    const double alpha_lag = rng_.uniform(-0.5, 0.5);
    ch.alpha_sin = alpha_gain * std::cos(alpha_lag);
    ch.alpha_cos = alpha_gain * std::sin(alpha_lag);
    // Mains pickup differs per electrode (impedance, cable routing).
    const double line_gain = rng_.uniform(0.5, 1.5);
    const double line_lag = rng_.uniform(0.0, kTwoPi);
    ch.line_sin = line_gain * std::cos(line_lag);
    ch.line_cos = line_gain * std::sin(line_lag);
    // Blinks are largest at the eyes (Fp1/Fp2) and fade over the frontal channels behind them.
    ch.blink_gain = c < 2 ? 1.0 : (c < 4 ? 0.3 : 0.0);
  }
  alpha_phase_ = rng_.uniform(0.0, kTwoPi);
  line_phase_ = rng_.uniform(0.0, kTwoPi);
  schedule(alpha_, 0, shape_.alpha_uv > 0 ? shape_.alpha_gap_s : 0.0, shape_.alpha_burst_s);
  start_alpha_burst();
  schedule(blink_, 0, shape_.blinks_per_s > 0 ? 1.0 / shape_.blinks_per_s : 0.0, 0.3);
  schedule(muscle_, 0, shape_.muscle_per_s > 0 ? 1.0 / shape_.muscle_per_s : 0.0, shape_.muscle_s);
}

void SyntheticEeg::schedule(Event& event, std::uint64_t after, double mean_gap_s, double mean_length_s) {
  if (!(mean_gap_s > 0) || !(mean_length_s > 0)) {
    event.start = kNever;
    return;
  }
  const double rate = shape_.sample_rate_hz;
  event.start = after + 1 + static_cast<std::uint64_t>(rng_.exponential(mean_gap_s * rate));
  event.length = std::max<std::uint64_t>(2, std::llround(rng_.uniform(0.5, 1.5) * mean_length_s * rate));
  event.amplitude = rng_.uniform(0.7, 1.3);
  event.channel = static_cast<std::uint16_t>(rng_.next() % channels_.size());
}

void SyntheticEeg::start_alpha_burst() {
  // Each burst has its own frequency near alpha_hz, as real alpha drifts by ~1 Hz.
  alpha_.step = kTwoPi * shape_.alpha_hz * rng_.uniform(0.95, 1.05) / shape_.sample_rate_hz;
}

double SyntheticEeg::progress(Event& event, double mean_gap_s, double mean_length_s) {
  if (frame_ < event.start) return -1.0;
  const std::uint64_t k = frame_ - event.start;
  if (k < event.length) return (static_cast<double>(k) + 0.5) / static_cast<double>(event.length);
  schedule(event, frame_, mean_gap_s, mean_length_s);
  if (&event == &alpha_) start_alpha_burst();
  return -1.0;
}

void SyntheticEeg::generate(std::span<float> out) {
  const std::size_t n_channels = channels_.size();
  const std::size_t frames = out.size() / n_channels;
  const double rate = shape_.sample_rate_hz;
  const double alpha_gap = shape_.alpha_uv > 0 ? shape_.alpha_gap_s : 0.0;
  const double blink_gap = shape_.blinks_per_s > 0 ? 1.0 / shape_.blinks_per_s : 0.0;
  const double muscle_gap = shape_.muscle_per_s > 0 ? 1.0 / shape_.muscle_per_s : 0.0;
  for (std::size_t f = 0; f < frames; ++f, ++frame_) {
    // One oscillator per rhythm; channels mix its sine and cosine with their own weights.
    alpha_phase_ += alpha_.step;
    if (alpha_phase_ >= kTwoPi) alpha_phase_ -= kTwoPi;  // small phases keep long runs precise
    line_phase_ += line_step_;
    if (line_phase_ >= kTwoPi) line_phase_ -= kTwoPi;
    double alpha_s = 0;
    double alpha_c = 0;
    if (const double p = progress(alpha_, alpha_gap, shape_.alpha_burst_s); p >= 0) {
      const auto length = static_cast<double>(alpha_.length);
      const double envelope =
          shape_.alpha_uv * alpha_.amplitude * tukey(p * length, length, std::min(0.4 * rate, 0.5 * length));
      alpha_s = envelope * std::sin(alpha_phase_);
      alpha_c = envelope * std::cos(alpha_phase_);
    }
    const double line_s = shape_.line_uv * std::sin(line_phase_);
    const double line_c = shape_.line_uv * std::cos(line_phase_);
    double blink = 0;
    if (const double p = progress(blink_, blink_gap, 0.3); p >= 0) {
      blink = shape_.blink_uv * blink_.amplitude * 0.5 * (1.0 - std::cos(kTwoPi * p));
    }
    const double muscle_envelope = [&] {
      const double p = progress(muscle_, muscle_gap, shape_.muscle_s);
      if (p < 0) return 0.0;
      const double s = std::sin(std::numbers::pi * p);
      // High-passed white noise (a first difference) has variance 2: scale to muscle_uv RMS.
      return shape_.muscle_uv * muscle_.amplitude * s * s * std::numbers::sqrt2 / 2.0;
    }();
    float* row = out.data() + f * n_channels;
    for (std::size_t c = 0; c < n_channels; ++c) {
      Channel& ch = channels_[c];
      const double w = rng_.normal();
      ch.b0 = kPinkPole[0] * ch.b0 + w * kPinkGain[0];
      ch.b1 = kPinkPole[1] * ch.b1 + w * kPinkGain[1];
      ch.b2 = kPinkPole[2] * ch.b2 + w * kPinkGain[2];
      ch.b3 = kPinkPole[3] * ch.b3 + w * kPinkGain[3];
      ch.b4 = kPinkPole[4] * ch.b4 + w * kPinkGain[4];
      ch.b5 = kPinkPole[5] * ch.b5 + w * kPinkGain[5];
      const double pink = ch.b0 + ch.b1 + ch.b2 + ch.b3 + ch.b4 + ch.b5 + ch.b6 + w * kPinkDirect;
      ch.b6 = w * kPinkDelayed;
      const double value = pink * pink_scale_ + ch.alpha_sin * alpha_s + ch.alpha_cos * alpha_c + ch.line_sin * line_s +
                           ch.line_cos * line_c + ch.blink_gain * blink + shape_.offset_uv;
      row[c] = static_cast<float>(value);
    }
    if (muscle_envelope > 0) {
      // Jaw and temporal muscles: a burst on two neighbouring channels.
      for (std::size_t i = 0; i < muscle_prev_.size() && i < n_channels; ++i) {
        const std::size_t c = (muscle_.channel + i) % n_channels;
        const double w = rng_.normal();
        row[c] += static_cast<float>(muscle_envelope * (w - muscle_prev_[i]));
        muscle_prev_[i] = w;
      }
    }
  }
}

}  // namespace sensorgate::sim
