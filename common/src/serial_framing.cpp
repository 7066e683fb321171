#include "sensorgate/common/serial_framing.hpp"

#include <boost/crc.hpp>

#include <algorithm>
#include <array>

namespace sensorgate {
namespace {

// COBS: a code byte c announces c - 1 data bytes; c < 0xFF also implies a 0x00 after them
// (except at the end of the frame). 0xFF marks a full block with no implied zero.
constexpr std::uint8_t kFullBlockCode = 0xFF;

}  // namespace

std::uint32_t crc32c(std::span<const std::uint8_t> bytes) {
  return crc32c(bytes, {});
}

std::uint32_t crc32c(std::span<const std::uint8_t> first, std::span<const std::uint8_t> second) {
  // Boost.CRC is header-only and Boost is already a dependency; CRC-32C rather than the
  // IEEE polynomial because it keeps a larger Hamming distance at the frame sizes we carry.
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(first.data(), first.size());
  crc.process_bytes(second.data(), second.size());
  return crc.checksum();
}

void encode_serial_frame(std::span<const std::uint8_t> payload, std::vector<std::uint8_t>& out) {
  const std::uint32_t crc = crc32c(payload);
  const std::array<std::uint8_t, kSerialFrameCrcBytes> trailer{
      static_cast<std::uint8_t>(crc), static_cast<std::uint8_t>(crc >> 8), static_cast<std::uint8_t>(crc >> 16),
      static_cast<std::uint8_t>(crc >> 24)};
  const std::size_t body = payload.size() + trailer.size();
  // At most one code byte per 254 bytes plus one, and the delimiter: one allocation at most,
  // growing geometrically so that appending many frames to one buffer stays linear.
  const std::size_t needed = out.size() + body + body / 254 + 2;
  if (needed > out.capacity()) out.reserve(std::max(needed, 2 * out.capacity()));

  std::size_t code_at = out.size();
  out.push_back(0);  // placeholder, patched when the block ends
  std::uint8_t code = 1;
  auto close_block = [&] {
    out[code_at] = code;
    code_at = out.size();
    out.push_back(0);
    code = 1;
  };
  auto put = [&](std::uint8_t byte) {
    if (byte == 0) {
      close_block();
      return;
    }
    out.push_back(byte);
    if (++code == kFullBlockCode) close_block();
  };
  for (const std::uint8_t byte : payload) put(byte);
  for (const std::uint8_t byte : trailer) put(byte);
  out[code_at] = code;
  out.push_back(kSerialFrameDelimiter);
}

std::vector<std::uint8_t> encode_serial_frame(std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> out;
  encode_serial_frame(payload, out);
  return out;
}

SerialFrameDecoder::SerialFrameDecoder(std::size_t max_payload) : max_payload_(max_payload) {}

void SerialFrameDecoder::feed(std::span<const std::uint8_t> bytes, const FrameCallback& on_frame) {
  const std::size_t max_decoded = max_payload_ + kSerialFrameCrcBytes;
  for (const std::uint8_t byte : bytes) {
    if (byte == kSerialFrameDelimiter) {
      end_of_chunk(on_frame);
      continue;
    }
    // Cleared here rather than after delivery so that a callback that throws cannot leave
    // the previous frame's bytes in front of the next one.
    if (chunk_bytes_ == 0) decoded_.clear();
    ++chunk_bytes_;
    if (oversized_) continue;

    bool emit_zero = false;
    if (block_left_ == 0) {  // a code byte
      emit_zero = zero_before_next_block_;
      block_left_ = static_cast<std::uint8_t>(byte - 1);
      zero_before_next_block_ = byte != kFullBlockCode;
      if (!emit_zero) continue;
    } else {
      --block_left_;
    }
    if (decoded_.size() == max_decoded) {
      oversized_ = true;  // stop buffering; the rest up to the delimiter is counted, not kept
      continue;
    }
    decoded_.push_back(emit_zero ? std::uint8_t{0} : byte);
  }
}

void SerialFrameDecoder::end_of_chunk(const FrameCallback& on_frame) {
  if (chunk_bytes_ == 0) {
    add(empty_frames_, 1);
    return;
  }
  if (oversized_) return discard_chunk(oversize_);
  if (block_left_ != 0) return discard_chunk(cobs_errors_);
  if (decoded_.size() < kSerialFrameCrcBytes) return discard_chunk(crc_errors_);

  const std::size_t payload_size = decoded_.size() - kSerialFrameCrcBytes;
  const std::span<const std::uint8_t> payload(decoded_.data(), payload_size);
  const std::uint32_t received = static_cast<std::uint32_t>(decoded_[payload_size]) |
                                 static_cast<std::uint32_t>(decoded_[payload_size + 1]) << 8 |
                                 static_cast<std::uint32_t>(decoded_[payload_size + 2]) << 16 |
                                 static_cast<std::uint32_t>(decoded_[payload_size + 3]) << 24;
  if (received != crc32c(payload)) return discard_chunk(crc_errors_);

  add(frames_, 1);
  chunk_bytes_ = 0;
  block_left_ = 0;
  zero_before_next_block_ = false;
  on_frame(payload);
}

void SerialFrameDecoder::discard_chunk(Counter& reason) {
  add(reason, 1);
  add(bytes_discarded_, chunk_bytes_);
  chunk_bytes_ = 0;
  block_left_ = 0;
  zero_before_next_block_ = false;
  oversized_ = false;
}

}  // namespace sensorgate
