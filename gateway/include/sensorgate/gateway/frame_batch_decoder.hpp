#pragma once
// FrameBatchDecoder: turns an untrusted byte buffer into a checked view of a FrameBatch.
// The FlatBuffers verifier runs first (a buffer that fails it is never read), then the
// semantic checks the verifier cannot do. Each rejection reason has its own counter.

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sensorgate {

/// A verified batch; views point into the buffer passed to decode().
struct DecodedBatch {
  std::string_view device_id;
  std::uint64_t first_seq = 0;
  std::int64_t first_time_ns = 0;
  double sample_rate_hz = 0;
  std::uint16_t channels = 0;
  std::span<const float> samples;  // frames * channels, frame-major

  [[nodiscard]] std::uint32_t frames() const { return static_cast<std::uint32_t>(samples.size() / channels); }
};

enum class DecodeError : std::uint8_t {
  kNone = 0,
  kVerifierFailed,   ///< not a well-formed FrameBatch buffer (truncated, corrupt, wrong type)
  kBadDeviceId,      ///< empty, longer than 64 bytes, or with characters outside [A-Za-z0-9._-]
  kBadChannelCount,  ///< 0 or more than 256 channels
  kBadSampleCount,   ///< no samples, or not a whole number of frames
  kBadSampleRate,    ///< not a finite rate in (0, 1 MHz]
  kNonFiniteSample,  ///< a NaN or infinite sample (a broken ADC or encoder upstream)
  kCount
};

std::string_view to_string(DecodeError error);

/// A device or gateway id: 1-64 characters of [A-Za-z0-9._-] (safe in topics, logs, file
/// names and the collector's tables).
bool is_valid_id(std::string_view id);

class FrameBatchDecoder {
 public:
  /// Verifies and decodes; on failure returns the error and increments its counter.
  DecodeError decode(std::span<const std::uint8_t> buffer, DecodedBatch& out);

  [[nodiscard]] std::uint64_t rejected(DecodeError error) const {
    return rejected_[static_cast<std::size_t>(error)].load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t rejected_total() const;

 private:
  DecodeError reject(DecodeError error);
  // Single writer (the ingest thread), read by the stats reporter.
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(DecodeError::kCount)> rejected_{};
};

}  // namespace sensorgate
