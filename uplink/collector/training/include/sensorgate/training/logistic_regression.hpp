#pragma once
// Binary logistic regression with an L2 penalty, the objective of scikit-learn's default
// LogisticRegression(C=1.0):
//   minimise  C * sum_i logloss(y_i, sigmoid(w.x_i + b)) + 0.5 * |w|^2   (b not penalised)
// solved by Newton's method (IRLS) with Eigen's LDLT and a backtracking line search. The
// objective is convex and, with both classes present, has one minimum, so Newton steps
// reach it to near machine precision in a few iterations; scikit-learn's lbfgs stops
// earlier (tol 1e-4), which is why comparisons use a tight sklearn tol.
// Callers standardise the features first (StandardScaler): the penalty assumes
// comparable feature scales.

#include <Eigen/Dense>

#include <cstddef>

#include "sensorgate/training/progress.hpp"

namespace sensorgate::training {

struct LogisticRegressionOptions {
  double c = 1.0;            ///< inverse regularisation strength, > 0
  double tolerance = 1e-10;  ///< stop when the largest gradient component is below this (relative to n * C)
  std::size_t max_iterations = 100;
  ProgressCallback progress;  ///< per Newton iteration: how far the gradient has come down
};

class LogisticRegression {
 public:
  explicit LogisticRegression(LogisticRegressionOptions options = {});

  /// Fits on `x` (rows are samples) and `y` (0 or 1 per row). Throws std::invalid_argument
  /// on a size mismatch, no rows, a y that is not 0/1, or only one class present.
  void fit(const Eigen::Ref<const Eigen::MatrixXd>& x, const Eigen::Ref<const Eigen::VectorXd>& y);

  /// P(class 1) per row.
  [[nodiscard]] Eigen::VectorXd predict_proba(const Eigen::Ref<const Eigen::MatrixXd>& x) const;

  [[nodiscard]] const Eigen::VectorXd& weights() const { return weights_; }
  [[nodiscard]] double intercept() const { return intercept_; }
  [[nodiscard]] std::size_t iterations() const { return iterations_; }
  /// False when max_iterations ran out before the tolerance was reached.
  [[nodiscard]] bool converged() const { return converged_; }

 private:
  LogisticRegressionOptions options_;
  Eigen::VectorXd weights_;
  double intercept_ = 0;
  std::size_t iterations_ = 0;
  bool converged_ = false;
};

/// The logistic function, without overflow for large |z|.
[[nodiscard]] double sigmoid(double z);

}  // namespace sensorgate::training
