#pragma once
// Test helper: the power spectrum of one channel of a frame-major buffer, by direct DFT at
// chosen frequencies (Hann window, Welch averaging over segments). Slow, obvious, and
// independent of the code under test.

#include <cmath>
#include <cstddef>
#include <numbers>
#include <span>
#include <vector>

namespace sensorgate::sim::testing {

/// Mean power of `channel` at each of `freqs_hz` over Welch segments of `segment` frames
/// (half overlapping), arbitrary but consistent units.
inline std::vector<double> power_at(std::span<const float> samples, std::size_t channels, std::size_t channel,
                                    double rate_hz, std::size_t segment, const std::vector<double>& freqs_hz) {
  const std::size_t frames = samples.size() / channels;
  std::vector<double> power(freqs_hz.size(), 0.0);
  std::vector<double> x(segment);
  std::size_t segments = 0;
  for (std::size_t start = 0; start + segment <= frames; start += segment / 2, ++segments) {
    double mean = 0;
    for (std::size_t i = 0; i < segment; ++i) mean += samples[(start + i) * channels + channel];
    mean /= static_cast<double>(segment);
    for (std::size_t i = 0; i < segment; ++i) {
      const double hann =
          0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(segment));
      x[i] = (samples[(start + i) * channels + channel] - mean) * hann;
    }
    for (std::size_t k = 0; k < freqs_hz.size(); ++k) {
      const double w = 2.0 * std::numbers::pi * freqs_hz[k] / rate_hz;
      double re = 0;
      double im = 0;
      for (std::size_t i = 0; i < segment; ++i) {
        re += x[i] * std::cos(w * static_cast<double>(i));
        im -= x[i] * std::sin(w * static_cast<double>(i));
      }
      power[k] += re * re + im * im;
    }
  }
  for (auto& p : power) p /= static_cast<double>(segments > 0 ? segments : 1);
  return power;
}

/// Frequencies lo, lo + step, ..., up to hi inclusive.
inline std::vector<double> frequencies(double lo, double hi, double step) {
  std::vector<double> f;
  for (int i = 0; lo + step * i <= hi + 1e-9; ++i) f.push_back(lo + step * i);
  return f;
}

}  // namespace sensorgate::sim::testing
