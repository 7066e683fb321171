#pragma once
// DeviceRegistry: every device the gateway has seen, each with its ring between ingest
// (the only producer) and the worker that owns the device's shard (the only consumer).
// Devices are only ever added, by the ingest thread; workers discover new ones by reading
// size(). Storage is allocated for max_devices up front, so adding never moves a device.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sensorgate/common/spsc_ring.hpp"
#include "sensorgate/gateway/frame_chunk.hpp"

namespace sensorgate {

struct DeviceStream {
  DeviceStream(std::string device_id, std::uint32_t device_index, std::uint16_t channel_count, double rate_hz,
               std::size_t ring_capacity)
      : id(std::move(device_id)),
        index(device_index),
        channels(channel_count),
        sample_rate_hz(rate_hz),
        ring(ring_capacity) {}

  const std::string id;
  const std::uint32_t index;
  const std::uint16_t channels;  ///< fixed by the device's first batch
  const double sample_rate_hz;   ///< fixed by the device's first batch
  SpscRing<FrameChunk> ring;
  /// Policy drop_oldest: chunks the producer needs freed. Only the consumer may release
  /// ring slots, so the producer asks and the worker discards the oldest chunks at its
  /// next tick (counting their frames) instead of processing them.
  std::atomic<std::uint32_t> drop_request{0};

  /// Per-device counters, published by the owning worker (single writer) for readers such
  /// as the statistics report.
  struct Counters {
    std::atomic<std::uint64_t> frames_accepted{0};
    std::atomic<std::uint64_t> duplicates{0};
    std::atomic<std::uint64_t> reordered{0};
    std::atomic<std::uint64_t> gap_frames{0};
    std::atomic<std::uint64_t> too_old{0};
    std::atomic<std::uint64_t> late{0};
    std::atomic<double> drift_ppm{0.0};
  } counters;
};

class DeviceRegistry {
 public:
  DeviceRegistry(std::size_t ring_capacity, std::size_t max_devices);

  /// Ingest thread only. Adds a device; nullptr when max_devices are registered already.
  DeviceStream* add(std::string_view id, std::uint16_t channels, double sample_rate_hz);

  /// Number of devices; entries below it are safe to read from any thread.
  [[nodiscard]] std::size_t size() const { return size_.load(std::memory_order_acquire); }
  [[nodiscard]] DeviceStream& at(std::size_t i) const { return *slots_[i]; }
  [[nodiscard]] std::size_t max_devices() const { return max_devices_; }

 private:
  std::size_t ring_capacity_;
  std::size_t max_devices_;
  std::vector<std::unique_ptr<DeviceStream>> slots_;  // sized once, never resized
  std::atomic<std::size_t> size_{0};
};

}  // namespace sensorgate
