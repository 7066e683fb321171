#pragma once
// SerialIngest: the serial transport. One instance reads one serial device (a USB dongle,
// a UART, a pty in tests) with Boost.Asio on its own thread and hands decoded batches to
// its own IngestSink, so that thread is the single producer of the rings of the devices
// it streams. Two byte formats (docs/serial-protocol.md):
//
//   framed         the project's COBS + CRC-32C frames, each carrying a FrameBatch, which
//                  is verified like an MQTT payload and pushed as is;
//   openbci-cyton  the board's 33-byte packets, 8 channels at 250 Hz;
//   openbci-daisy  Cyton + Daisy: two packets per 16-channel frame at 125 Hz.
//
// OpenBCI packets carry no device id and no time: the id comes from the configuration,
// the sequence number is the unwrapped 8-bit packet counter (so lost packets are gaps the
// SequenceTracker counts) and the time is start + sequence × nominal period. Frames are
// gathered into batches of one FrameChunk (32 frames on a Cyton, 16 with a Daisy), sent
// when full, at a counter gap, or at most `max_batch_delay` after their first frame.
//
// Backpressure: the next read is only issued once the sink has taken the previous one's
// frames, so with policy "block" a full ring stops reading the port. A serial line has no
// acknowledgement: what the port keeps arriving waits in the kernel's buffer, and once that
// is full bytes are lost there and show up as lost packets or bad frames, counted.
//
// Errors never stop ingest: a read error closes the port and reopens it every
// `reopen_interval` until it works (counted); bad bytes are counted per reason.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sensorgate/common/openbci_packet.hpp"
#include "sensorgate/common/serial_framing.hpp"
#include "sensorgate/gateway/frame_batch_decoder.hpp"
#include "sensorgate/gateway/ingest_sink.hpp"

namespace sensorgate {

enum class SerialFormat : std::uint8_t { kFramed, kOpenBciCyton, kOpenBciDaisy };

/// "framed", "openbci-cyton", "openbci-daisy".
std::string_view to_string(SerialFormat format);
/// The format named by `name` (as to_string writes it), or nullopt.
std::optional<SerialFormat> parse_serial_format(std::string_view name);
/// Nominal frame rate of an OpenBCI format: 250 Hz (Cyton), 125 Hz (Daisy).
double openbci_frame_rate_hz(SerialFormat format);

struct SerialIngestOptions {
  std::string port;  ///< device path, e.g. /dev/ttyUSB0
  std::uint32_t baud = 115200;
  SerialFormat format = SerialFormat::kFramed;
  /// OpenBCI: the id under which the board's stream is registered (framed batches carry
  /// their own ids).
  std::string device_id = "openbci";
  double gain = kOpenBciDefaultGain;  ///< OpenBCI: the ADS1299 gain, for counts → µV
  /// OpenBCI: device time of the first packet received, ns since the epoch; 0 = the wall
  /// clock when it arrives.
  std::int64_t start_time_ns = 0;
  std::chrono::milliseconds reopen_interval{1000};
  std::chrono::milliseconds max_batch_delay{20};
  std::size_t max_payload = std::size_t{1} << 20;  ///< framed: longest frame payload accepted
};

/// Counters of one serial source at one moment (see docs/serial-protocol.md).
struct SerialStats {
  std::string port;
  std::string format;
  std::uint64_t bytes_read = 0;       ///< bytes read from the port
  std::uint64_t frames = 0;           ///< framed: intact frames; OpenBCI: frames decoded (a Daisy frame = 2 packets)
  std::uint64_t packets = 0;          ///< OpenBCI: packets accepted
  std::uint64_t bad_payloads = 0;     ///< framed: intact frames whose FrameBatch failed verification
  std::uint64_t crc_errors = 0;       ///< framed
  std::uint64_t cobs_errors = 0;      ///< framed
  std::uint64_t oversize = 0;         ///< framed: frames longer than max_payload
  std::uint64_t resyncs = 0;          ///< times bytes were skipped to find the next frame or packet
  std::uint64_t bytes_discarded = 0;  ///< bytes skipped by those resyncs
  std::uint64_t lost_packets = 0;     ///< OpenBCI: packets missing according to the counter
  std::uint64_t unpaired_daisy = 0;   ///< OpenBCI Daisy: halves dropped for lack of a partner
  std::uint64_t read_errors = 0;      ///< failed reads (each closes the port)
  std::uint64_t reopens = 0;          ///< successful reopens after a read error
  std::uint64_t open_failures = 0;    ///< failed reopen attempts
};

class SerialIngest {
 public:
  /// Checks the options (std::invalid_argument for an empty port, a zero baud rate or an
  /// unusable gain or id); opens nothing yet.
  SerialIngest(SerialIngestOptions options, IngestSink& sink);
  ~SerialIngest();
  SerialIngest(const SerialIngest&) = delete;
  SerialIngest& operator=(const SerialIngest&) = delete;

  /// Opens the port (raw, 8N1, no flow control, the configured baud rate) and starts the
  /// reading thread; throws std::runtime_error naming the port when it cannot be opened.
  void start();
  /// Stops reading (cancels the pending read, closes the port), pushes frames still held
  /// for batching into the sink, and joins the thread. Idempotent.
  void stop();

  /// The decoding path: decodes `bytes` and pushes complete batches into the sink. The
  /// reading thread calls it; without start() a test may call it directly (one thread).
  void feed(std::span<const std::uint8_t> bytes);
  /// OpenBCI: pushes the frames held for batching now.
  void flush();

  [[nodiscard]] SerialStats stats() const;
  [[nodiscard]] const SerialIngestOptions& options() const { return options_; }
  /// "serial:<port>", the source name in the device registry and logs.
  [[nodiscard]] std::string source_name() const { return "serial:" + options_.port; }

 private:
  struct Io;  // Boost.Asio objects, kept out of this header

  void open_port();
  void read_next();
  void on_read_error(const std::string& what);
  void schedule_reopen();
  void arm_flush_timer();
  void on_openbci_frame(const OpenBciFrame& frame);
  void on_framed_payload(std::span<const std::uint8_t> payload);
  SerialIngestOptions options_;
  IngestSink& sink_;
  std::unique_ptr<Io> io_;
  std::thread thread_;

  // framed
  SerialFrameDecoder framer_;
  FrameBatchDecoder batch_decoder_;
  std::chrono::steady_clock::time_point last_bad_log_{};

  // OpenBCI
  std::optional<OpenBciDecoder> openbci_;
  double rate_hz_ = 0;
  std::vector<float> pending_;  // frame-major samples of the batch being gathered
  std::uint64_t pending_first_seq_ = 0;
  std::uint64_t origin_seq_ = 0;
  std::int64_t origin_time_ns_ = 0;
  std::uint32_t frames_per_batch_ = 0;
  std::uint32_t pending_frames_ = 0;
  std::uint16_t channels_ = 0;
  bool have_origin_ = false;
  bool flush_timer_armed_ = false;
  bool running_ = false;
  bool stopping_ = false;  // set on the reading thread when stop() has begun

  // Single writer (the reading thread), read by stats() from any thread.
  std::atomic<std::uint64_t> bytes_read_{0};
  std::atomic<std::uint64_t> read_errors_{0};
  std::atomic<std::uint64_t> reopens_{0};
  std::atomic<std::uint64_t> open_failures_{0};
};

}  // namespace sensorgate
