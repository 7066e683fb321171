#include "sensorgate/kernels/running_zscore.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

namespace sensorgate::kernels {
namespace {

Eigen::VectorXf vec(std::initializer_list<float> values) {
  Eigen::VectorXf v(static_cast<Eigen::Index>(values.size()));
  Eigen::Index i = 0;
  for (const float x : values) v[i++] = x;
  return v;
}

TEST(RunningZScore, Normalize_BeforeAnyUpdate_ReturnsZeros) {
  const RunningZScore z(3);
  EXPECT_TRUE(z.normalize(vec({1.0F, -5.0F, 7.0F})).isZero());
}

TEST(RunningZScore, Normalize_ThreePoints_MatchesHandComputedZScore) {
  RunningZScore z(1);
  for (const float x : {1.0F, 2.0F, 3.0F}) z.update(vec({x}));
  // mean 2, population variance 2/3.
  EXPECT_NEAR(z.mean()[0], 2.0, 1e-12);
  EXPECT_NEAR(z.variance()[0], 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(z.normalize(vec({4.0F}))[0], 2.0 / std::sqrt(2.0 / 3.0), 1e-5);
}

TEST(RunningZScore, Update_InfiniteHalfLife_MatchesTwoPassStatistics) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(1e4F, 3.0F);  // large offset, small spread
  RunningZScore z(2);
  std::vector<double> xs;
  for (int i = 0; i < 1000; ++i) {
    const float x = dist(rng);
    xs.push_back(x);
    z.update(vec({x, 2.0F * x}));
  }
  double mean = 0.0;
  for (const double x : xs) mean += x;
  mean /= static_cast<double>(xs.size());
  double var = 0.0;
  for (const double x : xs) var += (x - mean) * (x - mean);
  var /= static_cast<double>(xs.size());
  EXPECT_DOUBLE_EQ(z.decay(), 1.0);
  EXPECT_DOUBLE_EQ(z.weight(), 1000.0);
  EXPECT_NEAR(z.mean()[0], mean, 1e-9 * mean);
  EXPECT_NEAR(z.variance()[0], var, 1e-6 * var);
  EXPECT_NEAR(z.variance()[1], 4.0 * var, 4e-6 * var);
}

TEST(RunningZScore, Update_WithHalfLife_MatchesExplicitlyWeightedStatistics) {
  constexpr double kHalfLife = 20.0;
  RunningZScore z(1, RunningZScore::Options{.half_life_points = kHalfLife});
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-5.0F, 5.0F);
  std::vector<double> xs;
  for (int i = 0; i < 200; ++i) {
    xs.push_back(dist(rng));
    z.update(vec({static_cast<float>(xs.back())}));
  }
  // Point i of n has weight 0.5^((n - 1 - i) / half_life).
  const auto n = static_cast<double>(xs.size());
  double w_sum = 0.0;
  double wx = 0.0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double w = std::pow(0.5, (n - 1.0 - static_cast<double>(i)) / kHalfLife);
    w_sum += w;
    wx += w * xs[i];
  }
  const double mean = wx / w_sum;
  double wvar = 0.0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double w = std::pow(0.5, (n - 1.0 - static_cast<double>(i)) / kHalfLife);
    wvar += w * (xs[i] - mean) * (xs[i] - mean);
  }
  EXPECT_NEAR(z.weight(), w_sum, 1e-9);
  EXPECT_NEAR(z.mean()[0], mean, 1e-9);
  EXPECT_NEAR(z.variance()[0], wvar / w_sum, 1e-9);
}

TEST(RunningZScore, Update_WithHalfLife_FollowsALevelShift) {
  RunningZScore z(1, RunningZScore::Options{.half_life_points = 10.0});
  for (int i = 0; i < 100; ++i) z.update(vec({static_cast<float>(i % 2)}));
  for (int i = 0; i < 200; ++i) z.update(vec({static_cast<float>(100 + (i % 2))}));
  EXPECT_NEAR(z.mean()[0], 100.5, 0.1);
}

TEST(RunningZScore, Normalize_ConstantDimension_ReturnsZeroNotNan) {
  RunningZScore z(2);
  for (int i = 0; i < 10; ++i) z.update(vec({5.0F, static_cast<float>(i)}));
  const Eigen::VectorXf out = z.normalize(vec({9.0F, 4.5F}));
  EXPECT_EQ(out[0], 0.0F);
  EXPECT_TRUE(out.allFinite());
  EXPECT_NEAR(out[1], 0.0F, 1e-6);
}

TEST(RunningZScore, Update_NonFiniteVector_IsSkippedAndCounted) {
  RunningZScore z(2);
  z.update(vec({1.0F, 1.0F}));
  z.update(vec({std::numeric_limits<float>::quiet_NaN(), 1.0F}));
  z.update(vec({3.0F, std::numeric_limits<float>::infinity()}));
  EXPECT_EQ(z.skipped(), 2U);
  EXPECT_DOUBLE_EQ(z.weight(), 1.0);
  EXPECT_DOUBLE_EQ(z.mean()[0], 1.0);
}

TEST(RunningZScore, UpdateOrNormalize_WrongSize_Throws) {
  RunningZScore z(2);
  EXPECT_THROW(z.update(vec({1.0F})), std::invalid_argument);
  EXPECT_THROW((void)z.normalize(vec({1.0F, 2.0F, 3.0F})), std::invalid_argument);
}

TEST(RunningZScore, Constructor_BadArguments_Throw) {
  EXPECT_THROW(RunningZScore(0), std::invalid_argument);
  EXPECT_THROW(RunningZScore(2, RunningZScore::Options{.half_life_points = 0.0}), std::invalid_argument);
  EXPECT_THROW(RunningZScore(2, RunningZScore::Options{.half_life_points = -3.0}), std::invalid_argument);
}

}  // namespace
}  // namespace sensorgate::kernels
