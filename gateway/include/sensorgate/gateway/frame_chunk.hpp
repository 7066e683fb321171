#pragma once
// FrameChunk: the unit that travels through a device's ring between ingest and processing.
// Fixed size and trivially copyable, so ingest decodes straight into ring slots and the
// worker processes them in place; no allocation per batch on the hot path. A FrameBatch
// of any length is split into as many chunks as it needs; a chunk holds whole frames.

#include <array>
#include <cstdint>

#include "sensorgate/kernels/moments.hpp"

namespace sensorgate {

struct FrameChunk {
  /// Floats per chunk: 16 frames of 16 channels; 1 frame of the 256-channel maximum.
  static constexpr std::uint32_t kCapacity = 256;

  std::uint64_t first_seq = 0;
  /// Device time of frame 0 as the device reported it. Windows use times derived from
  /// sequence numbers (DeviceClock); this one only measures the device's clock drift.
  std::int64_t first_time_ns = 0;
  /// Steady-clock time ingest wrote the chunk: the worker measures the ring hand-off wait.
  std::int64_t enqueued_ns = 0;
  std::uint16_t channels = 0;
  std::uint16_t frames = 0;
  std::array<float, kCapacity> samples{};  // frame-major; only frames * channels are valid
};

static_assert(kernels::kMaxChannels <= FrameChunk::kCapacity, "a chunk must hold at least one frame");

}  // namespace sensorgate
