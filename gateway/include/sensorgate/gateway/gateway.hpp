#pragma once
// Gateway: the whole edge pipeline, wired in one place, read top to bottom:
//
//   MqttIngest (Paho thread)     --decode/verify--> IngestSink "mqtt"        --FrameChunks--> per-device SpscRing
//   SerialIngest (its Asio thread) --decode/verify--> IngestSink "serial:PORT" --FrameChunks--> per-device SpscRing
//     --> ShardWorker x N (sequence tracking, event-time windows, batched moments backend,
//                         batched anomaly scoring: AnomalyStage,
//                         the pushed model's prediction: WindowClassifier)
//     --window summaries, anomaly events--> per-worker SpscRing --> UplinkSender (ZeroMQ, acks, resend, spool)
//   UplinkSender <--model push / rollback-- collector: ModelInbox verifies, swaps the ModelSlot
//   MqttIngest <--<prefix>/<device>/labels-- labelled replays: LabelBook (ground truth per window)
//
// stop() shuts down in the same order, so nothing already accepted is lost: ingest stops,
// the workers drain their rings and flush every open window, the uplink waits (bounded)
// for the collector to acknowledge everything, and the ingest journals forget what is
// then safe.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <zmq.hpp>

#include "sensorgate/common/stage_metrics.hpp"
#include "sensorgate/gateway/device_registry.hpp"
#include "sensorgate/gateway/gateway_config.hpp"
#include "sensorgate/gateway/ingest_sink.hpp"
#include "sensorgate/gateway/label_book.hpp"
#include "sensorgate/gateway/live_model.hpp"
#include "sensorgate/gateway/live_view.hpp"
#include "sensorgate/gateway/model_inbox.hpp"
#include "sensorgate/gateway/mqtt_ingest.hpp"
#include "sensorgate/gateway/serial_ingest.hpp"
#include "sensorgate/gateway/shard_worker.hpp"
#include "sensorgate/uplink/uplink_sender.hpp"

namespace sensorgate {

struct DeviceSnapshot {
  std::string id;
  std::uint16_t channels = 0;
  double sample_rate_hz = 0;
  std::uint64_t frames_accepted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;
  std::uint64_t missing = 0;
  std::uint64_t too_old = 0;
  std::uint64_t late = 0;
  double drift_ppm = 0;
  std::string source;         ///< the ingest source streaming it ("mqtt", "serial:/dev/ttyUSB0")
  std::size_t ring_used = 0;  ///< chunks waiting in the device's ring (approximate)
  std::size_t ring_capacity = 0;
};

/// Totals across the pipeline's stages at one moment, and per device.
struct GatewaySnapshot {
  std::uint64_t mqtt_messages = 0;
  std::uint64_t mqtt_connects = 0;  ///< successful broker connections, the first included
  std::uint64_t mqtt_connection_losses = 0;
  std::uint64_t mqtt_reconnects = 0;  ///< successful automatic reconnections after a loss
  std::uint64_t bad_payloads = 0;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_windowed = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;
  std::uint64_t missing = 0;
  std::uint64_t late = 0;
  std::uint64_t ring_full_waits = 0;
  std::uint64_t rejected_batches = 0;  ///< device limit reached, channel count changed, or id owned by another source
  std::uint64_t frames_dropped_on_stop = 0;
  std::uint64_t frames_dropped_oldest = 0;  ///< policy drop_oldest
  std::uint64_t windows_dropped_on_stop = 0;
  std::uint64_t windows = 0;
  std::uint64_t windows_scored = 0;      ///< windows given an anomaly score
  std::uint64_t windows_unscorable = 0;  ///< no band powers, model not ready, non-finite features
  std::uint64_t anomaly_events = 0;      ///< anomaly events confirmed (and uplinked)
  std::uint64_t events_dropped_on_stop = 0;
  std::uint64_t gpu_failures = 0;          ///< GPU errors (statistics and scoring), each switched to the CPU
  std::uint64_t cpu_fallback_batches = 0;  ///< scoring batches done on the CPU because of them
  std::uint64_t uplink_sent = 0;
  std::uint64_t uplink_acked = 0;
  std::uint64_t uplink_in_flight = 0;
  std::uint64_t spool_bytes = 0;               ///< gauge: disk spool size (0 without a spool)
  std::uint64_t spool_pending = 0;             ///< gauge: spooled messages not yet acknowledged
  std::uint64_t spool_recovered = 0;           ///< unacknowledged messages read back at start
  std::uint64_t spool_dropped_overflow = 0;    ///< dropped by spool_max_mb
  std::uint64_t spool_corrupt = 0;             ///< corrupt records found at start (skipped)
  std::uint64_t spool_write_failures = 0;      ///< appends and fsyncs that failed (disk full): kept in memory only
  std::uint64_t journal_bytes = 0;             ///< gauge: ingest journal size (0 without a journal)
  std::uint64_t journal_pending = 0;           ///< gauge: journaled batches whose windows are not safe yet
  std::uint64_t journal_replayed = 0;          ///< batches replayed from the journal at start
  std::uint64_t journal_replay_rejected = 0;   ///< journal records that could not be replayed
  std::uint64_t journal_dropped_overflow = 0;  ///< batches deleted unsafe by journal_max_mb
  std::uint64_t journal_corrupt = 0;           ///< corrupt journal records found at start (skipped)
  std::uint64_t journal_write_failures = 0;    ///< appends and fsyncs that failed (disk full)
  std::uint64_t models_accepted = 0;           ///< pushed models verified and put live
  std::uint64_t models_rejected = 0;           ///< pushed models refused (signature, hash, spec, payload)
  std::uint64_t model_rollbacks = 0;
  std::uint32_t model_version = 0;           ///< the live model; 0: none
  std::uint64_t model_persist_failures = 0;  ///< envelopes that could not be kept in model.dir
  std::uint64_t windows_classified = 0;      ///< windows given the live model's prediction
  std::uint64_t windows_unclassifiable = 0;  ///< other channel count, no band powers, bad features
  std::uint64_t windows_labelled = 0;        ///< windows with a label from the stream
  std::uint64_t labels_received = 0;         ///< label messages accepted
  std::uint64_t bad_labels = 0;              ///< label messages refused
  std::uint64_t bad_commands = 0;            ///< collector commands that could not be read
  std::uint64_t raw_frames_captured = 0;     ///< frames uplinked in capture mode
  std::uint64_t raw_frames_dropped_on_stop = 0;
  std::size_t devices = 0;
  std::vector<DeviceSnapshot> device_details;
  std::optional<SerialStats> serial;  ///< when serial ingest is configured
};

/// The snapshot as a JSON object (the --stats-json file, /api/v1/summary).
nlohmann::json snapshot_json(const GatewaySnapshot& snapshot);
/// snapshot_json, indented.
std::string to_json(const GatewaySnapshot& snapshot);

class Gateway {
 public:
  explicit Gateway(GatewayConfig config);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  /// Starts workers and uplink, then ingest; throws when the broker is unreachable or the
  /// serial port cannot be opened.
  void start();
  /// Ordered shutdown (see above); returns the number of summaries left unacknowledged.
  std::size_t stop();

  [[nodiscard]] GatewaySnapshot snapshot() const;
  /// Every pipeline stage (ingest_decode, ring_handoff, window_stats, feature_score,
  /// uplink, spool), each merged over its instances (workers, ingest sources).
  [[nodiscard]] std::vector<StageSnapshot> stages() const;
  [[nodiscard]] LatencyHistogram::Snapshot uplink_ack_round_trip() const { return uplink_->ack_round_trip(); }
  [[nodiscard]] const LiveView& live_view() const { return live_; }
  [[nodiscard]] const GatewayConfig& config() const { return config_; }
  /// The block statistics backend in use ("cpu", "cuda").
  [[nodiscard]] std::string backend_name() const;

 private:
  /// Payloads the transports refused before they reached a sink (MQTT and serial).
  [[nodiscard]] std::uint64_t bad_payloads() const;

  GatewayConfig config_;
  zmq::context_t zmq_{1};
  DeviceRegistry registry_;
  ModelSlot models_;
  LabelBook labels_;
  LiveView live_;
  ModelInbox inbox_;
  std::atomic<bool> ingest_stopping_{false};
  // One sink per transport: each is driven by its transport's thread only, and has its
  // own journal (null without ingest.journal_dir).
  IngestSink mqtt_sink_;
  std::unique_ptr<IngestJournal> mqtt_journal_;
  std::unique_ptr<IngestJournal> serial_journal_;
  std::unique_ptr<MqttIngest> mqtt_;  // null when MQTT is disabled
  std::unique_ptr<IngestSink> serial_sink_;
  std::unique_ptr<SerialIngest> serial_;  // null without a serial port
  std::vector<std::unique_ptr<uplink::UplinkRing>> output_rings_;
  std::vector<std::unique_ptr<ShardWorker>> workers_;
  std::unique_ptr<uplink::UplinkSender> uplink_;
  std::atomic<bool> workers_stop_{false};
  std::atomic<std::int64_t> workers_deadline_ns_{INT64_MAX};
  std::vector<std::thread> worker_threads_;
  std::thread uplink_thread_;
  std::size_t unacked_at_exit_ = 0;
  bool running_ = false;
};

}  // namespace sensorgate
