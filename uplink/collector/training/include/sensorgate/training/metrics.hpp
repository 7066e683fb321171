#pragma once
// Evaluation metrics, defined as scikit-learn defines them so numbers can be compared:
// binary classification with positive class 1, and regression. A metric that is
// undefined for its input (no positives for recall, one class for ROC-AUC) is 0 or NaN as
// documented per function, never a division by zero.

#include <Eigen/Dense>

namespace sensorgate::training {

struct BinaryCounts {
  double true_positives = 0;
  double false_positives = 0;
  double true_negatives = 0;
  double false_negatives = 0;
};

/// Counts of `predicted` (0/1) against `truth` (0/1); anything but 1 counts as 0.
/// Throws std::invalid_argument on a size mismatch.
[[nodiscard]] BinaryCounts binary_counts(const Eigen::Ref<const Eigen::VectorXd>& truth,
                                         const Eigen::Ref<const Eigen::VectorXd>& predicted);

/// Share of rows predicted right; NaN without rows.
[[nodiscard]] double accuracy(const BinaryCounts& c);
/// TP / (TP + FP); 0 when nothing was predicted positive (scikit-learn's zero_division).
[[nodiscard]] double precision(const BinaryCounts& c);
/// TP / (TP + FN); 0 when there are no positives.
[[nodiscard]] double recall(const BinaryCounts& c);
/// Harmonic mean of precision and recall; 0 when both are 0.
[[nodiscard]] double f1_score(const BinaryCounts& c);

/// Area under the ROC curve of `scores` for `truth` (0/1): the probability that a random
/// positive scores above a random negative, ties counted half (Mann-Whitney U with average
/// ranks). NaN when only one class is present; throws std::invalid_argument on a non-finite
/// score or a size mismatch.
[[nodiscard]] double roc_auc(const Eigen::Ref<const Eigen::VectorXd>& truth,
                             const Eigen::Ref<const Eigen::VectorXd>& scores);

/// 1 - SS_res / SS_tot. With constant truth: 1 for a perfect prediction, else 0 (as
/// scikit-learn). NaN without rows.
[[nodiscard]] double r2_score(const Eigen::Ref<const Eigen::VectorXd>& truth,
                              const Eigen::Ref<const Eigen::VectorXd>& predicted);
/// Mean squared error; NaN without rows.
[[nodiscard]] double mean_squared_error(const Eigen::Ref<const Eigen::VectorXd>& truth,
                                        const Eigen::Ref<const Eigen::VectorXd>& predicted);

}  // namespace sensorgate::training
