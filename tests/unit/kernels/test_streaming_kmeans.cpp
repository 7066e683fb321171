#include "sensorgate/kernels/streaming_kmeans.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace sensorgate::kernels {
namespace {

using Options = StreamingKMeans::Options;
using TimeUnit = StreamingKMeans::TimeUnit;

Eigen::MatrixXf rows(std::initializer_list<std::initializer_list<float>> values) {
  Eigen::MatrixXf m(static_cast<Eigen::Index>(values.size()), static_cast<Eigen::Index>(values.begin()->size()));
  Eigen::Index r = 0;
  for (const auto& row : values) {
    Eigen::Index c = 0;
    for (const float x : row) m(r, c++) = x;
    ++r;
  }
  return m;
}

/// The message of the std::invalid_argument from_flat throws, or "" when it accepts.
std::string rejection(const std::vector<float>& blob, std::size_t expected_dim = 0) {
  try {
    (void)StreamingKMeans::from_flat(blob, expected_dim);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(StreamingKMeans, Update_TwoBatchesOfSparkRule_MatchesHandComputedCentroids) {
  StreamingKMeans model(Options{.k = 2, .dim = 2, .decay_factor = 0.5, .time_unit = TimeUnit::kBatches});
  const std::vector<double> weights{2.0, 1.0};
  model.set_centroids(rows({{0, 0}, {10, 10}}), weights);

  // Batch 1: weights 2, 1 -> 1, 0.5. Cluster 0 gets (1,1),(3,3), mean (2,2):
  // c' = (0·1 + 2·2) / (1 + 2) = 4/3, n' = 3. Cluster 1 gets (10,12):
  // c' = ((10,10)·0.5 + (10,12)·1) / 1.5 = (10, 34/3), n' = 1.5.
  model.update(rows({{1, 1}, {3, 3}, {10, 12}}));
  EXPECT_NEAR(model.centroids()(0, 0), 4.0 / 3.0, 1e-12);
  EXPECT_NEAR(model.centroids()(0, 1), 4.0 / 3.0, 1e-12);
  EXPECT_NEAR(model.centroids()(1, 0), 10.0, 1e-12);
  EXPECT_NEAR(model.centroids()(1, 1), 34.0 / 3.0, 1e-12);
  EXPECT_NEAR(model.weights()[0], 3.0, 1e-12);
  EXPECT_NEAR(model.weights()[1], 1.5, 1e-12);

  // Batch 2: weights -> 1.5, 0.75. Cluster 0 gets (2,0),(0,2), mean (1,1):
  // c' = (4/3·1.5 + 1·2) / 3.5 = 8/7. Cluster 1 gets (12,12):
  // c' = ((10, 34/3)·0.75 + 12) / 1.75 = (78/7, 82/7), n' = 1.75.
  model.update(rows({{2, 0}, {0, 2}, {12, 12}}));
  EXPECT_NEAR(model.centroids()(0, 0), 8.0 / 7.0, 1e-12);
  EXPECT_NEAR(model.centroids()(0, 1), 8.0 / 7.0, 1e-12);
  EXPECT_NEAR(model.centroids()(1, 0), 78.0 / 7.0, 1e-12);
  EXPECT_NEAR(model.centroids()(1, 1), 82.0 / 7.0, 1e-12);
  EXPECT_NEAR(model.weights()[0], 3.5, 1e-12);
  EXPECT_NEAR(model.weights()[1], 1.75, 1e-12);
}

TEST(StreamingKMeans, Update_TimeUnitPoints_DiscountsByDecayToTheBatchSize) {
  StreamingKMeans model(Options{.k = 1, .dim = 1, .decay_factor = 0.5, .time_unit = TimeUnit::kPoints});
  const std::vector<double> weights{4.0};
  model.set_centroids(rows({{0}}), weights);
  // Two points: a^2 = 0.25, weight 4 -> 1; c' = (0·1 + 3·2) / (1 + 2) = 2, n' = 3.
  model.update(rows({{2}, {4}}));
  EXPECT_NEAR(model.centroids()(0, 0), 2.0, 1e-12);
  EXPECT_NEAR(model.weights()[0], 3.0, 1e-12);
}

TEST(StreamingKMeans, Update_RandomBatches_MatchesDirectFormula) {
  std::mt19937 rng(11);
  std::normal_distribution<float> noise(0.0F, 1.0F);
  const double a = StreamingKMeans::decay_for_half_life(3.0);
  StreamingKMeans model(Options{.k = 3, .dim = 4, .decay_factor = a});
  Eigen::MatrixXf init = Eigen::MatrixXf::Zero(3, 4);
  init.row(1).setConstant(5.0F);
  init.row(2).setConstant(-5.0F);
  model.set_centroids(init);
  Eigen::MatrixXd c = init.cast<double>();
  Eigen::VectorXd n = Eigen::VectorXd::Ones(3);
  for (int step = 0; step < 5; ++step) {
    Eigen::MatrixXf batch(30, 4);
    for (Eigen::Index r = 0; r < batch.rows(); ++r) {
      for (Eigen::Index j = 0; j < 4; ++j) batch(r, j) = static_cast<float>((r % 3) - 1) * 5.0F + noise(rng);
    }
    // Reference: assign with the old centroids, then c' = (c·n·a + x̄·m) / (n·a + m).
    Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(3, 4);
    Eigen::VectorXd m = Eigen::VectorXd::Zero(3);
    for (Eigen::Index r = 0; r < batch.rows(); ++r) {
      const Eigen::RowVectorXd x = batch.row(r).cast<double>();
      Eigen::Index best = 0;
      (c.rowwise() - x).rowwise().squaredNorm().minCoeff(&best);
      sums.row(best) += x;
      m[best] += 1.0;
    }
    for (Eigen::Index i = 0; i < 3; ++i) {
      if (m[i] > 0) c.row(i) = (c.row(i) * n[i] * a + sums.row(i)) / (n[i] * a + m[i]);
      n[i] = n[i] * a + m[i];
    }
    model.update(batch);
    EXPECT_TRUE(model.centroids().isApprox(c, 1e-12)) << "step " << step;
    EXPECT_TRUE(model.weights().isApprox(n, 1e-12)) << "step " << step;
  }
}

TEST(StreamingKMeans, DecayForHalfLife_AfterHalfLifeSteps_IsOneHalf) {
  EXPECT_NEAR(std::pow(StreamingKMeans::decay_for_half_life(7.0), 7.0), 0.5, 1e-12);
  EXPECT_NEAR(StreamingKMeans::decay_for_half_life(1.0), 0.5, 1e-12);
  EXPECT_THROW((void)StreamingKMeans::decay_for_half_life(0.0), std::invalid_argument);
}

TEST(StreamingKMeans, Update_WithoutCentroids_SeedsFromFirstDistinctPoints) {
  StreamingKMeans model(Options{.k = 2, .dim = 2});
  EXPECT_FALSE(model.ready());
  model.update(rows({{1, 1}, {1, 1}, {5, 5}, {6, 6}}));
  ASSERT_EQ(model.seeded(), 2U);
  // Seeds (1,1) and (5,5) with weight 0, then the batch: cluster 1 moves to (5.5, 5.5).
  EXPECT_NEAR(model.centroids()(0, 0), 1.0, 1e-12);
  EXPECT_NEAR(model.centroids()(1, 0), 5.5, 1e-12);
  EXPECT_NEAR(model.weights()[0], 2.0, 1e-12);
  EXPECT_NEAR(model.weights()[1], 2.0, 1e-12);
}

TEST(StreamingKMeans, Update_FewerDistinctPointsThanK_SeedsTheRestLater) {
  StreamingKMeans model(Options{.k = 3, .dim = 1});
  model.update(rows({{1}, {1}}));
  EXPECT_EQ(model.seeded(), 1U);
  EXPECT_EQ(model.predict(Eigen::VectorXf::Constant(1, 100.0F)), 0U);
  model.update(rows({{4}, {9}}));
  EXPECT_EQ(model.seeded(), 3U);
  EXPECT_EQ(model.predict(Eigen::VectorXf::Constant(1, 8.0F)), 2U);
}

TEST(StreamingKMeans, Update_DyingCluster_SplitsTheLargest) {
  // Decay 0 forgets all history, so the cluster that gets no point has weight 0 < 1e-8·max.
  StreamingKMeans model(Options{.k = 2, .dim = 1, .decay_factor = 0.0});
  model.set_centroids(rows({{0}, {100}}));
  model.update(rows({{1}, {2}}));
  EXPECT_EQ(model.splits(), 1U);
  EXPECT_NEAR(model.weights()[0], 1.0, 1e-12);
  EXPECT_NEAR(model.weights()[1], 1.0, 1e-12);
  EXPECT_NEAR(model.centroids()(0, 0), 1.5 + 1.5e-6, 1e-12);
  EXPECT_NEAR(model.centroids()(1, 0), 1.5 - 1.5e-6, 1e-12);
}

TEST(StreamingKMeans, ScoreAndPredict_ReturnNearestCentroidAndDistance) {
  StreamingKMeans model(Options{.k = 2, .dim = 2});
  model.set_centroids(rows({{0, 0}, {10, 0}}));
  Eigen::VectorXf x(2);
  x << 7.0F, 4.0F;
  EXPECT_EQ(model.predict(x), 1U);
  EXPECT_NEAR(model.score(x), 5.0, 1e-9);
  const Eigen::VectorXf contrib = model.contributions(x);
  EXPECT_NEAR(contrib[0], 9.0F, 1e-5);
  EXPECT_NEAR(contrib[1], 16.0F, 1e-5);
}

TEST(StreamingKMeans, Score_PlantedOutlier_ScoresHighest) {
  std::mt19937 rng(5);
  std::normal_distribution<float> noise(0.0F, 1.0F);
  StreamingKMeans model(Options{.k = 2, .dim = 3, .decay_factor = 0.9});
  for (int b = 0; b < 20; ++b) {
    Eigen::MatrixXf batch(40, 3);
    for (Eigen::Index r = 0; r < batch.rows(); ++r) {
      for (Eigen::Index j = 0; j < 3; ++j) batch(r, j) = (r % 2 == 0 ? 8.0F : -8.0F) + noise(rng);
    }
    model.update(batch);
  }
  Eigen::MatrixXf test(50, 3);
  for (Eigen::Index r = 0; r < test.rows(); ++r) {
    for (Eigen::Index j = 0; j < 3; ++j) test(r, j) = (r % 2 == 0 ? 8.0F : -8.0F) + noise(rng);
  }
  test.row(17) << 0.0F, 0.0F, 30.0F;  // between and away from both clusters
  Eigen::Index worst = 0;
  Eigen::VectorXd scores(test.rows());
  for (Eigen::Index r = 0; r < test.rows(); ++r) scores[r] = model.score(test.row(r).transpose());
  scores.maxCoeff(&worst);
  EXPECT_EQ(worst, 17);
}

TEST(StreamingKMeans, Update_NonFiniteRows_AreSkipped) {
  StreamingKMeans model(Options{.k = 1, .dim = 1});
  model.update(rows({{std::nanf("")}, {2}, {4}}));
  EXPECT_EQ(model.skipped_points(), 1U);
  EXPECT_NEAR(model.centroids()(0, 0), 3.0, 1e-12);
}

TEST(StreamingKMeans, BadShapes_Throw) {
  EXPECT_THROW(StreamingKMeans(Options{.k = 0, .dim = 2}), std::invalid_argument);
  EXPECT_THROW(StreamingKMeans(Options{.k = 2, .dim = 2, .decay_factor = 1.5}), std::invalid_argument);
  StreamingKMeans model(Options{.k = 2, .dim = 2});
  EXPECT_THROW((void)model.score(Eigen::VectorXf::Zero(2)), std::logic_error);
  EXPECT_THROW(model.update(Eigen::MatrixXf::Zero(3, 3)), std::invalid_argument);
  EXPECT_THROW(model.set_centroids(Eigen::MatrixXf::Zero(3, 2)), std::invalid_argument);
  model.set_centroids(Eigen::MatrixXf::Zero(2, 2));
  EXPECT_THROW((void)model.predict(Eigen::VectorXf::Zero(3)), std::invalid_argument);
}

TEST(StreamingKMeans, FromFlat_OfToFlat_RoundTrips) {
  StreamingKMeans model(Options{.k = 3, .dim = 2, .decay_factor = 0.75, .time_unit = TimeUnit::kPoints});
  model.update(rows({{1, 2}, {3, 4}, {5, 6}, {5.5F, 6}, {1, 2.5F}}));
  const std::vector<float> blob = model.to_flat();
  ASSERT_EQ(blob.size(), StreamingKMeans::kFlatHeader + (std::size_t{3} * 2) + 3);
  const StreamingKMeans back = StreamingKMeans::from_flat(blob, 2);
  EXPECT_EQ(back.k(), 3U);
  EXPECT_EQ(back.dim(), 2U);
  EXPECT_EQ(back.seeded(), 3U);
  EXPECT_EQ(back.time_unit(), TimeUnit::kPoints);
  EXPECT_NEAR(back.decay_factor(), 0.75, 1e-7);
  EXPECT_TRUE(back.centroids().isApprox(model.centroids(), 1e-6));
  EXPECT_TRUE(back.weights().isApprox(model.weights(), 1e-6));
  EXPECT_EQ(back.to_flat(), blob);
}

TEST(StreamingKMeans, FromFlat_BadBlobs_RejectedWithReason) {
  StreamingKMeans model(Options{.k = 2, .dim = 2});
  model.set_centroids(rows({{0, 0}, {1, 1}}));
  const std::vector<float> good = model.to_flat();
  ASSERT_EQ(rejection(good), "");

  EXPECT_NE(rejection({}).find("header"), std::string::npos);
  auto bad = good;
  bad[0] = 1.0F;
  EXPECT_NE(rejection(bad).find("magic"), std::string::npos);
  bad = good;
  bad[1] = 2.0F;
  EXPECT_NE(rejection(bad).find("version"), std::string::npos);
  bad = good;
  bad.pop_back();
  EXPECT_NE(rejection(bad).find("need"), std::string::npos);
  bad = good;
  bad[2] = 1.5F;
  EXPECT_NE(rejection(bad).find("k ="), std::string::npos);
  bad = good;
  bad[3] = 65536.0F;  // a huge shape must be refused by the length check, not allocated
  bad[2] = 65536.0F;
  EXPECT_NE(rejection(bad).find("need"), std::string::npos);
  bad = good;
  bad[3] = std::nanf("");
  EXPECT_NE(rejection(bad).find("dim"), std::string::npos);
  bad = good;
  bad[StreamingKMeans::kFlatHeader + 1] = std::nanf("");
  EXPECT_NE(rejection(bad).find("non-finite"), std::string::npos);
  bad = good;
  bad.back() = -1.0F;
  EXPECT_NE(rejection(bad).find("negative"), std::string::npos);
  bad = good;
  bad[5] = 2.0F;
  EXPECT_NE(rejection(bad).find("decay"), std::string::npos);
  bad = good;
  bad[6] = 7.0F;
  EXPECT_NE(rejection(bad).find("time_unit"), std::string::npos);
  EXPECT_NE(rejection(good, 5).find("dimensions"), std::string::npos);
}

TEST(StreamingKMeans, FromFlat_RandomCorruption_NeverCrashes) {
  StreamingKMeans model(Options{.k = 2, .dim = 3});
  model.set_centroids(Eigen::MatrixXf::Random(2, 3));
  const std::vector<float> good = model.to_flat();
  std::mt19937 rng(99);
  std::uniform_int_distribution<std::size_t> pos(0, good.size() - 1);
  std::uniform_real_distribution<float> val(-70000.0F, 70000.0F);
  for (int trial = 0; trial < 2000; ++trial) {
    auto blob = good;
    blob[pos(rng)] = trial % 3 == 0 ? std::floor(val(rng)) : val(rng);
    blob.resize(pos(rng) + (trial % 2 == 0 ? good.size() : 0));
    try {
      const StreamingKMeans back = StreamingKMeans::from_flat(blob);
      EXPECT_EQ(back.to_flat().size(), blob.size());
    } catch (const std::invalid_argument&) {
    }
  }
}

}  // namespace
}  // namespace sensorgate::kernels
