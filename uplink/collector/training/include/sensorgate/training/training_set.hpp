#pragma once
// TrainingSet: stored windows turned into the feature matrix models train on, with the
// features the gateway computes live (uplink::summary_features), so a model sees in
// training exactly what it will see in the field. Windows that cannot give features are
// skipped and counted, never silently dropped.

#include <Eigen/Dense>

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "sensorgate/collector/store.hpp"

namespace sensorgate::training {

/// Training cannot go on with this data (mixed channel counts, nothing usable, labels a
/// model cannot use); the message says what to change.
class TrainingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TrainingSet {
  std::size_t channels = 0;
  Eigen::MatrixXd features;  ///< one row per window, channels * kSummaryFeaturesPerChannel columns
  Eigen::VectorXd labels;    ///< per row; NaN where the window has no label
  std::vector<std::int64_t> window_start_ns;
  std::vector<std::string> device_ids;

  std::size_t windows_read = 0;            ///< windows handed to build_training_set
  std::size_t skipped_no_band_powers = 0;  ///< band powers off at the gateway
  std::size_t skipped_non_finite = 0;      ///< a feature is not finite
  std::size_t skipped_unlabelled = 0;      ///< only when labels are required

  [[nodiscard]] std::size_t rows() const { return window_start_ns.size(); }
  [[nodiscard]] std::string feature_spec() const;
  /// The rows at `indices`, in that order (counts and channels copied).
  [[nodiscard]] TrainingSet subset(std::span<const std::size_t> indices) const;
};

/// Features of every usable window. With `require_labels`, unlabelled windows are skipped
/// too. Throws TrainingError when the usable windows do not all have one channel count.
[[nodiscard]] TrainingSet build_training_set(std::span<const collector::LabelledWindow> windows, bool require_labels);

struct TrainTestSplit {
  TrainingSet train;
  TrainingSet test;
};

/// Splits by time, without shuffling: rows ordered by window start, the earliest
/// (1 - test_fraction) train, the rest test, so no window from the test period's future
/// informs training. Windows that start at the same time (several devices on the same
/// window grid) stay on one side: the cut moves earlier to the start of their group, or
/// later when that would leave no training rows. Throws std::invalid_argument unless
/// 0 <= test_fraction < 1.
[[nodiscard]] TrainTestSplit split_by_time(const TrainingSet& set, double test_fraction);

/// Column names of the summary features: c<channel>_<logvar|logrange|delta|theta|alpha|beta|gamma>.
[[nodiscard]] std::vector<std::string> summary_feature_names(std::size_t channels);

/// Writes both parts as CSV: device_id, window_start_ns, the features, label (empty when
/// none), split ("train" or "test"): what scripts/sklearn_logreg_compare.py reads.
void write_features_csv(std::ostream& out, const TrainTestSplit& split);

}  // namespace sensorgate::training
