#include "sensorgate/gateway/mqtt_ingest.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include "sensorgate/common/aligned_view.hpp"

namespace sensorgate {

namespace {

constexpr std::string_view kLabelsSuffix = "/labels";

}  // namespace

MqttIngest::MqttIngest(MqttIngestOptions options, IngestSink& sink, LabelBook* labels)
    : options_(std::move(options)), sink_(sink), labels_(labels), connection_(options_.connection) {
  // A broker that restarted without persistence has forgotten the session and with it our
  // subscription; subscribing again is harmless when it remembers.
  connection_.on_reconnected([this] {
    try {
      connection_.client().subscribe(topic_filter(), 1);
      if (labels_ != nullptr) connection_.client().subscribe(labels_filter(), 1);
      spdlog::info("mqtt: subscribed to {} again", topic_filter());
    } catch (const mqtt::exception& e) {
      // Throwing into Paho's thread would end the process; the next reconnect tries again.
      spdlog::error("mqtt: cannot subscribe to {} again: {}", topic_filter(), e.what());
    }
  });
  connection_.client().set_message_callback([this](const mqtt::const_message_ptr& msg) {
    const auto& topic = msg->get_topic();
    if (labels_ != nullptr && topic.ends_with(kLabelsSuffix)) {
      handle_label(topic, msg->get_payload_str());
      return;
    }
    messages_.store(messages_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    const auto& payload = msg->get_payload_ref();
    const AlignedView bytes({reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()});
    DecodedBatch batch;
    const auto received = std::chrono::steady_clock::now();
    if (const auto error = decoder_.decode(bytes.span(), batch); error != DecodeError::kNone) {
      sink_.count_bad_payload(payload.size());
      const auto now = std::chrono::steady_clock::now();
      if (now - last_bad_log_ > std::chrono::seconds(1)) {
        spdlog::warn("mqtt: dropped bad payload on {} ({} bytes): {} ({} bad payloads so far)", msg->get_topic(),
                     payload.size(), to_string(error), decoder_.rejected_total());
        last_bad_log_ = now;
      }
      return;
    }
    sink_.push(batch, std::chrono::steady_clock::now() - received, payload.size());
  });
}

MqttIngest::~MqttIngest() = default;

void MqttIngest::start(std::chrono::milliseconds connect_timeout) {
  connection_.connect();
  try {
    if (!connection_.client().subscribe(topic_filter(), 1)->wait_for(connect_timeout)) {
      throw std::runtime_error("subscribing to " + topic_filter() + " timed out");
    }
    if (labels_ != nullptr && !connection_.client().subscribe(labels_filter(), 1)->wait_for(connect_timeout)) {
      throw std::runtime_error("subscribing to " + labels_filter() + " timed out");
    }
  } catch (const mqtt::exception& e) {
    throw std::runtime_error("cannot subscribe to " + topic_filter() + ": " + e.what());
  }
  spdlog::info("mqtt: connected to {}, subscribed to {}{} (QoS 1)", connection_.describe(), topic_filter(),
               labels_ != nullptr ? " and " + labels_filter() : std::string());
}

void MqttIngest::handle_label(const std::string& topic, const std::string& payload) {
  // <prefix>/<device>/labels: the device id is the level before the suffix.
  const std::string_view device_part(topic.data() + options_.topic_prefix.size() + 1,
                                     topic.size() - options_.topic_prefix.size() - 1 - kLabelsSuffix.size());
  std::string error;
  const auto label = parse_label_message(std::string(device_part), payload, error);
  if (!label) {
    bad_labels_.store(bad_labels_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_bad_log_ > std::chrono::seconds(1)) {
      spdlog::warn("mqtt: dropped bad label message on {}: {} ({} bad label messages so far)", topic, error,
                   bad_labels_.load(std::memory_order_relaxed));
      last_bad_log_ = now;
    }
    return;
  }
  labels_->add(*label);
}

void MqttIngest::stop() {
  connection_.disconnect(std::chrono::seconds(5));
}

}  // namespace sensorgate
