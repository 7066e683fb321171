#include "sensorgate/sim/synthetic_eeg.hpp"

#include <cmath>
#include <numbers>

namespace sensorgate::sim {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kBlinkSeconds = 0.3;

}  // namespace

SyntheticEeg::SyntheticEeg(std::uint64_t seed, std::uint32_t device_index, SignalShape shape)
    : shape_(shape), rng_(splitmix64(seed ^ splitmix64(device_index + 1))), channels_(shape.channels) {
  for (std::size_t c = 0; c < channels_.size(); ++c) {
    // Alpha is strongest over the back of the head: let it grow with the channel index.
    const auto last = static_cast<double>(std::max<std::size_t>(1, channels_.size() - 1));
    channels_[c].alpha_gain = 0.3 + 0.7 * static_cast<double>(c) / last;
    channels_[c].alpha_phase = kTwoPi * uniform_(rng_);
    channels_[c].line_phase = kTwoPi * uniform_(rng_);
  }
  alpha_mod_phase_ = kTwoPi * uniform_(rng_);
}

void SyntheticEeg::generate(std::span<float> out) {
  const std::size_t n_channels = channels_.size();
  const std::size_t frames = out.size() / n_channels;
  const double dt = 1.0 / shape_.sample_rate_hz;
  const double alpha_step = kTwoPi * shape_.alpha_hz * dt;
  const double line_step = kTwoPi * shape_.line_hz * dt;
  // The pink filter's output RMS is about 0.3 x its white input's; scale to background_uv.
  const double pink_scale = shape_.background_uv / 3.0;
  for (std::size_t f = 0; f < frames; ++f, ++frame_) {
    // Alpha waxes and wanes over ~8 s.
    alpha_mod_phase_ = std::fmod(alpha_mod_phase_ + kTwoPi * 0.125 * dt, kTwoPi);
    const double alpha_envelope = 0.5 + 0.5 * std::sin(alpha_mod_phase_);
    // Blinks: Poisson arrivals, a raised-cosine bump of kBlinkSeconds.
    double blink = 0.0;
    if (blink_left_s_ <= 0.0 && uniform_(rng_) < shape_.blinks_per_s * dt) blink_left_s_ = kBlinkSeconds;
    if (blink_left_s_ > 0.0) {
      const double progress = 1.0 - blink_left_s_ / kBlinkSeconds;
      blink = shape_.blink_uv * 0.5 * (1.0 - std::cos(kTwoPi * progress));
      blink_left_s_ -= dt;
    }
    for (std::size_t c = 0; c < n_channels; ++c) {
      Channel& ch = channels_[c];
      const double w = white_(rng_);
      ch.b0 = 0.99765 * ch.b0 + w * 0.0990460;
      ch.b1 = 0.96300 * ch.b1 + w * 0.2965164;
      ch.b2 = 0.57000 * ch.b2 + w * 1.0526913;
      const double pink = (ch.b0 + ch.b1 + ch.b2 + w * 0.1848) * pink_scale;
      // Keep phases small so long runs keep their precision.
      ch.alpha_phase = std::fmod(ch.alpha_phase + alpha_step, kTwoPi);
      ch.line_phase = std::fmod(ch.line_phase + line_step, kTwoPi);
      double value = pink + shape_.alpha_uv * ch.alpha_gain * alpha_envelope * std::sin(ch.alpha_phase) +
                     shape_.line_uv * std::sin(ch.line_phase) + shape_.offset_uv;
      if (c < 2) value += blink;
      out[f * n_channels + c] = static_cast<float>(value);
    }
  }
}

}  // namespace sensorgate::sim
