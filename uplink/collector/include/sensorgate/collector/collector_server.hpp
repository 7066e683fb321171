#pragma once
// CollectorServer: receives UplinkMessages on a ZeroMQ ROUTER socket, verifies them,
// stores a batch of them (windows in one transaction, anomaly events in another) and only
// then acknowledges every stored message to the gateway that sent it. A message that fails
// verification is counted, logged (rate-limited) and dropped; a storage failure leaves the
// batch unacknowledged, so the gateways send it again.
//
// It also delivers model pushes: every push_poll it reads the store's pending push requests
// (queued by `sensorgate-collector push/train --push/rollback`) and sends each as a
// GatewayCommand to the gateways it names that have talked to it, on their own uplink
// connection; their ModelStatus answers come back as uplink messages and are recorded as
// deployments. A push not answered within push_resend_after is sent again.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <zmq.hpp>

#include "sensorgate/collector/store.hpp"
#include "sensorgate/common/stage_metrics.hpp"
#include "sensorgate/uplink/curve_security.hpp"

namespace sensorgate::collector {

struct CollectorOptions {
  std::string bind = "tcp://127.0.0.1:5560";
  std::size_t batch_max_messages = 1024;
  std::chrono::milliseconds batch_max_wait{20};
  std::chrono::milliseconds push_poll{200};
  std::chrono::milliseconds push_resend_after{5000};
  /// CurveZMQ: the collector's key pair and the gateways allowed to connect (ZAP); none:
  /// plaintext. With a named allow-list entry a gateway may only send as that gateway id.
  std::optional<uplink::CurveKeyPair> curve_keys;
  uplink::CurveAllowList allow_list;
};

/// Counters: written only by the server thread, readable from any thread.
struct CollectorCounters {
  std::atomic<std::uint64_t> messages{0};           ///< well-formed messages received
  std::atomic<std::uint64_t> bad_messages{0};       ///< refused by the verifier or checks
  std::atomic<std::uint64_t> rows_stored{0};        ///< window rows written (new, or a higher revision)
  std::atomic<std::uint64_t> rows_duplicate{0};     ///< rows already stored (redelivery)
  std::atomic<std::uint64_t> event_rows_stored{0};  ///< event rows written (new, or replacing an ongoing report)
  std::atomic<std::uint64_t> raw_frames_stored{0};  ///< capture mode: new frames written
  std::atomic<std::uint64_t> acks_sent{0};
  std::atomic<std::uint64_t> store_failures{0};    ///< batches left unacknowledged
  std::atomic<std::uint64_t> commands_sent{0};     ///< model pushes and rollbacks sent to gateways
  std::atomic<std::uint64_t> model_answers{0};     ///< ModelStatus answers received
  std::atomic<std::uint64_t> push_failures{0};     ///< pushes that could not be read or sent
  std::atomic<std::uint64_t> wrong_gateway_id{0};  ///< messages whose gateway id is not their key's name
};

/// What one gateway has sent (the fleet view).
struct GatewayActivity {
  std::uint64_t messages = 0;
  std::uint64_t windows = 0;
  std::uint64_t events = 0;
  std::uint64_t rows = 0;  ///< window rows received (one per channel), redeliveries included
  std::int64_t last_seen_ns = 0;
  std::uint64_t last_sequence = 0;
};

class CollectorServer {
 public:
  CollectorServer(zmq::context_t& context, CollectorOptions options, Store& store);

  /// The endpoint actually bound (resolves a port of 0).
  [[nodiscard]] std::string endpoint() const;

  /// Receives, stores and acknowledges until `stop` becomes true.
  void run(const std::atomic<bool>& stop);

  [[nodiscard]] const CollectorCounters& counters() const { return counters_; }
  /// CurveZMQ admissions and refusals; null in plaintext.
  [[nodiscard]] const uplink::ZapCounters* zap_counters() const { return zap_ ? &zap_->counters() : nullptr; }
  /// The "store" stage: run time of each batch's commit, queue wait from a batch's first
  /// message to its commit (batching delay), one I/O operation per transaction.
  [[nodiscard]] StageSnapshot store_stage() const;
  /// Per gateway id, what it has sent (any thread).
  [[nodiscard]] std::map<std::string, GatewayActivity> gateways() const;

 private:
  CollectorOptions options_;
  /// Sends the pending pushes that are due (see above).
  void deliver_pushes(std::chrono::steady_clock::time_point now);
  void record_answer(const std::string& gateway_id, const uplink::ModelStatusRecord& status);
  void merge_activity(const std::map<std::string, GatewayActivity>& batch);

  Store& store_;
  std::unique_ptr<uplink::ZapAuthenticator> zap_;  // before socket_: it must exist when the socket binds
  zmq::socket_t socket_;
  CollectorCounters counters_;
  StageMetrics store_stage_{"store", "messages"};
  mutable std::mutex gateways_mutex_;
  std::map<std::string, GatewayActivity> gateways_;  // under gateways_mutex_, merged once per batch
  std::map<std::string, std::string> routing_ids_;   // gateway id -> its socket's routing id
  struct SentPush {
    std::chrono::steady_clock::time_point at;
    bool broadcast = false;  // the request names every gateway ("*"): never completed by one answer
  };
  std::map<std::pair<std::int64_t, std::string>, SentPush> sent_;  // by (request id, gateway id)
  std::chrono::steady_clock::time_point next_push_poll_{};
};

}  // namespace sensorgate::collector
