#pragma once
// Gateway: the whole edge pipeline, wired in one place, read top to bottom:
//
//   MqttIngest (Paho thread) --decode/verify--> IngestSink --FrameChunks--> per-device SpscRing
//     --> ShardWorker x N (sequence tracking, event-time windows, batched moments backend)
//     --WindowSummaryRecords--> per-worker SpscRing --> UplinkSender (ZeroMQ, acks, resend)
//
// stop() shuts down in the same order, so nothing already accepted is lost: ingest stops,
// the workers drain their rings and flush every open window, and the uplink waits
// (bounded) for the collector to acknowledge everything.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "sensorgate/gateway/device_registry.hpp"
#include "sensorgate/gateway/gateway_config.hpp"
#include "sensorgate/gateway/ingest_sink.hpp"
#include "sensorgate/gateway/mqtt_ingest.hpp"
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
};

/// Totals across the pipeline's stages at one moment, and per device.
struct GatewaySnapshot {
  std::uint64_t mqtt_messages = 0;
  std::uint64_t bad_payloads = 0;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_windowed = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;
  std::uint64_t missing = 0;
  std::uint64_t late = 0;
  std::uint64_t ring_full_waits = 0;
  std::uint64_t rejected_batches = 0;  ///< device limit reached or channel count changed
  std::uint64_t frames_dropped_on_stop = 0;
  std::uint64_t frames_dropped_oldest = 0;  ///< policy drop_oldest
  std::uint64_t windows_dropped_on_stop = 0;
  std::uint64_t windows = 0;
  std::uint64_t uplink_sent = 0;
  std::uint64_t uplink_acked = 0;
  std::uint64_t uplink_in_flight = 0;
  std::size_t devices = 0;
  std::vector<DeviceSnapshot> device_details;
};

/// The snapshot as JSON (the --stats-json file).
std::string to_json(const GatewaySnapshot& snapshot);

class Gateway {
 public:
  explicit Gateway(GatewayConfig config);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  /// Starts workers and uplink, then connects ingest; throws when the broker is unreachable.
  void start();
  /// Ordered shutdown (see above); returns the number of summaries left unacknowledged.
  std::size_t stop();

  [[nodiscard]] GatewaySnapshot snapshot() const;

 private:
  GatewayConfig config_;
  zmq::context_t zmq_{1};
  DeviceRegistry registry_;
  std::atomic<bool> ingest_stopping_{false};
  IngestSink sink_;
  MqttIngest mqtt_;
  std::vector<std::unique_ptr<uplink::SummaryRing>> summary_rings_;
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
