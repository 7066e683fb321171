#pragma once
// Framing of opaque payloads (FlatBuffers FrameBatch bytes) over a byte stream such as a
// serial port. Layout and reasoning: docs/serial-protocol.md.
//
//   frame = COBS(payload || CRC-32C(payload) as 4 bytes little-endian) || 0x00
//
// COBS removes every 0x00 from the frame body, so 0x00 only ever means "end of frame": a
// receiver that starts mid-stream or meets garbage loses at most the bytes up to the next
// 0x00 and decodes the frame after it. The CRC catches what COBS cannot (flipped bits that
// leave the stuffing well-formed). Pure byte manipulation, no I/O: the transport owns the
// port and feeds whatever chunks it reads.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace sensorgate {

/// Ends every frame. A sender may also write one before its first frame (e.g. when it opens
/// the port) so that whatever the line carried before cannot merge with that frame.
inline constexpr std::uint8_t kSerialFrameDelimiter = 0x00;
/// Bytes of CRC-32C appended to the payload before stuffing.
inline constexpr std::size_t kSerialFrameCrcBytes = 4;

/// CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, init and final XOR 0xFFFFFFFF).
std::uint32_t crc32c(std::span<const std::uint8_t> bytes);
/// CRC-32C of `first` followed by `second`, without joining them.
std::uint32_t crc32c(std::span<const std::uint8_t> first, std::span<const std::uint8_t> second);

/// Appends the complete frame for `payload`, trailing delimiter included, to `out`.
void encode_serial_frame(std::span<const std::uint8_t> payload, std::vector<std::uint8_t>& out);
/// The complete frame for `payload`, trailing delimiter included.
std::vector<std::uint8_t> encode_serial_frame(std::span<const std::uint8_t> payload);

/// Streaming decoder: feed bytes in chunks of any size; each intact frame's payload is
/// handed to the callback. Chunk boundaries never change the result. Every 0x00 ends
/// exactly one chunk of the stream, which is counted as exactly one of frames, empty_frames,
/// cobs_errors, crc_errors or oversize; the bytes of the last three are bytes_discarded.
class SerialFrameDecoder {
 public:
  using FrameCallback = std::function<void(std::span<const std::uint8_t> payload)>;

  /// `max_payload`: longest payload accepted; longer frames are dropped as oversize
  /// without buffering more than max_payload + 4 bytes.
  explicit SerialFrameDecoder(std::size_t max_payload = std::size_t{1} << 20);

  /// Decodes `bytes`; calls `on_frame` once per intact frame, in order. The payload span is
  /// valid only during the call.
  void feed(std::span<const std::uint8_t> bytes, const FrameCallback& on_frame);

  [[nodiscard]] std::size_t max_payload() const { return max_payload_; }
  /// Bytes of the current, not yet delimited frame (stuffed form, as received).
  [[nodiscard]] std::size_t buffered_bytes() const { return chunk_bytes_; }

  /// Intact frames delivered.
  [[nodiscard]] std::uint64_t frames() const { return load(frames_); }
  /// Well-stuffed frames whose CRC does not match, or too short to hold one.
  [[nodiscard]] std::uint64_t crc_errors() const { return load(crc_errors_); }
  /// Malformed stuffing: the delimiter arrived inside a COBS block.
  [[nodiscard]] std::uint64_t cobs_errors() const { return load(cobs_errors_); }
  /// Frames whose payload exceeded max_payload.
  [[nodiscard]] std::uint64_t oversize() const { return load(oversize_); }
  /// Received bytes (delimiters excluded) of every frame that was not delivered.
  [[nodiscard]] std::uint64_t bytes_discarded() const { return load(bytes_discarded_); }
  /// Delimiters with nothing before them: leading delimiters, idle line. Not an error.
  [[nodiscard]] std::uint64_t empty_frames() const { return load(empty_frames_); }

 private:
  using Counter = std::atomic<std::uint64_t>;
  static std::uint64_t load(const Counter& c) { return c.load(std::memory_order_relaxed); }
  // Single writer (the thread that feeds), so a relaxed load + store is enough.
  static void add(Counter& c, std::uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  void end_of_chunk(const FrameCallback& on_frame);
  void discard_chunk(Counter& reason);

  std::size_t max_payload_;
  std::vector<std::uint8_t> decoded_;    // unstuffed bytes of the current frame
  std::size_t chunk_bytes_ = 0;          // stuffed bytes received since the last delimiter
  std::uint8_t block_left_ = 0;          // data bytes left in the current COBS block; 0: next is a code byte
  bool zero_before_next_block_ = false;  // the current block's code was < 0xFF, so it ends in an implied 0x00
  bool oversized_ = false;               // over the limit: skip to the next delimiter

  Counter frames_{0};
  Counter crc_errors_{0};
  Counter cobs_errors_{0};
  Counter oversize_{0};
  Counter bytes_discarded_{0};
  Counter empty_frames_{0};
};

}  // namespace sensorgate
