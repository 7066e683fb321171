#pragma once
// StreamingKMeans: k centroids of dimension d updated per mini-batch with the forgetful
// rule of Spark MLlib's StreamingKMeans, so that a model trained offline by the collector
// keeps following a slowly drifting stream on the gateway. Score = Euclidean distance to
// the nearest centroid.
//
// Update for one batch of m_total points (Spark's StreamingKMeansModel.update):
//   1. assign each point to its nearest centroid (with the centroids before the batch);
//   2. discount every cluster's weight: n <- n·a, where a = decay_factor per batch, or
//      a = decay_factor^m_total when the time unit is points;
//   3. for a cluster with m new points of mean x:  c' = (c·n·a + x·m) / (n·a + m),
//      n' = n·a + m  (Spark computes the same as c·(1 − λ) + x·λ with λ = m / max(n', 1e-16));
//   4. dying cluster: if the smallest weight < 1e-8 · the largest, the largest cluster is
//      split: both get weight (max + min) / 2, the largest centroid moves to c + p and the
//      smallest to c − p with p = 1e-6 · max(|c_j|, 1) per dimension. Spark uses 1e-14;
//      we use 1e-6 so that the split survives the float serialisation (float epsilon is
//      1.2e-7), otherwise both centroids would be equal again after a round trip.
// A half-life h (in batches or points) gives a = exp(log(0.5) / h), as Spark's setHalfLife.
//
// Initialisation: either set_centroids() (pre-trained, e.g. offline k-means from the
// collector) or, when none are given, the first k pairwise distinct points the stream
// delivers become the centroids with weight 0 and the batch that delivered them is then
// applied normally (so each seeded centroid moves to the mean of its points, one Lloyd
// step). Until k distinct points have arrived only the seeded centroids exist; ready()
// tells whether at least one does.

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace sensorgate::kernels {

class StreamingKMeans {
 public:
  enum class TimeUnit : std::uint8_t { kBatches = 0, kPoints = 1 };

  struct Options {
    std::size_t k = 2;
    std::size_t dim = 1;
    /// Forgetting factor a in [0, 1]; 1 = remember everything (Spark's default).
    double decay_factor = 1.0;
    TimeUnit time_unit = TimeUnit::kBatches;
  };

  /// Decay factor for a half-life in batches or points: exp(log(0.5) / half_life).
  /// Throws std::invalid_argument for half_life <= 0.
  [[nodiscard]] static double decay_for_half_life(double half_life);

  /// Throws std::invalid_argument for k or dim 0, or a decay factor outside [0, 1].
  explicit StreamingKMeans(Options options);

  /// Pre-trained centroids, one per row (k × dim), with their weights (k; empty = all 1).
  /// Throws std::invalid_argument on a shape mismatch or non-finite/negative values.
  void set_centroids(const Eigen::Ref<const Eigen::MatrixXf>& centroids, std::span<const double> weights = {});

  /// Applies one mini-batch, one point per row (m × dim). Rows with a non-finite element
  /// are skipped and counted. Throws std::invalid_argument when the column count is not dim.
  void update(const Eigen::Ref<const Eigen::MatrixXf>& batch);

  /// Index of the nearest centroid (lowest index on ties). Throws std::logic_error before
  /// ready(), std::invalid_argument on a size mismatch.
  [[nodiscard]] std::size_t predict(const Eigen::Ref<const Eigen::VectorXf>& x) const;
  /// Euclidean distance to the nearest centroid; same errors as predict().
  [[nodiscard]] double score(const Eigen::Ref<const Eigen::VectorXf>& x) const;
  /// Per dimension (x_j − c_j)^2 against the nearest centroid: what each feature adds to
  /// the squared score, for naming the channels most responsible for an anomaly.
  [[nodiscard]] Eigen::VectorXf contributions(const Eigen::Ref<const Eigen::VectorXf>& x) const;

  /// Flat float encoding for a ModelEnvelope payload:
  ///   [magic 21319 ("SG"), version 1, k, dim, seeded, decay_factor, time_unit,
  ///    centroids (k × dim, row-major), weights (k)].
  /// Integers are exact in float up to 2^24, which the shape limits keep below.
  [[nodiscard]] std::vector<float> to_flat() const;
  /// Decodes to_flat()'s output. Rejects a wrong magic, an unknown version, a shape that
  /// does not match the length (or `expected_dim` when not 0), non-finite values, negative
  /// weights or a decay outside [0, 1], with std::invalid_argument saying which; never reads
  /// outside `blob`.
  [[nodiscard]] static StreamingKMeans from_flat(std::span<const float> blob, std::size_t expected_dim = 0);

  static constexpr float kFlatMagic = 21319.0F;  // 0x5347, "SG"
  static constexpr float kFlatVersion = 1.0F;
  static constexpr std::size_t kFlatHeader = 7;
  static constexpr std::size_t kMaxK = 65536;
  static constexpr std::size_t kMaxDim = 65536;

  [[nodiscard]] std::size_t k() const { return options_.k; }
  [[nodiscard]] std::size_t dim() const { return options_.dim; }
  [[nodiscard]] double decay_factor() const { return options_.decay_factor; }
  [[nodiscard]] TimeUnit time_unit() const { return options_.time_unit; }
  /// Centroids that exist so far (k once initialised).
  [[nodiscard]] std::size_t seeded() const { return seeded_; }
  [[nodiscard]] bool ready() const { return seeded_ > 0; }
  /// k × dim; rows at or after seeded() are not yet meaningful.
  [[nodiscard]] const Eigen::MatrixXd& centroids() const { return centroids_; }
  [[nodiscard]] const Eigen::VectorXd& weights() const { return weights_; }
  [[nodiscard]] std::size_t skipped_points() const { return skipped_points_; }
  /// How many times a dying cluster was replaced by a split of the largest.
  [[nodiscard]] std::size_t splits() const { return splits_; }

 private:
  /// Nearest seeded centroid and its squared distance.
  [[nodiscard]] std::pair<std::size_t, double> nearest(const Eigen::Ref<const Eigen::VectorXd>& x) const;
  void check_point(Eigen::Index size) const;
  void split_dying_cluster();

  Options options_;
  std::size_t seeded_ = 0;
  std::size_t skipped_points_ = 0;
  std::size_t splits_ = 0;
  Eigen::MatrixXd centroids_;  ///< k × dim, one centroid per row
  Eigen::VectorXd weights_;    ///< k
};

}  // namespace sensorgate::kernels
