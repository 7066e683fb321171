#pragma once
// StandardScaler: per feature x' = (x - mean) / scale with the training rows' mean and
// population standard deviation, as scikit-learn's StandardScaler. A constant feature
// gets scale 1 (so it maps to 0 instead of dividing by zero); the scale is also what a
// payload stores, as float, so anything that would round to 0 there counts as constant.

#include <Eigen/Dense>

namespace sensorgate::training {

class StandardScaler {
 public:
  /// Learns mean and scale from `x` (rows are samples). Throws std::invalid_argument when
  /// `x` has no rows.
  void fit(const Eigen::Ref<const Eigen::MatrixXd>& x);
  /// (x - mean) / scale, row by row. Throws std::invalid_argument on a column mismatch.
  [[nodiscard]] Eigen::MatrixXd transform(const Eigen::Ref<const Eigen::MatrixXd>& x) const;

  [[nodiscard]] const Eigen::VectorXd& mean() const { return mean_; }
  [[nodiscard]] const Eigen::VectorXd& scale() const { return scale_; }

 private:
  Eigen::VectorXd mean_;
  Eigen::VectorXd scale_;
};

}  // namespace sensorgate::training
