#pragma once
// Moments: count, min, max, mean and the sum of squared deviations (M2) of a stream of
// samples, mergeable in any order (Chan, Golub & LeVeque 1979). The gateway computes the
// moments of a block of frames per channel with a two-pass pass over the block and merges
// blocks into windows, so values around 1e6 with tiny variance keep their precision: the
// block mean is subtracted before squaring, and the merge works on deviations too.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace sensorgate::kernels {

struct Moments {
  std::uint64_t count = 0;
  double mean = 0.0;
  double m2 = 0.0;  ///< sum of squared deviations from the mean
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();

  /// Population variance (M2 / count); 0 for an empty set.
  [[nodiscard]] double variance() const { return count == 0 ? 0.0 : m2 / static_cast<double>(count); }

  /// Adds one sample (Welford's update).
  void add(float x) {
    ++count;
    const double delta = x - mean;
    mean += delta / static_cast<double>(count);
    m2 += delta * (x - mean);
    min = std::min(min, x);
    max = std::max(max, x);
  }

  /// Merges `other` into this (Chan et al.'s pairwise update).
  void merge(const Moments& other) {
    if (other.count == 0) return;
    if (count == 0) {
      *this = other;
      return;
    }
    const auto n_a = static_cast<double>(count);
    const auto n_b = static_cast<double>(other.count);
    const double n = n_a + n_b;
    const double delta = other.mean - mean;
    mean += delta * (n_b / n);
    m2 += other.m2 + delta * delta * (n_a * n_b / n);
    count += other.count;
    min = std::min(min, other.min);
    max = std::max(max, other.max);
  }
};

/// Largest channel count a frame may have anywhere in sensorgate.
inline constexpr std::size_t kMaxChannels = 256;

/// Computes the moments of `frames` frame-major frames of `channels` samples each, one
/// Moments per channel, into `out[0..channels)` (overwritten, not merged).
/// Two passes over the block: sums/min/max, then squared deviations from the block mean.
void block_moments(const float* samples, std::size_t frames, std::size_t channels, Moments* out);

}  // namespace sensorgate::kernels
