#pragma once
// MqttFramePublisher: publishes encoded FrameBatches at QoS 1 to
// <topic_prefix>/<device_id>/frames with a Paho async client. At most `max_in_flight`
// publishes await their PUBACK; publish() waits for the oldest beyond that, so a slow
// broker or gateway slows the simulator instead of overflowing Paho's buffer.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace mqtt {
class async_client;
class delivery_token;
}  // namespace mqtt

namespace sensorgate::sim {

struct PublisherOptions {
  std::string url = "tcp://127.0.0.1:1883";
  std::string client_id = "sensorgate-sim";
  std::string topic_prefix = "sensorgate";
  std::size_t max_in_flight = 256;
  std::string username;
  std::string password;
};

class MqttFramePublisher {
 public:
  explicit MqttFramePublisher(PublisherOptions options);
  ~MqttFramePublisher();
  MqttFramePublisher(const MqttFramePublisher&) = delete;
  MqttFramePublisher& operator=(const MqttFramePublisher&) = delete;

  /// Connects; throws std::runtime_error on failure.
  void connect(std::chrono::milliseconds timeout);
  /// Publishes one batch (QoS 1), waiting while too many are unacknowledged.
  void publish(const std::string& device_id, std::vector<std::uint8_t> payload);
  /// Waits until every publish is acknowledged by the broker, then disconnects.
  void finish(std::chrono::milliseconds timeout);

  [[nodiscard]] std::uint64_t published() const { return published_; }
  [[nodiscard]] std::uint64_t bytes() const { return bytes_; }

 private:
  PublisherOptions options_;
  std::unique_ptr<mqtt::async_client> client_;
  std::deque<std::shared_ptr<mqtt::delivery_token>> in_flight_;
  std::uint64_t published_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace sensorgate::sim
