#pragma once
// Least-squares linear regression y = w.x + b with an optional ridge penalty alpha * |w|^2
// (b not penalised), like scikit-learn's LinearRegression (alpha = 0) and Ridge(alpha).
// The intercept is handled by centring x and y, so the penalty never touches it.

#include <Eigen/Dense>

namespace sensorgate::training {

struct LinearRegressionOptions {
  double alpha = 0;  ///< ridge strength, >= 0
};

class LinearRegression {
 public:
  explicit LinearRegression(LinearRegressionOptions options = {});

  /// Fits on `x` (rows are samples) and targets `y`. With alpha = 0 a rank-deficient x (a
  /// constant or duplicated feature) gets the minimum-norm solution instead of a failure.
  /// Throws std::invalid_argument on a size mismatch, no rows or a non-finite value.
  void fit(const Eigen::Ref<const Eigen::MatrixXd>& x, const Eigen::Ref<const Eigen::VectorXd>& y);

  [[nodiscard]] Eigen::VectorXd predict(const Eigen::Ref<const Eigen::MatrixXd>& x) const;

  [[nodiscard]] const Eigen::VectorXd& weights() const { return weights_; }
  [[nodiscard]] double intercept() const { return intercept_; }

 private:
  LinearRegressionOptions options_;
  Eigen::VectorXd weights_;
  double intercept_ = 0;
};

}  // namespace sensorgate::training
