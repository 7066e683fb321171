#pragma once
// MqttIngest: the MQTT transport. A Paho async client subscribes (QoS 1, persistent
// session unless clean_session is set, automatic reconnect) to <topic_prefix>/+/frames;
// each message is verified and decoded on Paho's callback thread and handed to the
// IngestSink. That thread is the rings' single producer. Because the callback only returns
// once the frames are in a ring, a full ring delays the QoS 1 acknowledgement and the
// broker throttles the publisher: flow control instead of loss.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "sensorgate/gateway/frame_batch_decoder.hpp"
#include "sensorgate/gateway/ingest_sink.hpp"

namespace mqtt {
class async_client;
}

namespace sensorgate {

struct MqttIngestOptions {
  std::string url = "tcp://127.0.0.1:1883";
  std::string client_id;
  std::string topic_prefix = "sensorgate";
  bool clean_session = false;
  std::chrono::seconds keepalive{20};
  std::string username;
  std::string password;
};

class MqttIngest {
 public:
  MqttIngest(MqttIngestOptions options, IngestSink& sink);
  ~MqttIngest();
  MqttIngest(const MqttIngest&) = delete;
  MqttIngest& operator=(const MqttIngest&) = delete;

  /// Connects and subscribes; throws std::runtime_error when the first connection fails.
  /// Later disconnects are retried automatically.
  void start(std::chrono::milliseconds connect_timeout);
  /// Unsubscribes nothing (the persistent session keeps queuing) and disconnects.
  void stop();

  [[nodiscard]] const FrameBatchDecoder& decoder() const { return decoder_; }
  [[nodiscard]] std::uint64_t messages() const { return messages_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::string topic_filter() const { return options_.topic_prefix + "/+/frames"; }

 private:
  MqttIngestOptions options_;
  IngestSink& sink_;
  FrameBatchDecoder decoder_;
  std::unique_ptr<mqtt::async_client> client_;
  std::atomic<std::uint64_t> messages_{0};
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<std::uint64_t> connections_{0};
  std::chrono::steady_clock::time_point last_bad_log_{};
};

}  // namespace sensorgate
