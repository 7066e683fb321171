#include "sensorgate/gateway/mqtt_ingest.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include "sensorgate/common/aligned_view.hpp"

namespace sensorgate {

MqttIngest::MqttIngest(MqttIngestOptions options, IngestSink& sink)
    : options_(std::move(options)),
      sink_(sink),
      client_(std::make_unique<mqtt::async_client>(options_.url, options_.client_id)) {
  client_->set_connected_handler([this](const std::string&) {
    // start() subscribes after the first connection; after a reconnection subscribe
    // again, because a broker without persistence has forgotten the session.
    if (connections_.fetch_add(1, std::memory_order_relaxed) == 0) return;
    reconnects_.fetch_add(1, std::memory_order_relaxed);
    client_->subscribe(topic_filter(), 1);
    spdlog::info("mqtt: reconnected to {}, subscribed to {} again", options_.url, topic_filter());
  });
  client_->set_connection_lost_handler([this](const std::string& cause) {
    spdlog::warn("mqtt: connection to {} lost ({}); reconnecting", options_.url, cause.empty() ? "no reason" : cause);
  });
  client_->set_message_callback([this](const mqtt::const_message_ptr& msg) {
    messages_.store(messages_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    const auto& payload = msg->get_payload_ref();
    const AlignedView bytes({reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()});
    DecodedBatch batch;
    if (const auto error = decoder_.decode(bytes.span(), batch); error != DecodeError::kNone) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_bad_log_ > std::chrono::seconds(1)) {
        spdlog::warn("mqtt: dropped bad payload on {} ({} bytes): {} ({} bad payloads so far)", msg->get_topic(),
                     payload.size(), to_string(error), decoder_.rejected_total());
        last_bad_log_ = now;
      }
      return;
    }
    sink_.push(batch);
  });
}

MqttIngest::~MqttIngest() = default;

void MqttIngest::start(std::chrono::milliseconds connect_timeout) {
  auto builder = mqtt::connect_options_builder()
                     .clean_session(options_.clean_session)
                     .keep_alive_interval(options_.keepalive)
                     .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(30))
                     .connect_timeout(std::chrono::duration_cast<std::chrono::seconds>(connect_timeout));
  if (!options_.username.empty()) builder.user_name(options_.username).password(options_.password);
  try {
    client_->connect(builder.finalize())->wait_for(connect_timeout);
  } catch (const mqtt::exception& e) {
    throw std::runtime_error("cannot connect to MQTT broker " + options_.url + ": " + e.what());
  }
  if (!client_->is_connected()) {
    throw std::runtime_error("cannot connect to MQTT broker " + options_.url + ": timed out");
  }
  try {
    if (!client_->subscribe(topic_filter(), 1)->wait_for(connect_timeout)) {
      throw std::runtime_error("subscribing to " + topic_filter() + " timed out");
    }
  } catch (const mqtt::exception& e) {
    throw std::runtime_error("cannot subscribe to " + topic_filter() + ": " + e.what());
  }
  spdlog::info("mqtt: connected to {}, subscribed to {} (QoS 1, {} session)", options_.url, topic_filter(),
               options_.clean_session ? "clean" : "persistent");
}

void MqttIngest::stop() {
  try {
    if (client_->is_connected()) client_->disconnect()->wait_for(std::chrono::seconds(5));
  } catch (const mqtt::exception& e) {
    spdlog::warn("mqtt: disconnect: {}", e.what());
  }
}

}  // namespace sensorgate
