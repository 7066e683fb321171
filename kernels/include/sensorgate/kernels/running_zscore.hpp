#pragma once
// RunningZScore: per-device feature normalisation before anomaly scoring. It keeps a
// running mean and variance per feature dimension and turns a feature vector into
// z-scores, so that features with large units (band powers in uV^2) do not drown the
// others in a Euclidean distance.
//
// Why exponentially weighted with a half-life in points rather than plain Welford: a
// gateway runs for days while electrode impedance and the subject's state drift, and a
// cumulative mean would stop following them after a few hours. The update is West's
// (1979) weighted form of Welford's algorithm, with every past point's weight multiplied
// by a = 0.5^(1 / half_life_points) per new point:
//   W' = a·W + 1,  delta = x − mean,  mean' = mean + delta / W',  S' = a·S + delta·(x − mean'),
//   variance = S / W.
// With an infinite half-life (the default) a = 1 and this is exactly Welford's algorithm,
// so one class covers both. The half-life should be long against an anomaly (minutes of
// windows), or the anomaly itself is normalised away; callers may also skip update() while
// an event is open so that it does not leak into the statistics.

#include <Eigen/Core>
#include <cstddef>
#include <limits>

namespace sensorgate::kernels {

class RunningZScore {
 public:
  struct Options {
    /// Points after which a point's weight has halved; infinity = no forgetting (Welford).
    double half_life_points = std::numeric_limits<double>::infinity();
  };

  /// `dim` feature dimensions. Throws std::invalid_argument for dim 0 or a half-life <= 0.
  explicit RunningZScore(std::size_t dim, Options options);
  explicit RunningZScore(std::size_t dim) : RunningZScore(dim, Options{}) {}

  /// Folds one feature vector into the statistics. Throws std::invalid_argument when its
  /// size is not dim(); a vector with a non-finite element is skipped (and counted) so that
  /// one bad window cannot poison the statistics for ever.
  void update(const Eigen::Ref<const Eigen::VectorXf>& x);

  /// z-scores (x − mean) / stddev per dimension. A dimension whose standard deviation is
  /// zero (or below 1e-9 of max(|mean|, 1), i.e. rounding noise) gives 0, never NaN or inf;
  /// before any update every dimension gives 0. Throws std::invalid_argument on a size
  /// mismatch.
  [[nodiscard]] Eigen::VectorXf normalize(const Eigen::Ref<const Eigen::VectorXf>& x) const;

  [[nodiscard]] std::size_t dim() const { return static_cast<std::size_t>(mean_.size()); }
  /// Decay per point: 0.5^(1 / half_life_points); 1 for an infinite half-life.
  [[nodiscard]] double decay() const { return decay_; }
  /// Sum of the (decayed) weights of the points seen; the point count when decay() is 1.
  [[nodiscard]] double weight() const { return weight_; }
  [[nodiscard]] std::size_t skipped() const { return skipped_; }
  [[nodiscard]] const Eigen::VectorXd& mean() const { return mean_; }
  /// Weighted population variance S / W per dimension; zeros before any update.
  [[nodiscard]] Eigen::VectorXd variance() const;

 private:
  double decay_ = 1.0;
  double weight_ = 0.0;
  std::size_t skipped_ = 0;
  Eigen::VectorXd mean_;
  Eigen::VectorXd m2_;  ///< weighted sum of squared deviations (S)
};

}  // namespace sensorgate::kernels
