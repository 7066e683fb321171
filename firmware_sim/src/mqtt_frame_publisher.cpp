#include "sensorgate/sim/mqtt_frame_publisher.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

namespace sensorgate::sim {

MqttFramePublisher::MqttFramePublisher(PublisherOptions options) : options_(std::move(options)) {
  // Paho buffers 100 messages by default and then throws; our own in-flight bound is the
  // limit that matters, so give Paho room for it.
  mqtt::create_options create(MQTTVERSION_3_1_1, static_cast<int>(options_.max_in_flight * 2 + 16));
  client_ = std::make_unique<mqtt::async_client>(options_.url, options_.client_id, create);
}

MqttFramePublisher::~MqttFramePublisher() = default;

void MqttFramePublisher::connect(std::chrono::milliseconds timeout) {
  auto builder = mqtt::connect_options_builder()
                     .clean_session(true)
                     .max_inflight(static_cast<int>(options_.max_in_flight))
                     .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(10))
                     .connect_timeout(std::chrono::duration_cast<std::chrono::seconds>(timeout));
  if (!options_.username.empty()) builder.user_name(options_.username).password(options_.password);
  try {
    client_->connect(builder.finalize())->wait_for(timeout);
  } catch (const mqtt::exception& e) {
    throw std::runtime_error("cannot connect to MQTT broker " + options_.url + ": " + e.what());
  }
  if (!client_->is_connected()) throw std::runtime_error("cannot connect to MQTT broker " + options_.url);
}

void MqttFramePublisher::publish(const std::string& device_id, std::vector<std::uint8_t> payload) {
  while (in_flight_.size() >= options_.max_in_flight) {
    in_flight_.front()->wait();
    in_flight_.pop_front();
  }
  bytes_ += payload.size();
  auto msg =
      mqtt::make_message(options_.topic_prefix + "/" + device_id + "/frames", payload.data(), payload.size(), 1, false);
  in_flight_.push_back(client_->publish(msg));
  ++published_;
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
  client_->disconnect()->wait_for(timeout);
}

}  // namespace sensorgate::sim
