#pragma once
// SerialFrameWriter: the simulator's serial transport. Writes each FrameBatch to a serial
// device (a pty in tests, a USB-serial adapter on a bench) in one of the gateway's serial
// formats (docs/serial-protocol.md):
//
//   framed         the batch's bytes in one COBS + CRC-32C frame; a 0x00 is written first
//                  so that whatever the line held cannot merge with the first frame;
//   openbci-cyton  one 33-byte packet per frame (8 channels, µV rounded to 24-bit counts,
//   openbci-daisy  clamped); with a Daisy two packets per 16-channel frame. The packet
//                  counter follows the batch's sequence numbers, so batches the fault
//                  injector drops appear to the receiver as lost packets.
//
// Optional garbage injection: before a batch, with probability `garbage_rate`, a run of
// 1–64 random bytes that the receiver must skip in exactly one resync without losing the
// batch after it (framed: non-zero bytes closed by a 0x00; OpenBCI: bytes other than 0xA0).
// Writes block while the line (the pty's buffer) is full: the receiver paces the simulator.

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "sensorgate/common/openbci_packet.hpp"
#include "sensorgate/sim/batch_publisher.hpp"

namespace sensorgate::sim {

enum class SerialWireFormat : std::uint8_t { kFramed, kOpenBciCyton, kOpenBciDaisy };

struct SerialWriterOptions {
  std::string port;  ///< device path, e.g. /dev/ttyUSB0 or a pty
  std::uint32_t baud = 115200;
  SerialWireFormat format = SerialWireFormat::kFramed;
  double gain = kOpenBciDefaultGain;  ///< OpenBCI: µV → counts
  double garbage_rate = 0;            ///< probability of a garbage run before a batch
  std::uint64_t seed = 1;             ///< for the garbage
};

class SerialFrameWriter : public BatchPublisher {
 public:
  /// Checks the options (std::invalid_argument); opens nothing yet.
  explicit SerialFrameWriter(SerialWriterOptions options);
  ~SerialFrameWriter() override;
  SerialFrameWriter(const SerialFrameWriter&) = delete;
  SerialFrameWriter& operator=(const SerialFrameWriter&) = delete;
  SerialFrameWriter(SerialFrameWriter&&) = delete;
  SerialFrameWriter& operator=(SerialFrameWriter&&) = delete;

  /// Opens the port (raw, 8N1, the baud rate); throws std::runtime_error naming it.
  void open();
  /// Writes one batch. OpenBCI: std::invalid_argument for a batch whose channel count is
  /// not 8 (Cyton) or 16 (Daisy); the payload must be a valid FrameBatch.
  void publish(const std::string& device_id, std::vector<std::uint8_t> payload) override;
  /// Closes the port (writes are synchronous, nothing is pending).
  void finish(std::chrono::milliseconds timeout) override;

  [[nodiscard]] std::uint64_t published() const override { return published_; }
  /// Bytes written to the port, garbage included.
  [[nodiscard]] std::uint64_t bytes() const override { return bytes_; }
  /// Garbage runs written and their bytes (the receiver's expected resyncs).
  [[nodiscard]] std::uint64_t garbage_runs() const { return garbage_runs_; }
  [[nodiscard]] std::uint64_t garbage_bytes() const { return garbage_bytes_; }

 private:
  struct Port;  // Boost.Asio objects, kept out of this header

  void write(const std::vector<std::uint8_t>& bytes);
  void append_garbage(std::vector<std::uint8_t>& out);

  SerialWriterOptions options_;
  std::unique_ptr<Port> port_;
  std::optional<OpenBciEncoder> encoder_;
  std::mt19937_64 rng_;
  std::vector<std::uint8_t> out_;
  std::uint64_t published_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t garbage_runs_ = 0;
  std::uint64_t garbage_bytes_ = 0;
};

}  // namespace sensorgate::sim
