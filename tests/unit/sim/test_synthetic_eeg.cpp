#include "sensorgate/sim/synthetic_eeg.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "sensorgate/sim/simulator.hpp"
#include "spectrum.hpp"

namespace sensorgate::sim {
namespace {

std::vector<float> generate(std::uint64_t seed, std::uint32_t device, std::size_t frames, std::size_t per_call) {
  SyntheticEeg eeg(seed, device, SignalShape{});
  std::vector<float> out(frames * 16);
  for (std::size_t f = 0; f < frames; f += per_call) {
    const std::size_t n = std::min(per_call, frames - f);
    eeg.generate(std::span<float>(out.data() + f * 16, n * 16));
  }
  return out;
}

TEST(SyntheticEeg, SameSeed_SameSamplesWhateverTheBatching) {
  EXPECT_EQ(generate(7, 2, 1000, 32), generate(7, 2, 1000, 1000));
  EXPECT_EQ(generate(7, 2, 1000, 13), generate(7, 2, 1000, 32));
}

TEST(SyntheticEeg, DifferentSeedOrDevice_DifferentSamples) {
  EXPECT_NE(generate(7, 2, 100, 32), generate(8, 2, 100, 32));
  EXPECT_NE(generate(7, 2, 100, 32), generate(7, 3, 100, 32));
}

TEST(SyntheticEeg, Amplitude_IsEegLike) {
  const auto samples = generate(1, 0, std::size_t{256} * 20, 256);
  double sum = 0;
  double sum_sq = 0;
  for (float x : samples) {
    ASSERT_TRUE(std::isfinite(x));
    sum += x;
    sum_sq += static_cast<double>(x) * x;
  }
  const auto n = static_cast<double>(samples.size());
  const double rms = std::sqrt(sum_sq / n - (sum / n) * (sum / n));
  EXPECT_GT(rms, 5.0);    // microvolts: not silent
  EXPECT_LT(rms, 100.0);  // and not artefact-dominated
}

constexpr double kRate = 256.0;
constexpr std::size_t kChannels = 16;

/// Every part off: tests turn on the ones they look at.
SignalShape silent_shape() {
  SignalShape shape;
  shape.background_uv = 0;
  shape.alpha_uv = 0;
  shape.line_uv = 0;
  shape.blinks_per_s = 0;
  shape.muscle_per_s = 0;
  return shape;
}

std::vector<float> generate_shape(const SignalShape& shape, double seconds, std::uint32_t device = 0) {
  SyntheticEeg eeg(3, device, shape);
  std::vector<float> out(static_cast<std::size_t>(seconds * kRate) * kChannels);
  eeg.generate(out);
  return out;
}

double band_power(const std::vector<float>& samples, std::size_t channel, double lo, double hi) {
  const auto freqs = testing::frequencies(lo, hi, 1.0);
  const auto power = testing::power_at(samples, kChannels, channel, kRate, 256, freqs);
  return std::accumulate(power.begin(), power.end(), 0.0);
}

TEST(SyntheticEeg, SameSeedAndShape_SameSamples_DifferentDevice_Different) {
  SignalShape shape;
  shape.blinks_per_s = 2;
  shape.muscle_per_s = 2;
  EXPECT_EQ(generate_shape(shape, 10, 4), generate_shape(shape, 10, 4));
  EXPECT_NE(generate_shape(shape, 10, 4), generate_shape(shape, 10, 5));
}

TEST(SyntheticEeg, BackgroundOnly_SpectrumFallsAsOneOverF) {
  auto shape = silent_shape();
  shape.background_uv = 12;
  const auto samples = generate_shape(shape, 240);
  const auto freqs = testing::frequencies(2, 40, 1);
  for (const std::size_t channel : {std::size_t{0}, std::size_t{9}}) {
    const auto power = testing::power_at(samples, kChannels, channel, kRate, 256, freqs);
    // Least-squares slope of log power against log frequency: -1 for 1/f.
    double sx = 0;
    double sy = 0;
    double sxx = 0;
    double sxy = 0;
    for (std::size_t k = 0; k < freqs.size(); ++k) {
      const double x = std::log10(freqs[k]);
      const double y = std::log10(power[k]);
      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
    }
    const auto n = static_cast<double>(freqs.size());
    const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    EXPECT_NEAR(slope, -1.0, 0.2) << "channel " << channel;
  }
}

TEST(SyntheticEeg, BackgroundOnly_RmsIsBackgroundUv) {
  auto shape = silent_shape();
  shape.background_uv = 12;
  const auto samples = generate_shape(shape, 120);
  double sum_sq = 0;
  for (const float x : samples) sum_sq += static_cast<double>(x) * x;
  EXPECT_NEAR(std::sqrt(sum_sq / static_cast<double>(samples.size())), 12.0, 1.5);
}

TEST(SyntheticEeg, AlphaBursts_AlphaBandDominatesPosteriorChannels) {
  auto shape = silent_shape();
  shape.background_uv = 12;
  shape.alpha_uv = 20;
  const auto samples = generate_shape(shape, 120);
  const std::size_t back = kChannels - 1;
  const double alpha = band_power(samples, back, 8, 12);
  EXPECT_GT(alpha, band_power(samples, back, 1, 4));
  EXPECT_GT(alpha, band_power(samples, back, 4, 7));
  EXPECT_GT(alpha, band_power(samples, back, 13, 30));
  EXPECT_GT(alpha, band_power(samples, back, 30, 45));
  EXPECT_GT(alpha, 3.0 * band_power(samples, 0, 8, 12)) << "posterior alpha stronger than frontal";
  // Bursts: the alpha envelope waxes and wanes, so some seconds have little of it.
  shape.background_uv = 0;
  const auto pure = generate_shape(shape, 60);
  std::size_t quiet = 0;
  for (std::size_t s = 0; s < 60; ++s) {
    double peak = 0;
    for (std::size_t f = 0; f < 256; ++f)
      peak = std::max(peak, std::abs(double{pure[(s * 256 + f) * kChannels + back]}));
    if (peak < 2.0) ++quiet;
  }
  EXPECT_GT(quiet, 3U);
  EXPECT_LT(quiet, 57U);
}

TEST(SyntheticEeg, LineNoise_LineAtItsFrequencyIffEnabled) {
  auto shape = silent_shape();
  shape.background_uv = 12;
  // Power at the line frequency over the mean of 3-4 Hz either side: ~1 for the 1/f
  // background alone; 3 uV of mains (0.5-1.5x per channel) against 12 uV of background
  // gives about 10.
  const auto peak_ratio = [](const std::vector<float>& samples, double hz) {
    const auto power = testing::power_at(samples, kChannels, 5, kRate, 256, {hz, hz - 4, hz - 3, hz + 3, hz + 4});
    return power[0] / ((power[1] + power[2] + power[3] + power[4]) / 4.0);
  };
  const auto off = generate_shape(shape, 60);
  EXPECT_LT(peak_ratio(off, 50), 1.5);
  shape.line_uv = 3;
  shape.line_hz = 50;
  const auto on50 = generate_shape(shape, 60);
  EXPECT_GT(peak_ratio(on50, 50), 4.0);
  EXPECT_LT(peak_ratio(on50, 60), 1.5);
  shape.line_hz = 60;
  const auto on60 = generate_shape(shape, 60);
  EXPECT_GT(peak_ratio(on60, 60), 4.0);
  EXPECT_LT(peak_ratio(on60, 50), 1.5);
}

TEST(SyntheticEeg, Blinks_LargeDeflectionsOnFrontalChannelsOnly) {
  auto shape = silent_shape();
  shape.blinks_per_s = 0.5;
  shape.blink_uv = 100;
  const auto samples = generate_shape(shape, 60);
  const auto peak = [&](std::size_t channel) {
    float m = 0;
    for (std::size_t f = 0; f < samples.size() / kChannels; ++f) m = std::max(m, samples[f * kChannels + channel]);
    return m;
  };
  EXPECT_GT(peak(0), 60.0F);
  EXPECT_LT(peak(0), 135.0F);
  EXPECT_NEAR(peak(2), 0.3F * peak(0), 1e-3F * peak(0));
  EXPECT_EQ(peak(kChannels - 1), 0.0F);
}

TEST(SyntheticEeg, MuscleBursts_BroadbandHighFrequency) {
  auto shape = silent_shape();
  shape.muscle_per_s = 1;
  const auto samples = generate_shape(shape, 60);
  std::size_t touched = 0;
  double high = 0;
  double low = 0;
  for (std::size_t c = 0; c < kChannels; ++c) {
    double energy = 0;
    for (std::size_t f = 0; f < samples.size() / kChannels; ++f) energy += std::abs(samples[f * kChannels + c]);
    if (energy == 0) continue;
    ++touched;
    high += band_power(samples, c, 40, 120);
    low += band_power(samples, c, 1, 20);
  }
  EXPECT_GE(touched, 2U);
  EXPECT_GT(high, 5.0 * low);
}

TEST(SimulatedDeviceId, FourDigitIndex) {
  EXPECT_EQ(simulated_device_id("sim", 7), "sim-0007");
}

}  // namespace
}  // namespace sensorgate::sim
