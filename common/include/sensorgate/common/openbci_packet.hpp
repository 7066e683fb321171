#pragma once
// The OpenBCI Cyton (and Cyton + Daisy) binary stream: fixed 33-byte packets, no checksum.
// Layout, scaling and the Daisy pairing convention, with sources: docs/serial-protocol.md.
//
//   [0] 0xA0 | [1] sample number (wraps at 256) | [2..25] 8 × int24 big-endian counts |
//   [26..31] aux (3 × int16 big-endian accelerometer when the footer is 0xC0) | [32] 0xC0..0xC6
//
// With a Daisy, packets alternate: an even sample number carries channels 9–16 (the Daisy's
// ADS1299), the following odd one channels 1–8 (the Cyton's); each such pair is one
// 16-channel frame at 125 Hz. Pure byte manipulation, no I/O.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace sensorgate {

inline constexpr std::size_t kOpenBciPacketBytes = 33;
inline constexpr std::uint8_t kOpenBciHeader = 0xA0;
inline constexpr std::uint8_t kOpenBciFooterAccel = 0xC0;  ///< aux bytes are the accelerometer
inline constexpr std::uint8_t kOpenBciFooterLast = 0xC6;   ///< 0xC1..0xC6: other aux data
inline constexpr std::size_t kOpenBciChannelsPerPacket = 8;
inline constexpr std::size_t kOpenBciAuxBytes = 6;
inline constexpr double kOpenBciDefaultGain = 24.0;
/// The ADS1299's reference voltage; full scale is ±Vref / gain over ±(2^23 − 1) counts.
inline constexpr double kOpenBciVref = 4.5;
inline constexpr std::int32_t kOpenBciCountMax = (1 << 23) - 1;
inline constexpr std::int32_t kOpenBciCountMin = -(1 << 23);
/// g per raw accelerometer count (the scale BrainFlow and the OpenBCI GUI apply).
inline constexpr double kOpenBciAccelGPerCount = 0.002 / 16.0;

/// µV per count: Vref / gain / (2^23 − 1) × 1e6 (0.02235 µV at gain 24).
/// Throws std::invalid_argument unless gain is finite and positive.
double openbci_uv_per_count(double gain);

/// One decoded sample of every channel.
struct OpenBciFrame {
  /// Unwrapped sample counter: one per packet on a Cyton, one per Daisy/Cyton pair (the
  /// Daisy packet's unwrapped counter / 2) with a Daisy. Starts at the first packet's
  /// number, so gaps in it are the lost samples.
  std::uint64_t sequence = 0;
  std::uint8_t channel_count = 0;  ///< 8 (Cyton) or 16 (Cyton + Daisy)
  std::array<float, 16> uv{};      ///< channels 1..channel_count in µV; the rest are 0
  /// Footer and aux bytes of the Cyton packet (with a Daisy: of the odd, channels 1–8 packet).
  std::uint8_t footer = kOpenBciFooterAccel;
  std::array<std::uint8_t, kOpenBciAuxBytes> aux{};
  bool has_accel = false;               ///< footer 0xC0: aux holds the accelerometer
  std::array<std::int16_t, 3> accel{};  ///< raw counts (× kOpenBciAccelGPerCount = g), when has_accel
};

/// Produces the packets a board would send for frames of µV values (the simulator's side).
class OpenBciEncoder {
 public:
  /// Throws std::invalid_argument for a gain that is not finite and positive.
  explicit OpenBciEncoder(bool daisy, double gain = kOpenBciDefaultGain);

  /// Appends one packet (Cyton: 8 values) or two (Daisy: 16 values, Daisy half first) to
  /// `out`, footer 0xC0 with `accel` as aux. Values are rounded to the nearest count and
  /// clamped to the 24-bit range (NaN becomes 0). Throws std::invalid_argument for another
  /// number of values.
  void encode(std::span<const float> frame_uv, std::vector<std::uint8_t>& out,
              const std::array<std::int16_t, 3>& accel = {});

  [[nodiscard]] std::size_t channels() const {
    return daisy_ ? 2 * kOpenBciChannelsPerPacket : kOpenBciChannelsPerPacket;
  }

  /// Numbers the next frame `frame_sequence` (its packet counter is the sequence, or twice
  /// it with a Daisy, modulo 256), so frames skipped by the caller show up as lost packets.
  void set_next_frame(std::uint64_t frame_sequence) {
    next_sample_ = static_cast<std::uint8_t>((daisy_ ? 2 * frame_sequence : frame_sequence) & 0xFFU);
  }

 private:
  void put_packet(std::span<const float> uv8, const std::array<std::int16_t, 3>& accel, std::vector<std::uint8_t>& out);

  bool daisy_;
  double uv_per_count_;
  std::uint8_t next_sample_ = 0;
};

/// Streaming decoder: feed bytes in chunks of any size; each complete frame goes to the
/// callback. Chunk boundaries never change the result. Never allocates after construction.
class OpenBciDecoder {
 public:
  using FrameCallback = std::function<void(const OpenBciFrame&)>;

  /// Throws std::invalid_argument for a gain that is not finite and positive.
  explicit OpenBciDecoder(bool daisy, double gain = kOpenBciDefaultGain);

  void feed(std::span<const std::uint8_t> bytes, const FrameCallback& on_frame);

  /// Bytes held for an incomplete packet (they start with 0xA0).
  [[nodiscard]] std::size_t buffered_bytes() const { return fill_; }

  /// Packets accepted (header, valid footer), paired or not.
  [[nodiscard]] std::uint64_t packets() const { return load(packets_); }
  /// Frames delivered.
  [[nodiscard]] std::uint64_t frames() const { return load(frames_); }
  /// Packets missing according to the sample counter: (new − previous − 1) mod 256 per packet.
  [[nodiscard]] std::uint64_t lost_packets() const { return load(lost_packets_); }
  /// Runs of discarded bytes (each time the decoder had to search for the next packet).
  [[nodiscard]] std::uint64_t resyncs() const { return load(resyncs_); }
  /// Bytes that were not part of an accepted packet.
  [[nodiscard]] std::uint64_t bytes_discarded() const { return load(bytes_discarded_); }
  /// Daisy mode: packets dropped because the other half of their pair is missing.
  [[nodiscard]] std::uint64_t unpaired_daisy() const { return load(unpaired_daisy_); }

 private:
  using Counter = std::atomic<std::uint64_t>;
  static std::uint64_t load(const Counter& c) { return c.load(std::memory_order_relaxed); }
  // Single writer (the thread that feeds), so a relaxed load + store is enough.
  static void add(Counter& c, std::uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  void discard(std::size_t n);
  void on_packet(const FrameCallback& on_frame);
  void decode_channels(std::size_t first_channel);

  bool daisy_;
  double uv_per_count_;
  std::array<std::uint8_t, kOpenBciPacketBytes> packet_{};  // packet_[0] is 0xA0 whenever fill_ > 0
  std::size_t fill_ = 0;
  bool in_sync_ = true;  // false while discarding: the next discarded byte does not start a new resync

  bool have_counter_ = false;    // a packet has been seen, so unwrapped_ is valid
  std::uint64_t unwrapped_ = 0;  // unwrapped sample counter of the last packet

  OpenBciFrame frame_;  // assembled in place; with a Daisy, holds the pending half
  bool daisy_half_pending_ = false;
  std::uint64_t daisy_half_counter_ = 0;  // unwrapped counter of the pending Daisy half

  Counter packets_{0};
  Counter frames_{0};
  Counter lost_packets_{0};
  Counter resyncs_{0};
  Counter bytes_discarded_{0};
  Counter unpaired_daisy_{0};
};

}  // namespace sensorgate
