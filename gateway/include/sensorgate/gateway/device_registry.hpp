#pragma once
// DeviceRegistry: every device the gateway has seen, each with its ring between ingest
// (the only producer) and the worker that owns the device's shard (the only consumer).
// Devices are only ever added; workers and readers discover new ones by reading size()
// without a lock. Storage is allocated for max_devices up front, so adding never moves a
// device.
//
// Several transports (the MQTT callback thread, one thread per serial port) add devices,
// so add() takes a mutex. Each device records the source that registered it: a ring may
// have only one producer, so a device id that a second source also sends is refused for
// that second source (the IngestSink counts it) instead of getting two writers.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sensorgate/common/spsc_ring.hpp"
#include "sensorgate/gateway/frame_chunk.hpp"

namespace sensorgate {

struct DeviceStream {
  DeviceStream(std::string device_id, std::uint32_t device_index, std::uint16_t channel_count, double rate_hz,
               std::size_t ring_capacity, std::string source_name = {})
      : id(std::move(device_id)),
        source(std::move(source_name)),
        index(device_index),
        channels(channel_count),
        sample_rate_hz(rate_hz),
        ring(ring_capacity) {}

  const std::string id;
  const std::string source;  ///< the ingest source that registered it, its ring's only producer
  const std::uint32_t index;
  const std::uint16_t channels;  ///< fixed by the device's first batch
  const double sample_rate_hz;   ///< fixed by the device's first batch
  SpscRing<FrameChunk> ring;
  /// Policy drop_oldest: chunks the producer needs freed. Only the consumer may release
  /// ring slots, so the producer asks and the worker discards the oldest chunks at its
  /// next tick (counting their frames) instead of processing them.
  std::atomic<std::uint32_t> drop_request{0};
  /// Chunks the producer has written into the ring, ever (the producer's count).
  std::atomic<std::uint64_t> chunks_written{0};
  /// Chunks the worker is done with, ever: processed (or dropped) and whatever windows
  /// they closed pushed towards the uplink. The ingest journal compares the two.
  std::atomic<std::uint64_t> chunks_done{0};

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

  enum class AddStatus : std::uint8_t {
    kAdded,         ///< newly registered for the source
    kExisting,      ///< already registered by the same source (returned as is)
    kLimitReached,  ///< max_devices are registered already
    kOtherSource,   ///< the id belongs to another source; a ring has one producer only
  };
  struct AddResult {
    DeviceStream* device = nullptr;  ///< null unless kAdded or kExisting
    AddStatus status = AddStatus::kAdded;
  };

  /// Registers `id` for `source` (any thread; serialised by a mutex). An id registered by
  /// another source is refused, so each ring keeps a single producer.
  AddResult add(std::string_view id, std::uint16_t channels, double sample_rate_hz, std::string_view source);

  /// Number of devices; entries below it are safe to read from any thread.
  [[nodiscard]] std::size_t size() const { return size_.load(std::memory_order_acquire); }
  [[nodiscard]] DeviceStream& at(std::size_t i) const { return *slots_[i]; }
  [[nodiscard]] std::size_t max_devices() const { return max_devices_; }

 private:
  std::size_t ring_capacity_;
  std::size_t max_devices_;
  std::vector<std::unique_ptr<DeviceStream>> slots_;  // sized once, never resized
  std::atomic<std::size_t> size_{0};
  std::mutex add_mutex_;                                // writers only; readers use size_
  std::unordered_map<std::string, std::size_t> index_;  // id -> slot, guarded by add_mutex_
};

}  // namespace sensorgate
