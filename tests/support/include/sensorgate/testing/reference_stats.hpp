#pragma once
// Naive two-pass reference statistics, the yardstick for the streaming implementations.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

namespace sensorgate::testing {

struct ReferenceStats {
  std::uint64_t count = 0;
  double min = 0;
  double max = 0;
  double mean = 0;
  double variance = 0;  ///< population
};

/// Statistics of channel `channel` over frame-major `samples` with `channels` per frame.
inline ReferenceStats reference_stats(std::span<const float> samples, std::size_t channels, std::size_t channel) {
  ReferenceStats r;
  const std::size_t frames = samples.size() / channels;
  if (frames == 0) return r;
  double sum = 0;
  r.min = r.max = samples[channel];
  for (std::size_t f = 0; f < frames; ++f) {
    const double x = samples[f * channels + channel];
    sum += x;
    r.min = std::min(r.min, x);
    r.max = std::max(r.max, x);
  }
  r.count = frames;
  r.mean = sum / static_cast<double>(frames);
  double ss = 0;
  for (std::size_t f = 0; f < frames; ++f) {
    const double d = samples[f * channels + channel] - r.mean;
    ss += d * d;
  }
  r.variance = ss / static_cast<double>(frames);
  return r;
}

/// |a - b| <= rel * max(|a|, |b|) + abs.
inline bool close(double a, double b, double rel, double abs = 1e-12) {
  return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b)) + abs;
}

}  // namespace sensorgate::testing
