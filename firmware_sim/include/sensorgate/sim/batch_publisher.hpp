#pragma once
// BatchPublisher: where the simulator sends its encoded FrameBatches: an MQTT broker
// (MqttFramePublisher) or a serial line (SerialFrameWriter). The Simulator only paces,
// generates and injects faults; the transport is chosen by main.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace sensorgate::sim {

class BatchPublisher {
 public:
  BatchPublisher() = default;
  virtual ~BatchPublisher() = default;
  BatchPublisher(const BatchPublisher&) = delete;
  BatchPublisher& operator=(const BatchPublisher&) = delete;
  BatchPublisher(BatchPublisher&&) = delete;
  BatchPublisher& operator=(BatchPublisher&&) = delete;

  /// Sends one FrameBatch payload of `device_id`; may block (backpressure).
  virtual void publish(const std::string& device_id, std::vector<std::uint8_t> payload) = 0;
  /// Sends ground truth for `device_id` (JSON {"start_ns","end_ns","label"}). Transports
  /// without a side channel (serial) drop it; MQTT publishes on <prefix>/<device>/labels.
  virtual void publish_label(const std::string& /*device_id*/, const std::string& /*json*/) {}
  /// Waits (up to `timeout`) until everything published has left, then closes.
  virtual void finish(std::chrono::milliseconds timeout) = 0;

  /// Batches published so far.
  [[nodiscard]] virtual std::uint64_t published() const = 0;
  /// Bytes sent so far (payloads, or what went on the line).
  [[nodiscard]] virtual std::uint64_t bytes() const = 0;
};

}  // namespace sensorgate::sim
