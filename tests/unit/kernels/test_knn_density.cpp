#include "sensorgate/kernels/knn_density.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

namespace sensorgate::kernels {
namespace {

using Score = KnnDensityScorer::Score;

Eigen::MatrixXf gaussian(Eigen::Index n, Eigen::Index d, unsigned seed, float offset = 0.0F) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(offset, 1.0F);
  Eigen::MatrixXf m(n, d);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < d; ++j) m(i, j) = dist(rng);
  }
  return m;
}

/// Euclidean distances from `x` to every row of `ref`, in double, by a plain loop.
std::vector<double> naive_distances(const Eigen::MatrixXf& ref, const Eigen::RowVectorXf& x) {
  std::vector<double> out(static_cast<std::size_t>(ref.rows()));
  for (Eigen::Index i = 0; i < ref.rows(); ++i) {
    double s = 0.0;
    for (Eigen::Index j = 0; j < ref.cols(); ++j) {
      const double diff = static_cast<double>(ref(i, j)) - x[j];
      s += diff * diff;
    }
    out[static_cast<std::size_t>(i)] = std::sqrt(s);
  }
  return out;
}

/// Indices of the k nearest, nearest first, skipping `skip` (or none when -1).
std::vector<std::size_t> naive_knn(const std::vector<double>& dist, std::size_t k, std::ptrdiff_t skip = -1) {
  std::vector<std::size_t> idx(dist.size());
  std::iota(idx.begin(), idx.end(), 0);
  if (skip >= 0) idx.erase(idx.begin() + skip);
  std::stable_sort(idx.begin(), idx.end(), [&dist](std::size_t a, std::size_t b) { return dist[a] < dist[b]; });
  idx.resize(k);
  return idx;
}

/// LOF of each query straight from Breunig et al.'s definitions, in double.
std::vector<double> naive_lof(const Eigen::MatrixXf& ref, const Eigen::MatrixXf& queries, std::size_t k) {
  const auto n = static_cast<std::size_t>(ref.rows());
  std::vector<double> kdist(n);
  std::vector<std::vector<std::size_t>> ref_nn(n);
  std::vector<std::vector<double>> ref_dist(n);
  for (std::size_t i = 0; i < n; ++i) {
    ref_dist[i] = naive_distances(ref, ref.row(static_cast<Eigen::Index>(i)));
    ref_nn[i] = naive_knn(ref_dist[i], k, static_cast<std::ptrdiff_t>(i));
    kdist[i] = ref_dist[i][ref_nn[i].back()];
  }
  const auto lrd = [&kdist, k](const std::vector<double>& dist, const std::vector<std::size_t>& nn) {
    double reach = 0.0;
    for (const std::size_t o : nn) reach += std::max(kdist[o], dist[o]);
    return 1.0 / (reach / static_cast<double>(k) + 1e-10);
  };
  std::vector<double> ref_lrd(n);
  for (std::size_t i = 0; i < n; ++i) ref_lrd[i] = lrd(ref_dist[i], ref_nn[i]);
  std::vector<double> out;
  for (Eigen::Index q = 0; q < queries.rows(); ++q) {
    const auto dist = naive_distances(ref, queries.row(q));
    const auto nn = naive_knn(dist, k);
    double sum = 0.0;
    for (const std::size_t o : nn) sum += ref_lrd[o];
    out.push_back(sum / static_cast<double>(k) / lrd(dist, nn));
  }
  return out;
}

TEST(KnnDensityScorer, ScoreBatch_KthDistance_MatchesNaiveLoop) {
  const Eigen::MatrixXf ref = gaussian(500, 7, 1);
  const Eigen::MatrixXf queries = gaussian(60, 7, 2, 0.5F);
  KnnDensityScorer scorer(KnnDensityScorer::Options{.k = 5, .score = Score::kKthDistance});
  scorer.fit(ref);
  const Eigen::VectorXf scores = scorer.score_batch(queries);
  const auto nb = scorer.neighbours(queries);
  for (Eigen::Index q = 0; q < queries.rows(); ++q) {
    const auto dist = naive_distances(ref, queries.row(q));
    const auto nn = naive_knn(dist, 5);
    EXPECT_NEAR(scores[q], dist[nn.back()], 1e-4 * (1.0 + dist[nn.back()])) << "query " << q;
    for (std::size_t t = 0; t < nn.size(); ++t) {
      EXPECT_EQ(nb.index(q, static_cast<Eigen::Index>(t)), static_cast<std::int32_t>(nn[t])) << "query " << q;
    }
  }
}

TEST(KnnDensityScorer, ScoreBatch_ManyQueryBlocks_MatchesNaiveLoop) {
  // 20,000 references: about 200 queries per block, so 450 queries span three blocks.
  const Eigen::MatrixXf ref = gaussian(20000, 3, 3);
  const Eigen::MatrixXf queries = gaussian(450, 3, 4);
  KnnDensityScorer scorer(KnnDensityScorer::Options{.k = 8});
  scorer.fit(ref);
  const Eigen::VectorXf scores = scorer.score_batch(queries);
  for (Eigen::Index q = 0; q < queries.rows(); q += 7) {
    const auto dist = naive_distances(ref, queries.row(q));
    const double expected = dist[naive_knn(dist, 8).back()];
    EXPECT_NEAR(scores[q], expected, 1e-3 * (1.0 + expected)) << "query " << q;
  }
}

TEST(KnnDensityScorer, ScoreBatch_LofOnTinyExample_MatchesHandComputedValues) {
  // Reference 0, 1, 3 on a line, k = 2: k-distances 3, 2, 3; lrd 1/2.5, 1/3, 1/2.5.
  // q = 2: neighbours 1 and 3 (both at 1), reach-dists 2 and 3, lrd 0.4,
  //   LOF = (1/3 + 0.4) / 2 / 0.4 = 11/12.
  // q = 10: neighbours 3 (7) and 1 (9), reach-dists 7 and 9, lrd 1/8, LOF = 11/30·8 = 44/15.
  Eigen::MatrixXf ref(3, 1);
  ref << 0.0F, 1.0F, 3.0F;
  KnnDensityScorer scorer(KnnDensityScorer::Options{.k = 2, .score = Score::kLof});
  scorer.fit(ref);
  EXPECT_NEAR(scorer.k_distance()[0], 3.0F, 1e-6);
  EXPECT_NEAR(scorer.k_distance()[1], 2.0F, 1e-6);
  EXPECT_NEAR(scorer.k_distance()[2], 3.0F, 1e-6);
  EXPECT_NEAR(scorer.lrd()[1], 1.0F / 3.0F, 1e-6);
  Eigen::MatrixXf queries(2, 1);
  queries << 2.0F, 10.0F;
  const Eigen::VectorXf lof = scorer.score_batch(queries);
  EXPECT_NEAR(lof[0], 11.0 / 12.0, 1e-6);
  EXPECT_NEAR(lof[1], 44.0 / 15.0, 1e-6);
}

TEST(KnnDensityScorer, ScoreBatch_LofOnRandomData_MatchesNaiveDefinition) {
  const Eigen::MatrixXf ref = gaussian(80, 3, 5);
  const Eigen::MatrixXf queries = gaussian(20, 3, 6, 1.0F);
  KnnDensityScorer scorer(KnnDensityScorer::Options{.k = 6, .score = Score::kLof});
  scorer.fit(ref);
  const Eigen::VectorXf lof = scorer.score_batch(queries);
  const auto expected = naive_lof(ref, queries, 6);
  for (Eigen::Index q = 0; q < queries.rows(); ++q) {
    EXPECT_NEAR(lof[q], expected[static_cast<std::size_t>(q)], 1e-4 * expected[static_cast<std::size_t>(q)])
        << "query " << q;
  }
}

TEST(KnnDensityScorer, ScoreBatch_PlantedOutlier_ScoresHighestWithBothScores) {
  const Eigen::MatrixXf ref = gaussian(1000, 5, 7);
  Eigen::MatrixXf queries = gaussian(100, 5, 8);
  queries.row(42).setConstant(4.0F);  // 9 standard deviations from the centre
  for (const Score s : {Score::kKthDistance, Score::kLof}) {
    KnnDensityScorer scorer(KnnDensityScorer::Options{.k = 10, .score = s});
    scorer.fit(ref);
    const Eigen::VectorXf scores = scorer.score_batch(queries);
    Eigen::Index worst = 0;
    scores.maxCoeff(&worst);
    EXPECT_EQ(worst, 42);
    if (s == Score::kLof) {
      EXPECT_GT(scores[42], 2.0F);
    }
  }
}

TEST(KnnDensityScorer, Fit_DuplicateReferencePoints_GiveFiniteLof) {
  Eigen::MatrixXf ref = Eigen::MatrixXf::Zero(10, 2);
  ref.row(9) << 1.0F, 1.0F;
  KnnDensityScorer scorer(KnnDensityScorer::Options{.k = 3, .score = Score::kLof});
  scorer.fit(ref);
  Eigen::MatrixXf queries(2, 2);
  queries << 0.0F, 0.0F, 5.0F, 5.0F;
  const Eigen::VectorXf lof = scorer.score_batch(queries);
  EXPECT_TRUE(lof.allFinite());
  EXPECT_GT(lof[1], lof[0]);
}

TEST(KnnDensityScorer, BadUse_Throws) {
  EXPECT_THROW(KnnDensityScorer(KnnDensityScorer::Options{.k = 0}), std::invalid_argument);
  KnnDensityScorer lof(KnnDensityScorer::Options{.k = 3, .score = Score::kLof});
  EXPECT_THROW((void)lof.score_batch(Eigen::MatrixXf::Zero(1, 2)), std::logic_error);
  EXPECT_THROW(lof.fit(Eigen::MatrixXf::Zero(3, 2)), std::invalid_argument);  // LOF needs k + 1
  KnnDensityScorer kth(KnnDensityScorer::Options{.k = 3});
  kth.fit(Eigen::MatrixXf::Zero(3, 2));
  EXPECT_THROW((void)kth.score_batch(Eigen::MatrixXf::Zero(1, 3)), std::invalid_argument);
  Eigen::MatrixXf nan_ref = Eigen::MatrixXf::Zero(5, 2);
  nan_ref(2, 1) = std::nanf("");
  EXPECT_THROW(kth.fit(nan_ref), std::invalid_argument);
}

}  // namespace
}  // namespace sensorgate::kernels
