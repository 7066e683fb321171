#pragma once
// MqttIngest: the MQTT transport. A Paho async client (MqttConnection: TLS, credentials,
// persistent session unless clean_session is set, automatic reconnect) subscribes at QoS 1
// to <topic_prefix>/+/frames;
// each message is verified and decoded on Paho's callback thread and handed to the
// IngestSink. That thread is the rings' single producer. Because the callback only returns
// once the frames are in a ring, a full ring delays the QoS 1 acknowledgement and the
// broker throttles the publisher: flow control instead of loss. With a LabelBook it also
// subscribes to <topic_prefix>/+/labels, where labelled replays publish ground truth.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "sensorgate/common/mqtt_connection.hpp"
#include "sensorgate/gateway/frame_batch_decoder.hpp"
#include "sensorgate/gateway/ingest_sink.hpp"
#include "sensorgate/gateway/label_book.hpp"

namespace sensorgate {

struct MqttIngestOptions {
  MqttConnectionOptions connection;
  std::string topic_prefix = "sensorgate";
};

class MqttIngest {
 public:
  /// `labels` may be null: no labels subscription.
  MqttIngest(MqttIngestOptions options, IngestSink& sink, LabelBook* labels = nullptr);
  ~MqttIngest();
  MqttIngest(const MqttIngest&) = delete;
  MqttIngest& operator=(const MqttIngest&) = delete;

  /// Connects and subscribes, waiting up to `connect_timeout` for each; throws
  /// MqttConnectError (naming the cause) when the first connection fails, std::runtime_error
  /// when subscribing fails. Later disconnects are retried automatically.
  void start(std::chrono::milliseconds connect_timeout);
  /// Unsubscribes nothing (the persistent session keeps queuing) and disconnects.
  void stop();

  [[nodiscard]] const FrameBatchDecoder& decoder() const { return decoder_; }
  [[nodiscard]] std::uint64_t messages() const { return messages_.load(std::memory_order_relaxed); }
  [[nodiscard]] const MqttConnection& connection() const { return connection_; }
  [[nodiscard]] std::string topic_filter() const { return options_.topic_prefix + "/+/frames"; }
  [[nodiscard]] std::string labels_filter() const { return options_.topic_prefix + "/+/labels"; }
  [[nodiscard]] std::uint64_t bad_labels() const { return bad_labels_.load(std::memory_order_relaxed); }

 private:
  void handle_label(const std::string& topic, const std::string& payload);

  MqttIngestOptions options_;
  IngestSink& sink_;
  LabelBook* labels_;
  FrameBatchDecoder decoder_;
  MqttConnection connection_;
  std::atomic<std::uint64_t> messages_{0};
  std::atomic<std::uint64_t> bad_labels_{0};
  std::chrono::steady_clock::time_point last_bad_log_{};
};

}  // namespace sensorgate
