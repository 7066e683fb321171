#include "sensorgate/kernels/spectrum.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <numeric>
#include <random>
#include <vector>

namespace sensorgate::kernels {
namespace {

std::vector<float> sine(double hz, double amplitude, double rate, std::size_t n, double offset = 0.0) {
  std::vector<float> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] =
        static_cast<float>(offset + amplitude * std::sin(2.0 * std::numbers::pi * hz * static_cast<double>(i) / rate));
  }
  return out;
}

double total(const BandPowers& p) {
  return std::accumulate(p.begin(), p.end(), 0.0);
}

TEST(BandPowerCalculator, TenHertzSine_AtLeast95PercentInAlpha) {
  BandPowerCalculator calc;
  const auto p = calc.compute(sine(10.0, 20.0, 256.0, 256), 256.0);
  EXPECT_GE(p[2] / total(p), 0.95) << "alpha " << p[2] << " of " << total(p);
}

TEST(BandPowerCalculator, SineOfAmplitudeA_PowerIsAboutASquaredOverTwo) {
  BandPowerCalculator calc;
  const auto p = calc.compute(sine(20.0, 10.0, 256.0, 512), 256.0);  // beta
  EXPECT_NEAR(total(p), 50.0, 2.5);
  EXPECT_GE(p[3] / total(p), 0.95);
}

TEST(BandPowerCalculator, EachBandCentre_LandsInItsBand) {
  BandPowerCalculator calc;
  for (std::size_t b = 0; b < kEegBands.size(); ++b) {
    const double centre = 0.5 * (kEegBands[b].low_hz + kEegBands[b].high_hz);
    // 4 s so that delta's 2.25 Hz is resolved (0.25 Hz bins).
    const auto p = calc.compute(sine(centre, 10.0, 256.0, 1024), 256.0);
    EXPECT_GE(p[b] / total(p), 0.9) << kEegBands[b].name;
  }
}

TEST(BandPowerCalculator, LargeDcOffset_IsRemoved) {
  BandPowerCalculator calc;
  const auto with_offset = calc.compute(sine(10.0, 5.0, 256.0, 256, 1e5), 256.0);
  const auto without = calc.compute(sine(10.0, 5.0, 256.0, 256), 256.0);
  for (std::size_t b = 0; b < with_offset.size(); ++b)
    EXPECT_NEAR(with_offset[b], without[b], 0.01 * total(without) + 1e-3);
}

TEST(BandPowerCalculator, NonPowerOfTwoLengthAndLowRate_Works) {
  BandPowerCalculator calc;
  // 173.61 Hz (Bonn) for 1 s: 173 samples; 60 Hz cannot be represented above gamma's 45 Hz.
  const auto p = calc.compute(sine(10.0, 20.0, 173.61, 173), 173.61);
  EXPECT_GE(p[2] / total(p), 0.9);
}

TEST(BandPowerCalculator, TooShort_AllZero) {
  BandPowerCalculator calc;
  const std::vector<float> three{1, 2, 3};
  const auto p = calc.compute(three, 256.0);
  EXPECT_EQ(total(p), 0.0);
}

}  // namespace
}  // namespace sensorgate::kernels
