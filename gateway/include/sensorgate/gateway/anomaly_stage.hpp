#pragma once
// AnomalyStage: scores the windows a ShardWorker closed in one tick, all devices at once.
//
// Per window: features (window_features.hpp) -> the device's running z-score -> one
// batched nearest-neighbour search for the whole tick on the scoring backend (GPU or CPU,
// with failover) -> raw score: distance to the nearest k-means centroid, distance to the
// k-th nearest reference vector, or LOF -> divided by the running mean of the raw scores
// of normal windows, so thresholds read "times the usual" whatever the method and feature
// count -> the device's AnomalyDetector (hysteresis, minimum duration) -> events.
//
// Learning, after scoring: a window below the enter threshold is normal; it updates its
// device's z-score, the shared streaming k-means (one mini-batch per tick) and, for
// kNN/LOF, joins the reference set (refitted before scoring once it has grown by a tenth,
// up to its maximum).
// Anomalous windows are not learned, so an anomaly does not become the norm. A device's
// first `warmup_windows` windows only learn (score NaN: the z-score needs a baseline), as
// do windows ending before `train_until_ns` (sensorgate-gateway evaluate's reference).
// Corrections of already-scored windows (revision > 0) are not scored again.

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "sensorgate/gateway/window_aggregator.hpp"
#include "sensorgate/kernels/anomaly_detector.hpp"
#include "sensorgate/kernels/knn_density.hpp"
#include "sensorgate/kernels/neighbour_search.hpp"
#include "sensorgate/kernels/running_zscore.hpp"
#include "sensorgate/kernels/streaming_kmeans.hpp"

namespace sensorgate {

enum class ScoreMethod : std::uint8_t { kKMeans, kKthDistance, kLof };

struct AnomalyOptions {
  bool enabled = false;
  ScoreMethod method = ScoreMethod::kKMeans;
  /// "cpu", "cuda" or "auto" (processing.backend).
  std::string backend = "cpu";
  std::size_t clusters = 8;
  /// Half-life of the k-means weights, in learned windows (Spark's time unit "points").
  double kmeans_half_life_windows = 3600;
  std::size_t neighbours = 10;
  /// Most vectors in the kNN/LOF reference set.
  std::size_t max_reference = 10000;
  /// Half-life of the per-device z-score in learned windows; infinity = never forget.
  double zscore_half_life_windows = std::numeric_limits<double>::infinity();
  std::size_t warmup_windows = 60;
  double enter_threshold = 3.0;
  double exit_threshold = 2.0;
  std::size_t min_duration_windows = 1;
  std::size_t max_channels = 3;
  kernels::FailoverOptions failover;
  /// Windows ending at or before this only learn (evaluate's reference recordings).
  std::int64_t train_until_ns = std::numeric_limits<std::int64_t>::min();
  /// false: after the warm-up / training windows the model is frozen (z-scores, k-means,
  /// reference and score scale stay as trained), as a detector fitted offline would be.
  bool learn_online = true;
};

/// A closed window to score, with the device it belongs to.
struct ScoringInput {
  std::uint32_t device_index = 0;
  const ClosedWindow* window = nullptr;
};

/// Totals, written by the owning worker, readable from any thread.
struct AnomalyCounters {
  std::atomic<std::uint64_t> scored{0};      ///< windows given a score
  std::atomic<std::uint64_t> learned{0};     ///< windows learned as normal
  std::atomic<std::uint64_t> unscorable{0};  ///< no band powers / model not ready / non-finite
  std::atomic<std::uint64_t> events{0};      ///< events confirmed
};

class AnomalyStage {
 public:
  /// Throws std::invalid_argument for inconsistent options, std::runtime_error when the
  /// backend asked for is unavailable ("cuda" without a GPU).
  explicit AnomalyStage(AnomalyOptions options);

  /// Scores `windows` (in event-time order per device): `scores[i]` for windows[i] (NaN
  /// when not scored); events confirmed or closed are appended to `events`, and the
  /// z-scored feature vectors of the scored and learned windows are kept in features().
  void process(std::span<const ScoringInput> windows, std::span<float> scores,
               std::vector<kernels::AnomalyEvent>& events);

  /// Closes every device's open event (end of stream).
  void flush(std::vector<kernels::AnomalyEvent>& events);

  /// Row i: the z-scored features of windows[i] of the last process() call (NaN rows for
  /// windows without features).
  [[nodiscard]] const kernels::RowMatrixXf& features() const { return features_; }
  [[nodiscard]] const AnomalyCounters& counters() const { return counters_; }
  /// The scoring backend's failover counters; null for the plain CPU search.
  [[nodiscard]] const kernels::FailoverCounters* backend_counters() const { return search_->failover_counters(); }
  [[nodiscard]] std::string_view backend_name() const { return search_->name(); }

 private:
  struct DeviceModel {
    kernels::RunningZScore zscore;
    kernels::AnomalyDetector detector;
    std::size_t windows = 0;
  };

  DeviceModel& device(std::uint32_t index, std::size_t dim);
  /// Raw scores of the rows `rows` of features_, NaN where the model is not ready; and the
  /// index of each row's nearest centroid or reference vector (for the contributions).
  void score_rows(std::span<const Eigen::Index> rows, std::vector<float>& raw, std::vector<std::int32_t>& nearest);
  void learn(std::span<const Eigen::Index> rows);
  /// kNN/LOF: refits the reference once the learned vectors have grown by a tenth.
  void refit_if_grown();
  /// Adds a normal window's raw score to the running mean the scores are divided by.
  void update_scale(float raw);
  [[nodiscard]] Eigen::VectorXf contributions(Eigen::Index row, std::int32_t nearest) const;

  AnomalyOptions options_;
  std::unique_ptr<kernels::NeighbourSearch> search_;
  std::unordered_map<std::uint32_t, DeviceModel> devices_;
  std::size_t dim_ = 0;
  std::optional<kernels::StreamingKMeans> kmeans_;
  kernels::RowMatrixXf centroids_;  ///< the k-means centroids the last search used
  std::optional<kernels::KnnDensityScorer> knn_;
  std::vector<float> reference_;  ///< kNN/LOF: learned vectors, row-major
  kernels::RowMatrixXf fitted_reference_;
  double scale_ = 0.0;                 ///< running mean of normal raw scores
  std::uint64_t scale_n_ = 0;          ///< raw scores in scale_ so far
  kernels::RowMatrixXf features_;      ///< z-scored, one row per window of the last batch
  kernels::RowMatrixXf raw_features_;  ///< before z-scoring
  std::vector<float> raw_;
  std::vector<std::int32_t> nearest_;
  AnomalyCounters counters_;
};

}  // namespace sensorgate
