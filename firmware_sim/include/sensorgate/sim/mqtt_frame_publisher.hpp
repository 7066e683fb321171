#pragma once
// MqttFramePublisher: publishes encoded FrameBatches at QoS 1 to
// <topic_prefix>/<device_id>/frames with a Paho async client. At most `max_in_flight`
// publishes await their PUBACK; publish() waits for the oldest beyond that, so a slow
// broker or gateway slows the simulator instead of overflowing Paho's buffer. The
// connection (TLS, credentials, session, reconnect) is the MqttConnection the gateway uses.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "sensorgate/common/mqtt_connection.hpp"

#include "sensorgate/sim/batch_publisher.hpp"

namespace mqtt {
class delivery_token;
}  // namespace mqtt

namespace sensorgate::sim {

struct PublisherOptions {
  MqttConnectionOptions connection;
  std::string topic_prefix = "sensorgate";
  std::size_t max_in_flight = 256;
};

class MqttFramePublisher : public BatchPublisher {
 public:
  explicit MqttFramePublisher(PublisherOptions options);
  ~MqttFramePublisher() override;
  MqttFramePublisher(const MqttFramePublisher&) = delete;
  MqttFramePublisher& operator=(const MqttFramePublisher&) = delete;

  /// Connects within options.connection.connect_timeout; throws MqttConnectError naming the cause.
  void connect();
  /// Publishes one batch (QoS 1), waiting while too many are unacknowledged.
  void publish(const std::string& device_id, std::vector<std::uint8_t> payload) override;
  /// Publishes a label message (QoS 1) on <prefix>/<device>/labels, in order with the batches.
  void publish_label(const std::string& device_id, const std::string& json) override;
  /// Waits until every publish is acknowledged by the broker, then disconnects.
  void finish(std::chrono::milliseconds timeout) override;

  [[nodiscard]] std::uint64_t published() const override { return published_; }
  [[nodiscard]] std::uint64_t bytes() const override { return bytes_; }
  [[nodiscard]] const MqttConnection& connection() const { return *connection_; }

 private:
  /// QoS 1 publish, waiting while max_in_flight publishes are unacknowledged.
  void send(const std::string& topic, const void* data, std::size_t size);

  PublisherOptions options_;
  std::unique_ptr<MqttConnection> connection_;
  std::deque<std::shared_ptr<mqtt::delivery_token>> in_flight_;
  std::uint64_t published_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace sensorgate::sim
