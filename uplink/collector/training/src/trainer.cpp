#include "sensorgate/training/trainer.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <limits>

#include "sensorgate/training/kmeans.hpp"
#include "sensorgate/training/linear_regression.hpp"
#include "sensorgate/training/logistic_regression.hpp"
#include "sensorgate/training/metrics.hpp"
#include "sensorgate/uplink/summary_features.hpp"

namespace sensorgate::training {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<float> to_floats(const Eigen::VectorXd& v) {
  std::vector<float> out(static_cast<std::size_t>(v.size()));
  for (Eigen::Index i = 0; i < v.size(); ++i) out[static_cast<std::size_t>(i)] = static_cast<float>(v(i));
  return out;
}

void require_labels(const TrainingSet& set, std::string_view model) {
  if (!set.labels.allFinite()) throw TrainingError(fmt::format("{} needs a label on every row", model));
}

void add_classification(std::vector<Metric>& metrics, std::string_view part, const Eigen::VectorXd& truth,
                        const Eigen::VectorXd& probability) {
  const Eigen::VectorXd predicted = (probability.array() >= 0.5).cast<double>();
  const BinaryCounts counts = binary_counts(truth, predicted);
  const auto name = [&](std::string_view metric) { return fmt::format("{}_{}", part, metric); };
  metrics.push_back({name("accuracy"), accuracy(counts)});
  metrics.push_back({name("precision"), precision(counts)});
  metrics.push_back({name("recall"), recall(counts)});
  metrics.push_back({name("f1"), f1_score(counts)});
  metrics.push_back({name("roc_auc"), roc_auc(truth, probability)});
}

void add_regression(std::vector<Metric>& metrics, std::string_view part, const Eigen::VectorXd& truth,
                    const Eigen::VectorXd& predicted) {
  metrics.push_back({fmt::format("{}_r2", part), r2_score(truth, predicted)});
  metrics.push_back({fmt::format("{}_mse", part), mean_squared_error(truth, predicted)});
}

/// Sum of squared distances of the rows to their nearest centre.
double inertia(const Eigen::MatrixXd& x, const Eigen::MatrixXd& centres) {
  double total = 0;
  for (Eigen::Index i = 0; i < x.rows(); ++i)
    total += (centres.rowwise() - x.row(i)).rowwise().squaredNorm().minCoeff();
  return total;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string TrainResult::metrics_json() const {
  nlohmann::ordered_json json;
  json["train_rows"] = train_rows;
  json["test_rows"] = test_rows;
  // nlohmann writes NaN as null: "undefined for this data" to any reader.
  for (const auto& m : metrics) json[m.name] = m.value;
  return json.dump();
}

double TrainResult::metric(const std::string& name) const {
  for (const auto& m : metrics) {
    if (m.name == name) return m.value;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

uplink::LinearModel to_linear_model(const StandardScaler& scaler, const Eigen::VectorXd& weights, double intercept) {
  uplink::LinearModel m;
  m.mean = to_floats(scaler.mean());
  m.scale = to_floats(scaler.scale());
  m.weights = to_floats(weights);
  m.bias = static_cast<float>(intercept);
  return m;
}

uplink::CentroidModel to_centroid_model(const StandardScaler& scaler, const Eigen::MatrixXd& centres) {
  uplink::CentroidModel m;
  m.mean = to_floats(scaler.mean());
  m.scale = to_floats(scaler.scale());
  m.k = static_cast<std::size_t>(centres.rows());
  m.centroids.reserve(static_cast<std::size_t>(centres.size()));
  for (Eigen::Index r = 0; r < centres.rows(); ++r) {
    for (Eigen::Index c = 0; c < centres.cols(); ++c) m.centroids.push_back(static_cast<float>(centres(r, c)));
  }
  return m;
}

uplink::ModelRecord model_record(uplink::ModelKind kind, std::size_t channels, std::vector<std::uint8_t> payload,
                                 std::int64_t created_at_ns) {
  uplink::ModelRecord record;
  record.kind = kind;
  record.feature_spec = uplink::summary_feature_spec(channels);
  record.created_at_ns = created_at_ns;
  record.payload = std::move(payload);
  return record;
}

TrainResult train(const TrainTestSplit& split, const TrainOptions& options) {
  const TrainingSet& train_set = split.train;
  const TrainingSet& test_set = split.test;
  if (train_set.rows() == 0) {
    throw TrainingError(fmt::format(
        "no training rows: {} windows read, {} without band powers, {} with non-finite features, {} unlabelled, "
        "{} left for testing",
        train_set.windows_read, train_set.skipped_no_band_powers, train_set.skipped_non_finite,
        train_set.skipped_unlabelled, test_set.rows()));
  }
  TrainResult result;
  result.train_rows = train_set.rows();
  result.test_rows = test_set.rows();
  const auto started = Clock::now();
  StandardScaler scaler;
  scaler.fit(train_set.features);
  const Eigen::MatrixXd x_train = scaler.transform(train_set.features);
  const Eigen::MatrixXd x_test = scaler.transform(test_set.features);
  const std::int64_t created = now_ns();

  switch (options.kind) {
    case uplink::ModelKind::kLogisticRegression: {
      require_labels(train_set, "logistic regression");
      require_labels(test_set, "logistic regression");
      LogisticRegressionOptions lr_options;
      lr_options.c = options.c;
      lr_options.progress = options.progress;
      LogisticRegression model(lr_options);
      try {
        model.fit(x_train, train_set.labels);
      } catch (const std::invalid_argument& e) {
        throw TrainingError(
            fmt::format("{} (logistic regression takes labels 0 and 1, with both in the training "
                        "part; linear regression takes any number)",
                        e.what()));
      }
      result.fit_seconds = std::chrono::duration<double>(Clock::now() - started).count();
      result.iterations = model.iterations();
      add_classification(result.metrics, "train", train_set.labels, model.predict_proba(x_train));
      if (test_set.rows() > 0) add_classification(result.metrics, "test", test_set.labels, model.predict_proba(x_test));
      result.record = model_record(
          options.kind, train_set.channels,
          uplink::encode_linear_model(to_linear_model(scaler, model.weights(), model.intercept())), created);
      break;
    }
    case uplink::ModelKind::kLinearRegression: {
      require_labels(train_set, "linear regression");
      require_labels(test_set, "linear regression");
      LinearRegression model(LinearRegressionOptions{options.alpha});
      model.fit(x_train, train_set.labels);
      result.fit_seconds = std::chrono::duration<double>(Clock::now() - started).count();
      add_regression(result.metrics, "train", train_set.labels, model.predict(x_train));
      if (test_set.rows() > 0) add_regression(result.metrics, "test", test_set.labels, model.predict(x_test));
      result.record = model_record(
          options.kind, train_set.channels,
          uplink::encode_linear_model(to_linear_model(scaler, model.weights(), model.intercept())), created);
      if (options.progress) options.progress(1.0);
      break;
    }
    case uplink::ModelKind::kKMeans: {
      if (train_set.rows() < options.k) {
        throw TrainingError(fmt::format("k-means with k = {} needs at least {} training rows, got {}", options.k,
                                        options.k, train_set.rows()));
      }
      KMeansOptions km_options;
      km_options.k = options.k;
      km_options.restarts = options.restarts;
      km_options.seed = options.seed;
      km_options.progress = options.progress;
      KMeans model(km_options);
      model.fit(x_train);
      result.fit_seconds = std::chrono::duration<double>(Clock::now() - started).count();
      result.iterations = model.iterations();
      result.metrics.push_back({"train_inertia", model.inertia()});
      result.metrics.push_back({"train_mean_sq_distance", model.inertia() / static_cast<double>(train_set.rows())});
      if (test_set.rows() > 0) {
        const double test_inertia = inertia(x_test, model.centres());
        result.metrics.push_back({"test_inertia", test_inertia});
        result.metrics.push_back({"test_mean_sq_distance", test_inertia / static_cast<double>(test_set.rows())});
      }
      result.record = model_record(options.kind, train_set.channels,
                                   uplink::encode_centroid_model(to_centroid_model(scaler, model.centres())), created);
      break;
    }
  }
  return result;
}

}  // namespace sensorgate::training
