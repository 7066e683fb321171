#pragma once
// ShardWorker: one processing thread owning a shard of the devices (device index modulo
// the number of workers). Each tick it drains the shard's rings in place: sequence
// tracking -> event time from the sequence number (DeviceClock) -> pane assignment -> one
// batched backend call for the block statistics of every drained chunk -> merge into panes
// -> close the windows the watermark has passed (band powers computed then) -> one batched
// anomaly scoring call for every window closed in the tick (AnomalyStage) -> the pushed
// model's prediction and the stream's label (WindowClassifier) -> summaries and anomaly
// events into the uplink ring. Ring slots are released only after the backend has
// read them, so no sample is copied between ingest and the backend.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "sensorgate/common/stage_metrics.hpp"
#include "sensorgate/gateway/anomaly_stage.hpp"
#include "sensorgate/gateway/device_clock.hpp"
#include "sensorgate/gateway/device_registry.hpp"
#include "sensorgate/gateway/live_view.hpp"
#include "sensorgate/gateway/raw_frame_capture.hpp"
#include "sensorgate/gateway/sequence_tracker.hpp"
#include "sensorgate/gateway/window_aggregator.hpp"
#include "sensorgate/gateway/window_classifier.hpp"
#include "sensorgate/kernels/block_stats.hpp"
#include "sensorgate/kernels/spectrum.hpp"
#include "sensorgate/uplink/uplink_sender.hpp"

namespace sensorgate {

/// One closed window as scored, for an observer of the worker (evaluate's feature export).
struct WindowTap {
  const std::string& device_id;
  const ClosedWindow& window;
  std::span<const float> features;  ///< z-scored features; empty when not computed
  float score;                      ///< NaN when not scored
};

struct WorkerOptions {
  WindowSpec windows;
  AnomalyOptions anomaly;
  /// Called on the worker thread for every window closed (after scoring); may be empty.
  std::function<void(const WindowTap&)> window_tap;
  /// A device silent for this long (wall clock) has its open windows closed.
  std::chrono::milliseconds idle_timeout{2000};
  /// Chunks taken from one device per tick, so one busy device cannot starve the others.
  std::size_t max_chunks_per_device = 64;
  /// The pushed model to classify windows with, and labels that came with the stream;
  /// null: none (set by Gateway, which owns both).
  const ModelSlot* models = nullptr;
  const LabelBook* labels = nullptr;
  /// Where emitted windows and events are shown to the HTTP API; null: nowhere.
  LiveView* live_view = nullptr;
  /// Capture mode: uplink the accepted frames themselves too (capture.raw_frames), in
  /// records of up to this many frames; 0 = off.
  std::size_t capture_frames_per_record = 0;
};

/// Totals over the shard's devices: written by the worker, readable from any thread.
struct WorkerCounters {
  std::atomic<std::uint64_t> frames{0};  ///< frames accepted into windows
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> reordered{0};
  std::atomic<std::uint64_t> gap_frames{0};
  std::atomic<std::uint64_t> too_old{0};
  std::atomic<std::uint64_t> late_frames{0};
  std::atomic<std::uint64_t> frames_dropped_oldest{0};  ///< discarded unprocessed (policy drop_oldest)
  std::atomic<std::uint64_t> windows_closed{0};
  std::atomic<std::uint64_t> window_updates{0};              ///< corrected windows emitted again (late policy update)
  std::atomic<std::uint64_t> uplink_full_waits{0};           ///< times a full uplink ring made the worker wait
  std::atomic<std::uint64_t> windows_dropped_on_stop{0};     ///< given up at shutdown (uplink stuck)
  std::atomic<std::uint64_t> events_dropped_on_stop{0};      ///< anomaly events given up at shutdown
  std::atomic<std::uint64_t> windows_scored{0};              ///< windows given an anomaly score
  std::atomic<std::uint64_t> windows_unscorable{0};          ///< no band powers, model not ready, bad values
  std::atomic<std::uint64_t> anomaly_events{0};              ///< anomaly events confirmed
  std::atomic<std::uint64_t> scoring_failures{0};            ///< GPU scoring errors (switched to the CPU)
  std::atomic<std::uint64_t> scoring_fallbacks{0};           ///< scoring batches done on the CPU after one
  std::atomic<std::uint64_t> stats_failures{0};              ///< GPU block-statistics errors (redone on the CPU)
  std::atomic<std::uint64_t> raw_frames_captured{0};         ///< frames uplinked in capture mode
  std::atomic<std::uint64_t> raw_frames_dropped_on_stop{0};  ///< captured frames given up at shutdown
};

class ShardWorker {
 public:
  ShardWorker(std::size_t shard, std::size_t shards, DeviceRegistry& registry, WorkerOptions options,
              std::unique_ptr<kernels::BlockStatsBackend> backend, uplink::UplinkRing& output);

  /// Processes until `stop` is set; then drains the rings, closes every window and
  /// returns. Output waits give up (counted) after `stop_deadline_ns` (steady clock).
  void run(const std::atomic<bool>& stop, const std::atomic<std::int64_t>& stop_deadline_ns);

  /// One tick on the caller's thread instead of run() (sensorgate-gateway evaluate, which
  /// must drain the output ring between steps): returns the chunks processed. With
  /// `flush_all` every window is closed and every open anomaly event ended.
  std::size_t step(bool flush_all);

  [[nodiscard]] const WorkerCounters& counters() const { return counters_; }
  [[nodiscard]] std::string_view backend_name() const { return backend_->name(); }
  /// The scoring backend ("" without anomaly scoring) and its failover counters (null without).
  [[nodiscard]] std::string_view scoring_backend_name() const;
  [[nodiscard]] const kernels::FailoverCounters* scoring_counters() const;
  [[nodiscard]] const ClassifierCounters& classifier_counters() const { return classifier_.counters(); }
  /// This worker's stages with their drops: "ring_handoff" (queue wait: how long the oldest
  /// chunk of a device waited in its ring when the worker took it), "window_stats"
  /// (sequence tracking, panes, the statistics backend, window close; per tick with data)
  /// and "feature_score" (anomaly features and the scoring backend; per tick with windows).
  [[nodiscard]] std::vector<StageSnapshot> stage_snapshots() const;

 private:
  struct DeviceState {
    DeviceStream* stream = nullptr;
    SequenceTracker sequence;
    DeviceClock clock;
    WindowAggregator windows;
    std::chrono::steady_clock::time_point last_data;
    std::size_t taken = 0;  // chunks acquired this tick
  };

  [[nodiscard]] std::size_t max_frames_per_tick(std::uint16_t channels) const;
  void adopt_new_devices();
  /// Policy drop_oldest: discards up to `chunks` of the oldest chunks of `device`.
  void drop_oldest(DeviceState& device, std::uint32_t chunks);
  /// One pass over the shard; returns the number of chunks processed.
  std::size_t tick(bool flush_all);
  /// Uplinks the records capture mode gathered this tick.
  void emit_captured();
  /// Scores closed_ (when anomaly scoring is on) and emits every window and event.
  void score_and_emit(bool flush_all);
  /// Pushes `record` into the output ring, waiting while it is full; false when given up
  /// at shutdown.
  bool push_output(uplink::UplinkRecord record);
  void publish_counters();

  std::size_t shard_;
  std::size_t shards_;
  DeviceRegistry& registry_;
  WorkerOptions options_;
  std::unique_ptr<kernels::BlockStatsBackend> backend_;
  uplink::UplinkRing& output_;
  std::vector<DeviceState> devices_;
  std::size_t seen_devices_ = 0;
  BlockPlan plan_;
  std::vector<kernels::Moments> moments_;
  std::vector<std::uint32_t> histogram_;
  kernels::BandPowerCalculator bands_;
  std::vector<SequenceTracker::Range> accepted_;
  std::vector<ClosedWindow> closed_;
  std::vector<std::uint32_t> closed_device_;  ///< index into devices_ per closed_ window
  std::optional<AnomalyStage> anomaly_;
  WindowClassifier classifier_;
  std::optional<RawFrameCapture> capture_;
  std::vector<uplink::RawFramesRecord> captured_;
  std::uint64_t raw_frames_captured_ = 0;
  std::uint64_t raw_frames_dropped_ = 0;
  std::vector<ScoringInput> scoring_inputs_;
  std::vector<float> scores_;
  std::vector<kernels::AnomalyEvent> events_;
  std::uint64_t windows_closed_ = 0;
  std::uint64_t windows_dropped_ = 0;
  std::uint64_t events_dropped_ = 0;
  std::uint64_t uplink_waits_ = 0;
  std::uint64_t frames_dropped_oldest_ = 0;
  StageMetrics handoff_stage_{"ring_handoff", "chunks"};
  StageMetrics stats_stage_{"window_stats", "frames"};
  StageMetrics score_stage_{"feature_score", "windows"};
  const std::atomic<bool>* stop_ = nullptr;
  const std::atomic<std::int64_t>* stop_deadline_ns_ = nullptr;
  WorkerCounters counters_;
};

}  // namespace sensorgate
