#include "sensorgate/kernels/neighbour_search.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "sensorgate/kernels/block_stats.hpp"
#include "sensorgate/kernels/knn_density.hpp"

namespace sensorgate::kernels {
namespace {

RowMatrixXf gaussian(Eigen::Index n, Eigen::Index d, unsigned seed, float offset = 0.0F) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0F, 1.0F);
  RowMatrixXf m(n, d);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < d; ++j) m(i, j) = normal(rng) + offset;
  }
  return m;
}

/// Indices of the k nearest points of `query` by a plain double-precision loop, ties by index.
std::vector<std::int32_t> naive_nearest(const RowMatrixXf& points, const Eigen::RowVectorXf& query, std::size_t k,
                                        Eigen::Index self) {
  std::vector<double> d2(static_cast<std::size_t>(points.rows()));
  for (Eigen::Index i = 0; i < points.rows(); ++i) {
    d2[static_cast<std::size_t>(i)] = (points.row(i).cast<double>() - query.cast<double>()).squaredNorm();
  }
  std::vector<std::int32_t> order(d2.size());
  std::iota(order.begin(), order.end(), 0);
  std::erase(order, static_cast<std::int32_t>(self));
  std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
    return d2[static_cast<std::size_t>(a)] < d2[static_cast<std::size_t>(b)];
  });
  order.resize(k);
  return order;
}

void expect_matches_naive(NeighbourSearch& search, const RowMatrixXf& points, const RowMatrixXf& queries, std::size_t k,
                          bool exclude_self) {
  search.set_points(points);
  const Neighbours nb = search.search(queries, k, exclude_self);
  ASSERT_EQ(nb.dist2.rows(), queries.rows());
  ASSERT_EQ(nb.index.cols(), static_cast<Eigen::Index>(k));
  for (Eigen::Index q = 0; q < queries.rows(); ++q) {
    const auto expected = naive_nearest(points, queries.row(q), k, exclude_self ? q : -1);
    for (std::size_t t = 0; t < k; ++t) {
      const auto ti = static_cast<Eigen::Index>(t);
      EXPECT_EQ(nb.index(q, ti), expected[t]) << "query " << q << " rank " << t;
      const double want = (points.row(expected[t]).cast<double>() - queries.row(q).cast<double>()).squaredNorm();
      EXPECT_NEAR(nb.dist2(q, ti), want, 1e-4 * (1.0 + want));
    }
  }
}

TEST(CpuNeighbourSearch, Search_RandomPoints_MatchesNaiveLoop) {
  CpuNeighbourSearch search;
  expect_matches_naive(search, gaussian(700, 12, 1), gaussian(40, 12, 2, 0.3F), 7, false);
}

TEST(CpuNeighbourSearch, Search_ExcludeSelf_NeverReturnsTheQueryItself) {
  CpuNeighbourSearch search;
  const RowMatrixXf points = gaussian(300, 4, 3);
  expect_matches_naive(search, points, points, 5, true);
}

TEST(CpuNeighbourSearch, Search_BadArguments_Throw) {
  CpuNeighbourSearch search;
  const RowMatrixXf points = gaussian(10, 3, 4);
  EXPECT_THROW((void)search.search(points, 1, false), std::logic_error);
  search.set_points(points);
  EXPECT_THROW((void)search.search(gaussian(2, 4, 5), 1, false), std::invalid_argument);
  EXPECT_THROW((void)search.search(points, 0, false), std::invalid_argument);
  EXPECT_THROW((void)search.search(points, 10, true), std::invalid_argument);
  RowMatrixXf bad = points;
  bad(3, 1) = std::nanf("");
  EXPECT_THROW(search.set_points(bad), std::invalid_argument);
}

// The GPU's results against the CPU's on the same data: neighbour indices equal except
// where two distances are within float rounding of each other, distances within 1e-4
// relative, and LOF / k-th distance scores within 1e-3 relative.
TEST(CudaNeighbourSearch, Search_SameDataAsCpu_SameNeighboursAndScores) {
  if (!cuda_backend_available()) GTEST_SKIP() << "SKIPPED: no CUDA GPU in this build or machine";
  const RowMatrixXf points = gaussian(5000, 128, 6);
  const RowMatrixXf queries = gaussian(300, 128, 7, 0.2F);
  auto gpu = make_cuda_neighbour_search();
  CpuNeighbourSearch cpu;
  gpu->set_points(points);
  cpu.set_points(points);
  for (const std::size_t k : {std::size_t{1}, std::size_t{10}, std::size_t{32}}) {
    for (const bool self : {false, true}) {
      const RowMatrixXf& q = self ? points : queries;
      const Neighbours a = gpu->search(q, k, self);
      const Neighbours b = cpu.search(q, k, self);
      for (Eigen::Index i = 0; i < q.rows(); ++i) {
        for (Eigen::Index t = 0; t < static_cast<Eigen::Index>(k); ++t) {
          const float da = a.dist2(i, t);
          const float db = b.dist2(i, t);
          ASSERT_NEAR(da, db, 1e-4F * (1.0F + db)) << "k " << k << " query " << i << " rank " << t;
          if (a.index(i, t) != b.index(i, t)) {
            // Only a near-tie may swap: the CPU's distance to the GPU's pick must be as close.
            const double other = (points.row(a.index(i, t)) - q.row(i)).squaredNorm();
            EXPECT_NEAR(other, db, 1e-4 * (1.0 + db)) << "k " << k << " query " << i << " rank " << t;
          }
        }
      }
    }
  }
  for (const auto score : {KnnDensityScorer::Score::kKthDistance, KnnDensityScorer::Score::kLof}) {
    KnnDensityScorer on_gpu(KnnDensityScorer::Options{.k = 20, .score = score}, gpu.get());
    KnnDensityScorer on_cpu(KnnDensityScorer::Options{.k = 20, .score = score});
    on_gpu.fit(points);
    on_cpu.fit(points);
    const Eigen::VectorXf sa = on_gpu.score_batch(queries);
    const Eigen::VectorXf sb = on_cpu.score_batch(queries);
    for (Eigen::Index i = 0; i < sa.size(); ++i) EXPECT_NEAR(sa[i], sb[i], 1e-3F * std::abs(sb[i])) << i;
  }
}

TEST(CudaNeighbourSearch, Make_NoGpu_ThrowsRuntimeError) {
  if (cuda_backend_available()) GTEST_SKIP() << "SKIPPED: a GPU is present";
  EXPECT_THROW((void)make_cuda_neighbour_search(), std::runtime_error);
  EXPECT_THROW((void)make_neighbour_search("cuda", {}), std::runtime_error);
}

TEST(MakeNeighbourSearch, UnknownName_ThrowsInvalidArgument) {
  EXPECT_THROW((void)make_neighbour_search("tpu", {}), std::invalid_argument);
}

/// A primary that fails on demand: every search from `fail_from` on (counted across
/// instances) throws, as a GPU that has gone away would.
struct FlakyPrimary final : NeighbourSearch {
  explicit FlakyPrimary(int& calls, int fail_from, int fail_until)
      : calls_(calls), from_(fail_from), until_(fail_until) {}
  [[nodiscard]] std::string_view name() const override { return "flaky"; }
  [[nodiscard]] std::size_t max_k() const override { return 32; }
  void set_points(const Eigen::Ref<const RowMatrixXf>& points) override { inner_.set_points(points); }
  Neighbours search(const Eigen::Ref<const RowMatrixXf>& queries, std::size_t k, bool exclude_self) override {
    ++calls_;
    if (calls_ >= from_ && calls_ < until_) throw std::runtime_error("device lost");
    return inner_.search(queries, k, exclude_self);
  }
  [[nodiscard]] std::size_t points() const override { return inner_.points(); }
  [[nodiscard]] std::size_t dim() const override { return inner_.dim(); }
  int& calls_;
  int from_;
  int until_;
  CpuNeighbourSearch inner_;
};

TEST(FailoverNeighbourSearch, Search_PrimaryFailsMidStream_EveryResultStillDelivered) {
  int calls = 0;
  FailoverNeighbourSearch search([&] { return std::make_unique<FlakyPrimary>(calls, 3, 5); },
                                 FailoverOptions{.retry_after_searches = 2});
  CpuNeighbourSearch reference;
  const RowMatrixXf points = gaussian(200, 6, 8);
  search.set_points(points);
  reference.set_points(points);
  for (int i = 0; i < 12; ++i) {
    const RowMatrixXf queries = gaussian(30, 6, 100 + static_cast<unsigned>(i));
    const Neighbours got = search.search(queries, 4, false);
    const Neighbours want = reference.search(queries, 4, false);
    EXPECT_EQ(got.index, want.index) << "search " << i;
    EXPECT_EQ(got.dist2, want.dist2) << "search " << i;
  }
  // Search 3 fails (redone on the CPU), then 2 CPU searches, the retry (call 4) fails
  // again, 2 more on the CPU, and the primary takes over from call 5.
  EXPECT_EQ(search.counters().failures.load(), 2U);
  EXPECT_EQ(search.counters().recoveries.load(), 2U);
  EXPECT_EQ(search.counters().fallback_searches.load(), 4U);
  EXPECT_EQ(search.counters().primary_searches.load(), 8U);
  EXPECT_TRUE(search.on_primary());
}

TEST(FailoverNeighbourSearch, Search_InjectedFailure_SwitchesOnceAndReturnsToPrimary) {
  auto search = make_neighbour_search("cpu", FailoverOptions{.retry_after_searches = 3, .fail_primary_after = 2});
  const RowMatrixXf points = gaussian(100, 3, 9);
  search->set_points(points);
  for (int i = 0; i < 10; ++i) (void)search->search(points.topRows(5), 2, false);
  const auto* counters = search->failover_counters();
  ASSERT_NE(counters, nullptr);
  EXPECT_EQ(counters->failures.load(), 1U);
  EXPECT_EQ(counters->fallback_searches.load(), 3U);  // the failed one + 2 waiting
  EXPECT_EQ(counters->recoveries.load(), 1U);
  EXPECT_EQ(counters->primary_searches.load(), 7U);
  // Without injection "cpu" is the plain search, no switch around it.
  EXPECT_EQ(make_neighbour_search("cpu", {})->failover_counters(), nullptr);
}

TEST(FailoverNeighbourSearch, Search_CallerError_PropagatesWithoutSwitching) {
  FailoverNeighbourSearch search(make_cpu_neighbour_search, {});
  search.set_points(gaussian(10, 3, 10));
  EXPECT_THROW((void)search.search(gaussian(2, 5, 11), 1, false), std::invalid_argument);
  EXPECT_EQ(search.counters().failures.load(), 0U);
  EXPECT_TRUE(search.on_primary());
}

}  // namespace
}  // namespace sensorgate::kernels
