#include "sensorgate/training/standard_scaler.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace sensorgate::training {

void StandardScaler::fit(const Eigen::Ref<const Eigen::MatrixXd>& x) {
  if (x.rows() == 0) throw std::invalid_argument("StandardScaler: no rows to fit");
  mean_ = x.colwise().mean().transpose();
  // Population deviation (ddof = 0), like scikit-learn; centred first so large offsets
  // (log powers around a constant) do not cancel digits away.
  scale_ = ((x.rowwise() - mean_.transpose()).colwise().squaredNorm() / static_cast<double>(x.rows()))
               .cwiseSqrt()
               .transpose();
  for (Eigen::Index j = 0; j < scale_.size(); ++j) {
    // Rounding noise on a constant column is ~eps * |mean|; treat it as constant, as
    // scikit-learn does, and so is anything the float payload would store as 0.
    const double noise = 10 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::abs(mean_(j)));
    if (!(scale_(j) > noise) || static_cast<float>(scale_(j)) < std::numeric_limits<float>::min()) scale_(j) = 1.0;
  }
}

Eigen::MatrixXd StandardScaler::transform(const Eigen::Ref<const Eigen::MatrixXd>& x) const {
  if (x.cols() != mean_.size()) {
    throw std::invalid_argument(fmt::format("StandardScaler: {} columns, fitted on {}", x.cols(), mean_.size()));
  }
  return (x.rowwise() - mean_.transpose()).array().rowwise() / scale_.transpose().array();
}

}  // namespace sensorgate::training
