#pragma once
// FastRng: xoshiro256** seeded through splitmix64, plus the few draws the simulator needs.
// It replaces std::mt19937_64 + std::normal_distribution in the per-sample path: the
// load harness runs 1,500 synthetic headsets in real time on 2 cores, so a sample must
// cost tens of nanoseconds, and the standard normal distribution (log, sqrt, rejection)
// alone cost more than that. Same seed, same sequence on every platform.

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>

namespace sensorgate::sim {

class FastRng {
 public:
  explicit FastRng(std::uint64_t seed) {
    for (auto& word : state_) {
      seed = splitmix64(seed);
      word = seed;
    }
  }

  /// The splitmix64 mixer: also used to derive independent seeds from (seed, device, purpose).
  [[nodiscard]] static constexpr std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31U);
  }

  std::uint64_t next() {
    const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17U;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }

  /// Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11U) * 0x1.0p-53; }

  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  /// Approximately standard normal: the sum of four 16-bit uniforms (Irwin-Hall), scaled
  /// to unit variance. Its tails stop at +-3.5 sigma, which background noise never misses
  /// (the pink filter sums many draws, so its output is Gaussian anyway); one 64-bit draw
  /// per value is what makes it cheap.
  double normal() {
    const std::uint64_t bits = next();
    const auto sum =
        static_cast<double>((bits & 0xFFFFU) + ((bits >> 16U) & 0xFFFFU) + ((bits >> 32U) & 0xFFFFU) + (bits >> 48U));
    // Each 16-bit part is uniform on 0..65535: mean 32767.5, variance (65536^2 - 1) / 12.
    constexpr double kMean = 4.0 * 32767.5;
    constexpr double kInvStd = 1.0 / 37837.227237;  // 1 / sqrt(4 * (65536^2 - 1) / 12)
    return (sum - kMean) * kInvStd;
  }

  /// Exponentially distributed with the given mean (waiting times of Poisson events).
  double exponential(double mean) { return -mean * std::log1p(-uniform()); }

 private:
  std::array<std::uint64_t, 4> state_{};
};

}  // namespace sensorgate::sim
