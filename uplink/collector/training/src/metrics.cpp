#include "sensorgate/training/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace sensorgate::training {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_sizes(Eigen::Index a, Eigen::Index b) {
  if (a != b) throw std::invalid_argument(fmt::format("metrics: {} true values but {} predictions", a, b));
}

}  // namespace

BinaryCounts binary_counts(const Eigen::Ref<const Eigen::VectorXd>& truth,
                           const Eigen::Ref<const Eigen::VectorXd>& predicted) {
  check_sizes(truth.size(), predicted.size());
  BinaryCounts c;
  for (Eigen::Index i = 0; i < truth.size(); ++i) {
    const bool t = truth(i) == 1.0;
    const bool p = predicted(i) == 1.0;
    if (t && p) c.true_positives += 1;
    if (!t && p) c.false_positives += 1;
    if (!t && !p) c.true_negatives += 1;
    if (t && !p) c.false_negatives += 1;
  }
  return c;
}

double accuracy(const BinaryCounts& c) {
  const double n = c.true_positives + c.false_positives + c.true_negatives + c.false_negatives;
  return n > 0 ? (c.true_positives + c.true_negatives) / n : kNaN;
}

double precision(const BinaryCounts& c) {
  const double predicted = c.true_positives + c.false_positives;
  return predicted > 0 ? c.true_positives / predicted : 0.0;
}

double recall(const BinaryCounts& c) {
  const double actual = c.true_positives + c.false_negatives;
  return actual > 0 ? c.true_positives / actual : 0.0;
}

double f1_score(const BinaryCounts& c) {
  // 2TP / (2TP + FP + FN) equals 2PR / (P + R) and is defined whenever anything is positive.
  const double denominator = (2 * c.true_positives) + c.false_positives + c.false_negatives;
  return denominator > 0 ? 2 * c.true_positives / denominator : 0.0;
}

double roc_auc(const Eigen::Ref<const Eigen::VectorXd>& truth, const Eigen::Ref<const Eigen::VectorXd>& scores) {
  check_sizes(truth.size(), scores.size());
  // A NaN would break the sort's ordering; a score must be a number to be ranked.
  if (!scores.allFinite()) throw std::invalid_argument("roc_auc: a score is not finite");
  const auto n = static_cast<std::size_t>(truth.size());
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::ranges::sort(order, [&](std::size_t a, std::size_t b) {
    return scores(static_cast<Eigen::Index>(a)) < scores(static_cast<Eigen::Index>(b));
  });
  double positives = 0;
  double rank_sum = 0;  // 1-based ranks of the positives, ties given their average rank
  for (std::size_t start = 0; start < n;) {
    std::size_t end = start;
    const double value = scores(static_cast<Eigen::Index>(order[start]));
    while (end < n && scores(static_cast<Eigen::Index>(order[end])) == value) ++end;
    const double average_rank = (static_cast<double>(start + 1) + static_cast<double>(end)) / 2.0;
    for (std::size_t i = start; i < end; ++i) {
      if (truth(static_cast<Eigen::Index>(order[i])) == 1.0) {
        positives += 1;
        rank_sum += average_rank;
      }
    }
    start = end;
  }
  const double negatives = static_cast<double>(n) - positives;
  if (positives == 0 || negatives == 0) return kNaN;
  return (rank_sum - (positives * (positives + 1) / 2)) / (positives * negatives);
}

double r2_score(const Eigen::Ref<const Eigen::VectorXd>& truth, const Eigen::Ref<const Eigen::VectorXd>& predicted) {
  check_sizes(truth.size(), predicted.size());
  if (truth.size() == 0) return kNaN;
  const double residual = (truth - predicted).squaredNorm();
  const double total = (truth.array() - truth.mean()).matrix().squaredNorm();
  if (total == 0) return residual == 0 ? 1.0 : 0.0;
  return 1.0 - (residual / total);
}

double mean_squared_error(const Eigen::Ref<const Eigen::VectorXd>& truth,
                          const Eigen::Ref<const Eigen::VectorXd>& predicted) {
  check_sizes(truth.size(), predicted.size());
  if (truth.size() == 0) return kNaN;
  return (truth - predicted).squaredNorm() / static_cast<double>(truth.size());
}

}  // namespace sensorgate::training
