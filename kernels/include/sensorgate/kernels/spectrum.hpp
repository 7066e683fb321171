#pragma once
// BandPowers: EEG band powers of a window of one channel: the window's mean is removed, a
// Hann window applied, and the one-sided periodogram (FFT, Eigen's kissfft-based module)
// summed over each band. Powers are in (input unit)^2, so a sine of amplitude A puts
// about A^2 / 2 into its band.

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace sensorgate::kernels {

struct Band {
  std::string_view name;
  double low_hz;   ///< inclusive
  double high_hz;  ///< exclusive
};

/// Delta, theta, alpha, beta, gamma, as commonly defined for EEG.
inline constexpr std::array<Band, 5> kEegBands{{
    {"delta", 0.5, 4.0},
    {"theta", 4.0, 8.0},
    {"alpha", 8.0, 13.0},
    {"beta", 13.0, 30.0},
    {"gamma", 30.0, 45.0},
}};

using BandPowers = std::array<float, kEegBands.size()>;

class BandPowerCalculator {
 public:
  BandPowerCalculator();
  ~BandPowerCalculator();
  BandPowerCalculator(const BandPowerCalculator&) = delete;
  BandPowerCalculator& operator=(const BandPowerCalculator&) = delete;
  BandPowerCalculator(BandPowerCalculator&& other) noexcept;
  BandPowerCalculator& operator=(BandPowerCalculator&& other) noexcept;

  /// Band powers of `samples` (one channel, in time order) sampled at `rate_hz`. Bands
  /// above the Nyquist frequency get 0. Fewer than 4 samples give all zeros.
  [[nodiscard]] BandPowers compute(std::span<const float> samples, double rate_hz);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sensorgate::kernels
