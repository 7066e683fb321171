#include "sensorgate/kernels/running_zscore.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace sensorgate::kernels {

namespace {

void check_size(Eigen::Index got, Eigen::Index want) {
  if (got != want) {
    throw std::invalid_argument("RunningZScore: feature vector has " + std::to_string(got) + " dimensions, expected " +
                                std::to_string(want));
  }
}

}  // namespace

RunningZScore::RunningZScore(std::size_t dim, Options options)
    : mean_(Eigen::VectorXd::Zero(static_cast<Eigen::Index>(dim))),
      m2_(Eigen::VectorXd::Zero(static_cast<Eigen::Index>(dim))) {
  if (dim == 0) throw std::invalid_argument("RunningZScore: dim must be at least 1");
  if (!(options.half_life_points > 0.0)) throw std::invalid_argument("RunningZScore: half_life_points must be > 0");
  decay_ = std::isinf(options.half_life_points) ? 1.0 : std::exp(std::log(0.5) / options.half_life_points);
}

void RunningZScore::update(const Eigen::Ref<const Eigen::VectorXf>& x) {
  check_size(x.size(), mean_.size());
  if (!x.allFinite()) {
    ++skipped_;
    return;
  }
  const Eigen::VectorXd xd = x.cast<double>();
  weight_ = decay_ * weight_ + 1.0;
  const Eigen::VectorXd delta = xd - mean_;
  mean_ += delta / weight_;
  m2_ = decay_ * m2_ + delta.cwiseProduct(xd - mean_);
}

Eigen::VectorXd RunningZScore::variance() const {
  if (weight_ <= 0.0) return Eigen::VectorXd::Zero(mean_.size());
  // Rounding can leave S a hair below zero; a variance is never negative.
  return (m2_ / weight_).cwiseMax(0.0);
}

Eigen::VectorXf RunningZScore::normalize(const Eigen::Ref<const Eigen::VectorXf>& x) const {
  check_size(x.size(), mean_.size());
  const Eigen::VectorXd var = variance();
  Eigen::VectorXf z(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double sd = std::sqrt(var[i]);
    const double floor = 1e-9 * std::max(std::abs(mean_[i]), 1.0);
    z[i] = sd <= floor ? 0.0F : static_cast<float>((static_cast<double>(x[i]) - mean_[i]) / sd);
  }
  return z;
}

}  // namespace sensorgate::kernels
