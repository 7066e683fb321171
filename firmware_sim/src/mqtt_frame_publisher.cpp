#include "sensorgate/sim/mqtt_frame_publisher.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

namespace sensorgate::sim {

MqttFramePublisher::MqttFramePublisher(PublisherOptions options) : options_(std::move(options)) {
  // Paho buffers 100 messages by default and then throws; our own in-flight bound is the
  // limit that matters, so give Paho room for it (also while reconnecting).
  const MqttClientLimits limits{static_cast<int>((options_.max_in_flight * 2) + 16),
                                static_cast<int>(options_.max_in_flight)};
  connection_ = std::make_unique<MqttConnection>(options_.connection, limits);
}

MqttFramePublisher::~MqttFramePublisher() = default;

void MqttFramePublisher::connect() {
  connection_->connect();
  spdlog::info("sim: connected to {}", connection_->describe());
}

void MqttFramePublisher::send(const std::string& topic, const void* data, std::size_t size) {
  while (in_flight_.size() >= options_.max_in_flight) {
    in_flight_.front()->wait();
    in_flight_.pop_front();
  }
  in_flight_.push_back(connection_->client().publish(mqtt::make_message(topic, data, size, 1, false)));
}

void MqttFramePublisher::publish(const std::string& device_id, std::vector<std::uint8_t> payload) {
  send(options_.topic_prefix + "/" + device_id + "/frames", payload.data(), payload.size());
  bytes_ += payload.size();
  ++published_;
}

void MqttFramePublisher::publish_label(const std::string& device_id, const std::string& json) {
  send(options_.topic_prefix + "/" + device_id + "/labels", json.data(), json.size());
}

void MqttFramePublisher::finish(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!in_flight_.empty()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !in_flight_.front()->wait_for(left)) {
      throw std::runtime_error(std::to_string(in_flight_.size()) + " publishes not acknowledged by the broker");
    }
    in_flight_.pop_front();
  }
  connection_->disconnect(timeout);
}

}  // namespace sensorgate::sim
