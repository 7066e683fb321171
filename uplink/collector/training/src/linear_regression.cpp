#include "sensorgate/training/linear_regression.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace sensorgate::training {

LinearRegression::LinearRegression(LinearRegressionOptions options) : options_(options) {
  if (!(options_.alpha >= 0)) throw std::invalid_argument("LinearRegression: alpha must be >= 0");
}

void LinearRegression::fit(const Eigen::Ref<const Eigen::MatrixXd>& x, const Eigen::Ref<const Eigen::VectorXd>& y) {
  if (x.rows() == 0) throw std::invalid_argument("LinearRegression: no rows to fit");
  if (y.size() != x.rows()) {
    throw std::invalid_argument(fmt::format("LinearRegression: {} rows but {} targets", x.rows(), y.size()));
  }
  if (!x.allFinite() || !y.allFinite()) throw std::invalid_argument("LinearRegression: a value is not finite");
  const Eigen::RowVectorXd x_mean = x.colwise().mean();
  const double y_mean = y.mean();
  const Eigen::MatrixXd xc = x.rowwise() - x_mean;
  const Eigen::VectorXd yc = y.array() - y_mean;
  if (options_.alpha > 0) {
    // (Xc^T Xc + alpha I) is positive definite: normal equations with LDLT.
    Eigen::MatrixXd gram = xc.transpose() * xc;
    gram.diagonal().array() += options_.alpha;
    weights_ = gram.ldlt().solve(xc.transpose() * yc);
  } else {
    // Without a penalty the normal equations square the condition number and fail on a
    // constant column; a complete orthogonal decomposition gives the minimum-norm answer.
    weights_ = xc.completeOrthogonalDecomposition().solve(yc);
  }
  intercept_ = y_mean - x_mean.dot(weights_);
}

Eigen::VectorXd LinearRegression::predict(const Eigen::Ref<const Eigen::MatrixXd>& x) const {
  if (x.cols() != weights_.size()) {
    throw std::invalid_argument(fmt::format("LinearRegression: {} columns, fitted on {}", x.cols(), weights_.size()));
  }
  return (x * weights_).array() + intercept_;
}

}  // namespace sensorgate::training
