#pragma once
// KnnDensityScorer: density-based anomaly score of feature vectors against a reference set
// (normal data, e.g. the first minutes of a recording or vectors stored by the collector).
// Two scores:
//  - kKthDistance: Euclidean distance to the k-th nearest reference vector;
//  - kLof: the Local Outlier Factor of Breunig et al. (2000) of the query with respect to
//    the reference, as scikit-learn's LocalOutlierFactor(novelty=True) computes it:
//      k-distance(o)     = distance from reference o to its k-th nearest other reference
//      reach-dist(p, o)  = max(k-distance(o), d(p, o))
//      lrd(p)            = 1 / (mean over o in N_k(p) of reach-dist(p, o) + 1e-10)
//      LOF(p)            = mean over o in N_k(p) of lrd(o) / lrd(p)
//    N_k(p) is exactly k neighbours (ties broken by index), not every point within the
//    k-distance as in the paper; the 1e-10 keeps duplicates finite (as scikit-learn does).
//    LOF is about 1 inside a cluster and grows with isolation.
//
// The neighbour search runs on a NeighbourSearch backend (CPU or GPU, neighbour_search.hpp);
// the scores are computed from its k nearest neighbours on the host. Cost per batch of q
// queries against n references of dimension d: O(q·n·d) for the search. fit() with kLof
// searches the reference among itself: O(n^2·d), a one-off cost (about 1e12 flops for
// n = 100,000 and d = 100: minutes on a small CPU, about a second on a GPU).

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "sensorgate/kernels/neighbour_search.hpp"

namespace sensorgate::kernels {

class KnnDensityScorer {
 public:
  enum class Score : std::uint8_t { kKthDistance, kLof };

  struct Options {
    std::size_t k = 10;
    Score score = Score::kKthDistance;
  };

  /// Searches on `search` (not owned; it must outlive the scorer and is given the
  /// reference by fit()), or on a CPU search of its own when null. Throws
  /// std::invalid_argument for k = 0.
  explicit KnnDensityScorer(Options options, NeighbourSearch* search = nullptr);

  /// Takes the reference set, one vector per row (n × d). Needs n >= k (kKthDistance) or
  /// n >= k + 1 (kLof, whose reference k-distances exclude the point itself) and finite
  /// values; throws std::invalid_argument otherwise. For kLof precomputes every reference
  /// point's k-distance and lrd.
  /// std::runtime_error when the search backend fails.
  void fit(const Eigen::Ref<const RowMatrixXf>& reference);

  /// One score per query row (q × d). Throws std::logic_error before fit(),
  /// std::invalid_argument when d differs from the reference's.
  [[nodiscard]] Eigen::VectorXf score_batch(const Eigen::Ref<const RowMatrixXf>& queries);

  /// The k nearest reference vectors of every query, nearest first.
  [[nodiscard]] Neighbours neighbours(const Eigen::Ref<const RowMatrixXf>& queries);
  /// The scores of queries whose neighbours() are `nb` (score_batch without the search).
  [[nodiscard]] Eigen::VectorXf score_neighbours(const Neighbours& nb) const;

  [[nodiscard]] bool fitted() const { return reference_size_ > 0; }
  [[nodiscard]] std::size_t k() const { return options_.k; }
  [[nodiscard]] std::size_t dim() const { return dim_; }
  [[nodiscard]] std::size_t reference_size() const { return reference_size_; }
  /// kLof only: each reference point's k-distance and local reachability density.
  [[nodiscard]] const Eigen::VectorXf& k_distance() const { return k_distance_; }
  [[nodiscard]] const Eigen::VectorXf& lrd() const { return lrd_; }

 private:
  /// lrd of each query from its neighbours and the reference k-distances.
  [[nodiscard]] Eigen::VectorXf lrd_of(const Neighbours& nb) const;

  Options options_;
  std::unique_ptr<NeighbourSearch> own_search_;  ///< when none was given
  NeighbourSearch* search_;
  std::size_t reference_size_ = 0;
  std::size_t dim_ = 0;
  Eigen::VectorXf k_distance_;  ///< n (kLof)
  Eigen::VectorXf lrd_;         ///< n (kLof)
};

}  // namespace sensorgate::kernels
