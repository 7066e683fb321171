#include "sensorgate/sim/synthetic_eeg.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sensorgate/sim/simulator.hpp"

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

TEST(SimulatedDeviceId, FourDigitIndex) {
  EXPECT_EQ(simulated_device_id("sim", 7), "sim-0007");
}

}  // namespace
}  // namespace sensorgate::sim
