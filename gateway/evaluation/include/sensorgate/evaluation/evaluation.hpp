#pragma once
// Offline evaluation of the anomaly detector (`sensorgate-gateway evaluate`): recordings or
// synthetic EEG are played through the gateway's own processing (a ShardWorker: sequence
// tracking, event-time windows, the scoring backend, the anomaly stage) as one device, and
// the scores are compared with ground-truth labels.
//
// Stream layout: the reference recordings (optional) come first and only train the model
// (z-score, k-means, kNN reference); after a gap of one window the inputs follow back to
// back, starting exactly on a window boundary T0. Every reported time is relative to T0,
// the time of the inputs' first frame.
//
// Metrics (over the input windows that got a score):
//  - ROC-AUC of the window scores against window labels (a window is positive when it
//    overlaps a labelled interval), with ties counted half (Mann-Whitney);
//  - per-event recall: labelled intervals overlapped by at least one detected event;
//  - false alarms per hour: detected events overlapping no labelled interval, per hour of
//    input;
//  - detection latency: from a labelled interval's start to the end of the window at which
//    the first event overlapping it was first reported (the alarm time).

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sensorgate/gateway/gateway_config.hpp"

namespace sensorgate::evaluation {

struct EvaluateOptions {
  /// Recording files, or "synthetic:SECONDS" (reference: clean synthetic EEG).
  std::vector<std::string> references;
  /// Recording files, or "synthetic:SECONDS" (synthetic EEG with labelled anomalies).
  std::vector<std::string> inputs;
  /// Labels CSV (device_id,type,start_ns,end_ns,channels), times relative to T0.
  std::optional<std::filesystem::path> labels;
  std::string channels;                ///< channel spec for recordings ("" = all)
  std::optional<double> file_rate_hz;  ///< rate of recordings that state none
  std::filesystem::path out_dir;
  std::uint64_t seed = 1;
  double anomaly_rate_per_hour = 60;  ///< synthetic inputs
  /// Keep learning on the inputs (as the gateway does); none: only without references, so
  /// a model fitted on references is scored frozen, as scikit-learn's novelty detectors are.
  std::optional<bool> learn_online;
  GatewayConfig config;  ///< windows, processing.backend, anomaly, fault
};

struct LabelInterval {
  std::string type;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
};

struct TypeSummary {
  std::size_t labels = 0;
  std::size_t detected = 0;
  std::vector<double> latencies_s;
};

struct EvaluationSummary {
  std::size_t windows = 0;    ///< input windows
  std::size_t scored = 0;     ///< input windows with a score
  std::size_t positives = 0;  ///< scored windows overlapping a label
  std::optional<double> auc;  ///< none without both classes
  std::size_t labels = 0;
  std::size_t detected = 0;
  std::size_t events = 0;
  std::size_t false_alarms = 0;
  double input_hours = 0;
  std::vector<double> latencies_s;
  std::map<std::string, TypeSummary> by_type;
  std::string backend;
  std::uint64_t backend_failures = 0;
  std::uint64_t fallback_batches = 0;
};

/// Runs the evaluation and writes scores.csv, features.csv, events.csv and summary.json
/// into out_dir (created). Throws std::runtime_error (unreadable inputs, mismatched rates
/// or channel counts, bad labels) and sim::RecordingError.
EvaluationSummary run_evaluation(const EvaluateOptions& options);

/// Reads a labels CSV; throws std::runtime_error naming the file and line.
std::vector<LabelInterval> read_labels(const std::filesystem::path& path);

/// ROC-AUC of `scores` against `labels` (0/1), ties counted half; none without both classes.
std::optional<double> roc_auc(const std::vector<double>& scores, const std::vector<int>& labels);

/// summary.json's text.
std::string to_json(const EvaluationSummary& summary);

}  // namespace sensorgate::evaluation
