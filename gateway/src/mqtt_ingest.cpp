#include "sensorgate/gateway/mqtt_ingest.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include "sensorgate/common/aligned_view.hpp"

namespace sensorgate {

MqttIngest::MqttIngest(MqttIngestOptions options, IngestSink& sink)
    : options_(std::move(options)), sink_(sink), connection_(options_.connection) {
  // A broker that restarted without persistence has forgotten the session and with it our
  // subscription; subscribing again is harmless when it remembers.
  connection_.on_reconnected([this] {
    try {
      connection_.client().subscribe(topic_filter(), 1);
      spdlog::info("mqtt: subscribed to {} again", topic_filter());
    } catch (const mqtt::exception& e) {
      // Throwing into Paho's thread would end the process; the next reconnect tries again.
      spdlog::error("mqtt: cannot subscribe to {} again: {}", topic_filter(), e.what());
    }
  });
  connection_.client().set_message_callback([this](const mqtt::const_message_ptr& msg) {
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
  connection_.connect();
  try {
    if (!connection_.client().subscribe(topic_filter(), 1)->wait_for(connect_timeout)) {
      throw std::runtime_error("subscribing to " + topic_filter() + " timed out");
    }
  } catch (const mqtt::exception& e) {
    throw std::runtime_error("cannot subscribe to " + topic_filter() + ": " + e.what());
  }
  spdlog::info("mqtt: connected to {}, subscribed to {} (QoS 1)", connection_.describe(), topic_filter());
}

void MqttIngest::stop() {
  connection_.disconnect(std::chrono::seconds(5));
}

}  // namespace sensorgate
