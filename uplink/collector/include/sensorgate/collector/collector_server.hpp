#pragma once
// CollectorServer: receives UplinkMessages on a ZeroMQ ROUTER socket, verifies them,
// stores a batch of them (windows in one transaction, anomaly events in another) and only
// then acknowledges every stored message to the gateway that sent it. A message that fails
// verification is counted, logged (rate-limited) and dropped; a storage failure leaves the
// batch unacknowledged, so the gateways send it again.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include <zmq.hpp>

#include "sensorgate/collector/sqlite_store.hpp"

namespace sensorgate::collector {

struct CollectorOptions {
  std::string bind = "tcp://127.0.0.1:5560";
  std::size_t batch_max_messages = 1024;
  std::chrono::milliseconds batch_max_wait{20};
};

/// Counters: written only by the server thread, readable from any thread.
struct CollectorCounters {
  std::atomic<std::uint64_t> messages{0};           ///< well-formed messages received
  std::atomic<std::uint64_t> bad_messages{0};       ///< refused by the verifier or checks
  std::atomic<std::uint64_t> rows_stored{0};        ///< window rows written (new, or a higher revision)
  std::atomic<std::uint64_t> rows_duplicate{0};     ///< rows already stored (redelivery)
  std::atomic<std::uint64_t> event_rows_stored{0};  ///< event rows written (new, or replacing an ongoing report)
  std::atomic<std::uint64_t> acks_sent{0};
  std::atomic<std::uint64_t> store_failures{0};  ///< batches left unacknowledged
};

class CollectorServer {
 public:
  CollectorServer(zmq::context_t& context, CollectorOptions options, SqliteStore& store);

  /// The endpoint actually bound (resolves a port of 0).
  [[nodiscard]] std::string endpoint() const;

  /// Receives, stores and acknowledges until `stop` becomes true.
  void run(const std::atomic<bool>& stop);

  [[nodiscard]] const CollectorCounters& counters() const { return counters_; }

 private:
  CollectorOptions options_;
  SqliteStore& store_;
  zmq::socket_t socket_;
  CollectorCounters counters_;
};

}  // namespace sensorgate::collector
