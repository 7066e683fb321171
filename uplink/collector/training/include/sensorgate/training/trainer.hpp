#pragma once
// Trainer: one call from a time split to a model ready to sign. Fits a StandardScaler on
// the training rows, the model on the standardised rows, reports metrics on both parts,
// and packs the scaler with the model into a payload (uplink/model_payload.hpp) so the
// gateway applies the same standardisation to its raw live features.

#include <Eigen/Dense>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sensorgate/training/progress.hpp"
#include "sensorgate/training/standard_scaler.hpp"
#include "sensorgate/training/training_set.hpp"
#include "sensorgate/uplink/model_envelope.hpp"
#include "sensorgate/uplink/model_payload.hpp"

namespace sensorgate::training {

struct TrainOptions {
  uplink::ModelKind kind = uplink::ModelKind::kLogisticRegression;
  double c = 1.0;             ///< logistic regression: inverse L2 strength
  double alpha = 0;           ///< linear regression: ridge strength
  std::size_t k = 8;          ///< k-means: clusters
  std::size_t restarts = 10;  ///< k-means: n_init
  std::uint64_t seed = 0;     ///< k-means: seeding
  ProgressCallback progress;
};

struct Metric {
  std::string name;  ///< e.g. "test_accuracy"
  double value = 0;  ///< NaN when undefined (e.g. ROC-AUC of a one-class test part)
};

struct TrainResult {
  /// Kind, feature spec, creation time and payload; version 0 until the caller assigns
  /// the store's next version and signs.
  uplink::ModelRecord record;
  std::vector<Metric> metrics;
  std::size_t train_rows = 0;
  std::size_t test_rows = 0;
  double fit_seconds = 0;  ///< scaler and model fit, without loading or metrics
  std::size_t iterations = 0;

  /// {"train_rows":..,"test_rows":..,"<metric>":..} with NaN as null.
  [[nodiscard]] std::string metrics_json() const;
  /// NaN when there is no metric of that name.
  [[nodiscard]] double metric(const std::string& name) const;
};

/// Trains `options.kind` on split.train and evaluates on both parts. Logistic regression
/// needs labels 0/1 with both classes in the training part; linear regression takes the
/// label as its target; k-means ignores labels. Throws TrainingError when the data cannot
/// train that model (no rows, missing labels, one class, fewer rows than k).
[[nodiscard]] TrainResult train(const TrainTestSplit& split, const TrainOptions& options);

/// Payload models from fitted parts (the payload stores float).
[[nodiscard]] uplink::LinearModel to_linear_model(const StandardScaler& scaler, const Eigen::VectorXd& weights,
                                                  double intercept);
[[nodiscard]] uplink::CentroidModel to_centroid_model(const StandardScaler& scaler, const Eigen::MatrixXd& centres);

/// A record for `payload` with feature_spec = summary_feature_spec(channels).
[[nodiscard]] uplink::ModelRecord model_record(uplink::ModelKind kind, std::size_t channels,
                                               std::vector<std::uint8_t> payload, std::int64_t created_at_ns);

}  // namespace sensorgate::training
