#include "sensorgate/training/logistic_regression.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sensorgate::training {
namespace {

constexpr Eigen::Index kRowBlock = 4096;

/// log(1 + exp(z)) without overflow.
double softplus(double z) {
  return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}

struct Problem {
  const Eigen::Ref<const Eigen::MatrixXd>& x;
  const Eigen::Ref<const Eigen::VectorXd>& y;
  double c;

  /// theta = [w; b].
  [[nodiscard]] Eigen::VectorXd margins(const Eigen::VectorXd& theta) const {
    const Eigen::Index d = x.cols();
    return (x * theta.head(d)).array() + theta(d);
  }

  [[nodiscard]] double objective(const Eigen::VectorXd& theta) const {
    const Eigen::VectorXd z = margins(theta);
    double loss = 0;
    // logloss = softplus(z) - y z, for y in {0, 1}.
    for (Eigen::Index i = 0; i < z.size(); ++i) loss += softplus(z(i)) - (y(i) * z(i));
    return (c * loss) + (0.5 * theta.head(x.cols()).squaredNorm());
  }
};

}  // namespace

double sigmoid(double z) {
  return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
}

LogisticRegression::LogisticRegression(LogisticRegressionOptions options) : options_(std::move(options)) {
  if (!(options_.c > 0)) throw std::invalid_argument("LogisticRegression: C must be > 0");
}

void LogisticRegression::fit(const Eigen::Ref<const Eigen::MatrixXd>& x, const Eigen::Ref<const Eigen::VectorXd>& y) {
  const Eigen::Index n = x.rows();
  const Eigen::Index d = x.cols();
  if (n == 0) throw std::invalid_argument("LogisticRegression: no rows to fit");
  if (y.size() != n) throw std::invalid_argument(fmt::format("LogisticRegression: {} rows but {} labels", n, y.size()));
  Eigen::Index positives = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (y(i) != 0.0 && y(i) != 1.0) {
      throw std::invalid_argument(fmt::format("LogisticRegression: label {} is not 0 or 1", y(i)));
    }
    if (y(i) == 1.0) ++positives;
  }
  if (positives == 0 || positives == n) {
    throw std::invalid_argument(
        fmt::format("LogisticRegression: needs both classes, got {} of class 1 in {} rows", positives, n));
  }

  const Problem problem{x, y, options_.c};
  // Start from w = 0 and the intercept of the class balance: the optimum without features.
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(d + 1);
  const double base_rate = static_cast<double>(positives) / static_cast<double>(n);
  theta(d) = std::log(base_rate / (1 - base_rate));
  double objective = problem.objective(theta);
  // The gradient is a sum over n rows weighted by C, so the tolerance scales with n * C.
  const double gradient_scale = std::max(1.0, options_.c * static_cast<double>(n));
  double first_gradient = -1;
  double reported = 0;
  converged_ = false;
  iterations_ = 0;

  Eigen::VectorXd penalty = Eigen::VectorXd::Ones(d + 1);
  penalty(d) = 0;
  Eigen::MatrixXd hessian(d + 1, d + 1);

  for (; iterations_ < options_.max_iterations; ++iterations_) {
    const Eigen::VectorXd z = problem.margins(theta);
    Eigen::VectorXd p(n);
    for (Eigen::Index i = 0; i < n; ++i) p(i) = sigmoid(z(i));
    const Eigen::VectorXd residual = p - y;
    Eigen::VectorXd gradient(d + 1);
    gradient.head(d) = options_.c * (x.transpose() * residual);
    gradient(d) = options_.c * residual.sum();
    gradient += penalty.cwiseProduct(theta);
    const double gmax = gradient.cwiseAbs().maxCoeff() / gradient_scale;
    if (first_gradient < 0) first_gradient = std::max(gmax, options_.tolerance * 10);
    if (options_.progress && gmax > options_.tolerance) {
      // Newton converges fast, so the log of the gradient's fall is a fair measure of the
      // share of work done.
      const double done = std::log(first_gradient / gmax) / std::log(first_gradient / options_.tolerance);
      reported = std::max(reported, std::clamp(done, 0.0, 0.99));
      options_.progress(reported);
    }
    if (gmax <= options_.tolerance) {
      converged_ = true;
      break;
    }
    // Hessian = C * [X 1]^T diag(p(1-p)) [X 1] + diag(penalty), lower triangle only,
    // accumulated over row blocks so no n x d temporary is ever made.
    hessian = Eigen::MatrixXd(penalty.asDiagonal());
    for (Eigen::Index start = 0; start < n; start += kRowBlock) {
      const Eigen::Index m = std::min(kRowBlock, n - start);
      const Eigen::ArrayXd root = (p.segment(start, m).array() * (1 - p.segment(start, m).array())).sqrt();
      Eigen::MatrixXd u(d + 1, m);
      u.topRows(d) = x.middleRows(start, m).transpose() * root.matrix().asDiagonal();
      u.row(d) = root.matrix().transpose();
      hessian.selfadjointView<Eigen::Lower>().rankUpdate(u, options_.c);
    }
    // Positive definite with both classes present, so LDLT is stable and cheaper than QR.
    const Eigen::LDLT<Eigen::MatrixXd, Eigen::Lower> ldlt(hessian);
    if (ldlt.info() != Eigen::Success)
      throw std::runtime_error("LogisticRegression: the Hessian could not be factored");
    const Eigen::VectorXd step = ldlt.solve(gradient);
    // Backtracking (Armijo) so a far start on near-separable data cannot overshoot.
    const double slope = gradient.dot(step);
    double t = 1;
    Eigen::VectorXd next = theta - step;
    double next_objective = problem.objective(next);
    while (next_objective > objective - (1e-4 * t * slope) && t > 1e-10) {
      t *= 0.5;
      next = theta - (t * step);
      next_objective = problem.objective(next);
    }
    if (next_objective >= objective && t <= 1e-10) {
      // No decrease possible in floating point: already at the minimum for all practical purposes.
      converged_ = true;
      break;
    }
    theta = next;
    objective = next_objective;
  }
  weights_ = theta.head(d);
  intercept_ = theta(d);
  if (options_.progress) options_.progress(1.0);
}

Eigen::VectorXd LogisticRegression::predict_proba(const Eigen::Ref<const Eigen::MatrixXd>& x) const {
  if (x.cols() != weights_.size()) {
    throw std::invalid_argument(fmt::format("LogisticRegression: {} columns, fitted on {}", x.cols(), weights_.size()));
  }
  Eigen::VectorXd z = (x * weights_).array() + intercept_;
  for (Eigen::Index i = 0; i < z.size(); ++i) z(i) = sigmoid(z(i));
  return z;
}

}  // namespace sensorgate::training
