#include "sensorgate/common/openbci_packet.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace sensorgate {
namespace {

constexpr std::size_t kSampleNumberAt = 1;
constexpr std::size_t kChannelsAt = 2;
constexpr std::size_t kAuxAt = kChannelsAt + 3 * kOpenBciChannelsPerPacket;  // 26
constexpr std::size_t kFooterAt = kOpenBciPacketBytes - 1;                   // 32

bool valid_footer(std::uint8_t byte) {
  return byte >= kOpenBciFooterAccel && byte <= kOpenBciFooterLast;
}

std::int32_t to_counts(float uv, double uv_per_count) {
  const double counts = std::round(static_cast<double>(uv) / uv_per_count);
  if (std::isnan(counts)) return 0;
  return static_cast<std::int32_t>(
      std::clamp(counts, static_cast<double>(kOpenBciCountMin), static_cast<double>(kOpenBciCountMax)));
}

// Bytes are assembled into integers one by one: the packet may sit at any alignment and
// the wire is big-endian whatever the host is.
std::int32_t read_int24(const std::uint8_t* p) {
  const std::uint32_t raw = static_cast<std::uint32_t>(p[0]) << 16 | static_cast<std::uint32_t>(p[1]) << 8 | p[2];
  // Flipping the sign bit and subtracting its weight sign-extends without shifting a negative.
  return static_cast<std::int32_t>(raw ^ 0x800000U) - 0x800000;
}

std::int16_t read_int16(const std::uint8_t* p) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(p[0] << 8 | p[1]));
}

}  // namespace

double openbci_uv_per_count(double gain) {
  if (!std::isfinite(gain) || gain <= 0) throw std::invalid_argument("OpenBCI gain must be finite and positive");
  return kOpenBciVref / gain / static_cast<double>(kOpenBciCountMax) * 1e6;
}

OpenBciEncoder::OpenBciEncoder(bool daisy, double gain) : daisy_(daisy), uv_per_count_(openbci_uv_per_count(gain)) {}

void OpenBciEncoder::encode(std::span<const float> frame_uv, std::vector<std::uint8_t>& out,
                            const std::array<std::int16_t, 3>& accel) {
  if (frame_uv.size() != channels()) {
    throw std::invalid_argument("OpenBciEncoder::encode: expected " + std::to_string(channels()) + " values, got " +
                                std::to_string(frame_uv.size()));
  }
  if (daisy_) {
    // The pair starts on an even sample number (the counter starts at 0 and advances by
    // two per frame), which is the Daisy's: channels 9-16 first, then 1-8.
    put_packet(frame_uv.subspan(kOpenBciChannelsPerPacket), accel, out);
  }
  put_packet(frame_uv.first(kOpenBciChannelsPerPacket), accel, out);
}

void OpenBciEncoder::put_packet(std::span<const float> uv8, const std::array<std::int16_t, 3>& accel,
                                std::vector<std::uint8_t>& out) {
  out.push_back(kOpenBciHeader);
  out.push_back(next_sample_);
  next_sample_ = static_cast<std::uint8_t>(next_sample_ + 1);  // wraps 255 -> 0 like the board
  for (const float uv : uv8) {
    // Two's complement bit pattern of the count; the low 24 bits are the wire value.
    const auto raw = static_cast<std::uint32_t>(to_counts(uv, uv_per_count_));
    out.push_back(static_cast<std::uint8_t>(raw >> 16));
    out.push_back(static_cast<std::uint8_t>(raw >> 8));
    out.push_back(static_cast<std::uint8_t>(raw));
  }
  for (const std::int16_t axis : accel) {
    const auto raw = static_cast<std::uint16_t>(axis);
    out.push_back(static_cast<std::uint8_t>(raw >> 8));
    out.push_back(static_cast<std::uint8_t>(raw));
  }
  out.push_back(kOpenBciFooterAccel);
}

OpenBciDecoder::OpenBciDecoder(bool daisy, double gain) : daisy_(daisy), uv_per_count_(openbci_uv_per_count(gain)) {
  frame_.channel_count = static_cast<std::uint8_t>(daisy ? 2 * kOpenBciChannelsPerPacket : kOpenBciChannelsPerPacket);
}

void OpenBciDecoder::feed(std::span<const std::uint8_t> bytes, const FrameCallback& on_frame) {
  for (const std::uint8_t byte : bytes) {
    if (fill_ == 0 && byte != kOpenBciHeader) {
      discard(1);
      continue;
    }
    packet_[fill_++] = byte;
    if (fill_ < kOpenBciPacketBytes) continue;

    if (valid_footer(packet_[kFooterAt])) {
      // Reset before the callback runs, so one that throws leaves a consistent decoder.
      fill_ = 0;
      in_sync_ = true;
      on_packet(on_frame);
      continue;
    }
    // Not a packet after all: this 0xA0 was data. Resume at the next 0xA0 already buffered,
    // so a real packet that starts inside the rejected 33 bytes is not skipped.
    const std::uint8_t* begin = packet_.data();
    const std::uint8_t* end = begin + kOpenBciPacketBytes;
    const std::uint8_t* next = std::find(begin + 1, end, kOpenBciHeader);
    discard(static_cast<std::size_t>(next - begin));
    fill_ = static_cast<std::size_t>(end - next);
    std::copy(next, end, packet_.data());
  }
}

void OpenBciDecoder::discard(std::size_t n) {
  if (in_sync_) add(resyncs_, 1);
  in_sync_ = false;
  add(bytes_discarded_, n);
}

void OpenBciDecoder::decode_channels(std::size_t first_channel) {
  for (std::size_t i = 0; i < kOpenBciChannelsPerPacket; ++i) {
    const std::int32_t counts = read_int24(&packet_[kChannelsAt + 3 * i]);
    frame_.uv[first_channel + i] = static_cast<float>(counts * uv_per_count_);
  }
}

void OpenBciDecoder::on_packet(const FrameCallback& on_frame) {
  add(packets_, 1);
  const std::uint8_t sample = packet_[kSampleNumberAt];
  if (have_counter_) {
    // The counter advances by one per packet; whatever it skipped was lost. A gap of 256 or
    // more is indistinguishable from a shorter one (mod 256).
    const auto missing = static_cast<std::uint8_t>(sample - static_cast<std::uint8_t>(unwrapped_) - 1);
    add(lost_packets_, missing);
    unwrapped_ += std::uint64_t{missing} + 1;
  } else {
    unwrapped_ = sample;
    have_counter_ = true;
  }

  if (daisy_ && unwrapped_ % 2 == 0) {  // Daisy half (channels 9-16): wait for its Cyton half
    if (daisy_half_pending_) add(unpaired_daisy_, 1);
    decode_channels(kOpenBciChannelsPerPacket);
    daisy_half_pending_ = true;
    daisy_half_counter_ = unwrapped_;
    return;
  }
  if (daisy_) {
    const bool paired = daisy_half_pending_ && daisy_half_counter_ + 1 == unwrapped_;
    if (!paired) add(unpaired_daisy_, daisy_half_pending_ ? 2 : 1);
    daisy_half_pending_ = false;
    if (!paired) return;
    frame_.sequence = daisy_half_counter_ / 2;
  } else {
    frame_.sequence = unwrapped_;
  }

  decode_channels(0);
  frame_.footer = packet_[kFooterAt];
  std::copy_n(packet_.data() + kAuxAt, kOpenBciAuxBytes, frame_.aux.begin());
  frame_.has_accel = frame_.footer == kOpenBciFooterAccel;
  for (std::size_t axis = 0; axis < frame_.accel.size(); ++axis) {
    frame_.accel[axis] = frame_.has_accel ? read_int16(&packet_[kAuxAt + 2 * axis]) : std::int16_t{0};
  }
  add(frames_, 1);
  on_frame(frame_);
}

}  // namespace sensorgate
