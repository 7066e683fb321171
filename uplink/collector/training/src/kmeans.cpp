#include "sensorgate/training/kmeans.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <random>
#include <stdexcept>

namespace sensorgate::training {
namespace {

/// Squared distance of every row of x to every centre (n x k), by |x|^2 - 2 x.c + |c|^2:
/// one matrix product instead of n * k loops. Clamped at 0 against rounding.
Eigen::MatrixXd squared_distances(const Eigen::Ref<const Eigen::MatrixXd>& x, const Eigen::VectorXd& row_norms,
                                  const Eigen::MatrixXd& centres) {
  Eigen::MatrixXd d2 = -2.0 * (x * centres.transpose());
  d2.colwise() += row_norms;
  d2.rowwise() += centres.rowwise().squaredNorm().transpose();
  return d2.cwiseMax(0.0);
}

/// Nearest centre per row and the total squared distance.
double assign(const Eigen::MatrixXd& d2, Eigen::VectorXi& labels) {
  double inertia = 0;
  for (Eigen::Index i = 0; i < d2.rows(); ++i) {
    Eigen::Index best = 0;
    inertia += d2.row(i).minCoeff(&best);
    labels(i) = static_cast<int>(best);
  }
  return inertia;
}

/// k-means++: the first centre uniformly, each next one with probability proportional to
/// the squared distance to the nearest centre chosen so far.
Eigen::MatrixXd seed_centres(const Eigen::Ref<const Eigen::MatrixXd>& x, std::size_t k, std::mt19937_64& rng) {
  const Eigen::Index n = x.rows();
  Eigen::MatrixXd centres(static_cast<Eigen::Index>(k), x.cols());
  std::uniform_int_distribution<Eigen::Index> first(0, n - 1);
  centres.row(0) = x.row(first(rng));
  Eigen::VectorXd nearest = (x.rowwise() - centres.row(0)).rowwise().squaredNorm();
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (Eigen::Index c = 1; c < centres.rows(); ++c) {
    const double total = nearest.sum();
    Eigen::Index pick = n - 1;
    if (total > 0) {
      double target = unit(rng) * total;
      for (Eigen::Index i = 0; i < n; ++i) {
        target -= nearest(i);
        if (target < 0) {
          pick = i;
          break;
        }
      }
    } else {
      pick = first(rng);  // every row sits on a centre already: any row will do
    }
    centres.row(c) = x.row(pick);
    // In place, row by row: the expression form made GCC 12 (aarch64, -O2) report a false
    // use-after-free inside Eigen's resize, which -Werror turns into a build failure.
    for (Eigen::Index i = 0; i < n; ++i) nearest(i) = std::min(nearest(i), (x.row(i) - centres.row(c)).squaredNorm());
  }
  return centres;
}

}  // namespace

KMeans::KMeans(KMeansOptions options) : options_(std::move(options)) {
  if (options_.k == 0) throw std::invalid_argument("KMeans: k must be >= 1");
  if (options_.restarts == 0) options_.restarts = 1;
}

void KMeans::fit(const Eigen::Ref<const Eigen::MatrixXd>& x) {
  const Eigen::Index n = x.rows();
  const auto k = static_cast<Eigen::Index>(options_.k);
  if (n < k) throw std::invalid_argument(fmt::format("KMeans: {} rows for k = {}", n, k));
  if (!x.allFinite()) throw std::invalid_argument("KMeans: a value is not finite");
  const Eigen::VectorXd row_norms = x.rowwise().squaredNorm();
  // scikit-learn's tolerance is relative to the data: tol * mean per-feature variance.
  const double variance = (x.rowwise() - x.colwise().mean()).colwise().squaredNorm().sum() /
                          static_cast<double>(n * std::max<Eigen::Index>(1, x.cols()));
  const double shift_limit = options_.tolerance * variance;

  std::mt19937_64 rng(options_.seed);
  inertia_ = std::numeric_limits<double>::infinity();
  Eigen::VectorXi labels(n);
  for (std::size_t run = 0; run < options_.restarts; ++run) {
    Eigen::MatrixXd centres = seed_centres(x, options_.k, rng);
    double inertia = 0;
    std::size_t iteration = 0;
    while (true) {
      Eigen::MatrixXd d2 = squared_distances(x, row_norms, centres);
      inertia = assign(d2, labels);
      if (iteration == options_.max_iterations) break;
      ++iteration;
      Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(k, x.cols());
      Eigen::VectorXd counts = Eigen::VectorXd::Zero(k);
      for (Eigen::Index i = 0; i < n; ++i) {
        sums.row(labels(i)) += x.row(i);
        counts(labels(i)) += 1;
      }
      Eigen::MatrixXd next(k, x.cols());
      for (Eigen::Index c = 0; c < k; ++c) {
        if (counts(c) > 0) {
          next.row(c) = sums.row(c) / counts(c);
        } else {
          // An empty cluster takes the row farthest from its own centre: it is the one the
          // current centres explain worst, and the cluster comes back to life.
          Eigen::Index far = 0;
          Eigen::VectorXd own(n);
          for (Eigen::Index i = 0; i < n; ++i) own(i) = d2(i, labels(i));
          own.maxCoeff(&far);
          next.row(c) = x.row(far);
          d2(far, labels(far)) = 0;  // so a second empty cluster takes another row
        }
      }
      const double shift = (next - centres).squaredNorm();
      centres = std::move(next);
      if (shift <= shift_limit) {
        // Converged: one more assignment so the inertia belongs to the final centres.
        inertia = assign(squared_distances(x, row_norms, centres), labels);
        break;
      }
    }
    if (inertia < inertia_) {
      inertia_ = inertia;
      centres_ = centres;
      iterations_ = iteration;
    }
    if (options_.progress) {
      options_.progress(static_cast<double>(run + 1) / static_cast<double>(options_.restarts));
    }
  }
}

Eigen::VectorXi KMeans::predict(const Eigen::Ref<const Eigen::MatrixXd>& x) const {
  if (x.cols() != centres_.cols()) {
    throw std::invalid_argument(fmt::format("KMeans: {} columns, fitted on {}", x.cols(), centres_.cols()));
  }
  Eigen::VectorXi labels(x.rows());
  assign(squared_distances(x, x.rowwise().squaredNorm(), centres_), labels);
  return labels;
}

}  // namespace sensorgate::training
