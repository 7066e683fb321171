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
// Method: CPU brute force with Eigen. For a block of queries Q and the reference R the
// squared distances are ||r||^2 + ||q||^2 − 2·R·Q^T (one GEMM, in float, clamped at 0),
// then std::nth_element selects the k smallest per query. Cost per batch of q queries
// against n references of dimension d: O(q·n·d) flops + O(q·n) selection, memory
// O(block·n) with queries processed in blocks of about 4 M distances (16 MB). fit() with
// kLof does the same for the reference against itself: O(n^2·d), a one-off cost (about
// 1e12 flops for n = 100,000 and d = 100). The float GEMM loses relative precision about
// 1e-6·(||q||^2 + ||r||^2) in a squared distance, harmless for z-scored features.

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sensorgate::kernels {

class KnnDensityScorer {
 public:
  enum class Score : std::uint8_t { kKthDistance, kLof };

  struct Options {
    std::size_t k = 10;
    Score score = Score::kKthDistance;
  };

  /// Throws std::invalid_argument for k = 0.
  explicit KnnDensityScorer(Options options);

  /// Takes the reference set, one vector per row (n × d). Needs n >= k (kKthDistance) or
  /// n >= k + 1 (kLof, whose reference k-distances exclude the point itself) and finite
  /// values; throws std::invalid_argument otherwise. For kLof precomputes every reference
  /// point's k-distance and lrd.
  void fit(const Eigen::Ref<const Eigen::MatrixXf>& reference);

  /// One score per query row (q × d). Throws std::logic_error before fit(),
  /// std::invalid_argument when d differs from the reference's.
  [[nodiscard]] Eigen::VectorXf score_batch(const Eigen::Ref<const Eigen::MatrixXf>& queries) const;

  /// Squared distances and reference indices of the k nearest reference vectors of every
  /// query, nearest first: row i of each q × k matrix belongs to query i.
  struct Neighbours {
    Eigen::MatrixXf dist2;
    Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic> index;
  };
  [[nodiscard]] Neighbours neighbours(const Eigen::Ref<const Eigen::MatrixXf>& queries) const;

  [[nodiscard]] bool fitted() const { return reference_.rows() > 0; }
  [[nodiscard]] std::size_t k() const { return options_.k; }
  [[nodiscard]] std::size_t dim() const { return static_cast<std::size_t>(reference_.cols()); }
  [[nodiscard]] std::size_t reference_size() const { return static_cast<std::size_t>(reference_.rows()); }
  /// kLof only: each reference point's k-distance and local reachability density.
  [[nodiscard]] const Eigen::VectorXf& k_distance() const { return k_distance_; }
  [[nodiscard]] const Eigen::VectorXf& lrd() const { return lrd_; }

 private:
  /// k nearest of each query; `exclude_self` skips reference index i for query i (fit()).
  [[nodiscard]] Neighbours search(const Eigen::Ref<const Eigen::MatrixXf>& queries, bool exclude_self) const;
  /// lrd of each query from its neighbours and the reference k-distances.
  [[nodiscard]] Eigen::VectorXf lrd_of(const Neighbours& nb) const;

  Options options_;
  Eigen::MatrixXf reference_;        ///< n × d
  Eigen::VectorXf reference_norm2_;  ///< n: ||r||^2
  Eigen::VectorXf k_distance_;       ///< n (kLof)
  Eigen::VectorXf lrd_;              ///< n (kLof)
};

}  // namespace sensorgate::kernels
