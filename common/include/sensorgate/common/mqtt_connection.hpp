#pragma once
// MqttConnection: one Paho async client connected with MqttConnectionOptions (TLS,
// credentials, persistent or clean session, automatic reconnect with backoff), shared by
// the gateway's ingest and the simulator's publisher. It turns a failed first connection
// into an MqttConnectError that names the cause (not authorised, TLS handshake, broker
// unreachable, timeout) instead of Paho's return code, and counts connects, connection
// losses and reconnects.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "sensorgate/common/mqtt_connection_options.hpp"

namespace mqtt {
class async_client;
}

namespace sensorgate {

/// Exit status of sensorgate-gateway and sensorgate-sim when the first connection to the
/// broker fails (not authorised, TLS handshake, unreachable, timeout); 1 stays "other fatal
/// error", 2 "bad configuration".
inline constexpr int kExitMqttConnectFailed = 4;

/// The first connection to the broker failed; what() says why in words.
class MqttConnectError : public std::runtime_error {
 public:
  enum class Cause {
    kNotAuthorised,  ///< CONNACK refused the credentials (codes 4 and 5)
    kRefused,        ///< CONNACK refused for another reason (protocol version, client id, unavailable)
    kTls,            ///< the TLS handshake failed (untrusted or mismatched certificate, protocol)
    kUnreachable,    ///< no MQTT broker answered at the URL
    kTimeout,        ///< no answer within connect_timeout
  };
  MqttConnectError(Cause cause, const std::string& what) : std::runtime_error(what), cause_(cause) {}
  [[nodiscard]] Cause cause() const { return cause_; }

 private:
  Cause cause_;
};

/// Paho tuning that depends on the user of the connection, not on the broker.
struct MqttClientLimits {
  /// Publishes Paho may buffer (it throws beyond); a publisher sets it above its in-flight bound.
  int max_buffered_messages = 100;
  /// Most unacknowledged QoS 1/2 publishes; 0 = Paho's default.
  int max_inflight = 0;
};

class MqttConnection {
 public:
  explicit MqttConnection(MqttConnectionOptions options, MqttClientLimits limits = {});
  ~MqttConnection();
  MqttConnection(const MqttConnection&) = delete;
  MqttConnection& operator=(const MqttConnection&) = delete;

  /// The Paho client, to publish, subscribe and set the message callback.
  [[nodiscard]] mqtt::async_client& client() { return *client_; }
  /// Called on Paho's thread after every automatic reconnection (not the first connection),
  /// e.g. to subscribe again when the broker has forgotten the session. Set before connect().
  void on_reconnected(std::function<void()> handler) { on_reconnected_ = std::move(handler); }

  /// Connects once, waiting up to options.connect_timeout; throws MqttConnectError naming
  /// the cause. After it succeeds, lost connections are retried automatically.
  void connect();
  /// Disconnects cleanly (a persistent session stays on the broker); never throws.
  void disconnect(std::chrono::milliseconds timeout) noexcept;

  [[nodiscard]] bool connected() const;
  [[nodiscard]] const MqttConnectionOptions& options() const { return options_; }
  /// "ssl://host:port as client <id> (user <name>), persistent session", for log lines.
  [[nodiscard]] std::string describe() const;

  /// Successful connections, the first one included.
  [[nodiscard]] std::uint64_t connects() const { return connects_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t connection_losses() const { return losses_.load(std::memory_order_relaxed); }
  /// Successful connections after a loss.
  [[nodiscard]] std::uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }

 private:
  [[nodiscard]] std::string last_tls_error() const;

  MqttConnectionOptions options_;
  MqttClientLimits limits_;
  std::unique_ptr<mqtt::async_client> client_;
  std::function<void()> on_reconnected_;
  mutable std::mutex tls_error_mutex_;
  std::string tls_error_;  ///< OpenSSL's last error message, from Paho's TLS error callback
  std::atomic<std::uint64_t> connects_{0};
  std::atomic<std::uint64_t> losses_{0};
  std::atomic<std::uint64_t> reconnects_{0};
};

}  // namespace sensorgate
