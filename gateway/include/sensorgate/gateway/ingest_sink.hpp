#pragma once
// IngestSink: where every ingest transport delivers decoded batches. It finds (or
// registers) the batch's device and cuts the batch into FrameChunks written straight into
// the device's ring. When the ring is full:
// - policy "block": it waits until the worker has processed chunks, which stalls the
//   transport's thread and so pushes back on the source (MQTT stops acknowledging and the
//   broker holds further messages); nothing is lost;
// - policy "drop_oldest": it asks the worker to discard the oldest chunks unprocessed
//   (counted as dropped frames) and waits only for that, at most one worker tick, so the
//   freshest data keeps flowing when processing cannot keep up.
// Only at shutdown are frames given up here, and counted.
//
// Each transport (source) has its own IngestSink and calls it from its one thread: that
// thread is the single producer of the rings of the devices it registered. A device id
// already registered by another source is refused and counted (rejected_other_source).
//
// With an IngestJournal every accepted batch is also appended to it, and replay_journal()
// pushes what a crashed predecessor left there before the transport starts.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sensorgate/common/stage_metrics.hpp"
#include "sensorgate/gateway/device_registry.hpp"
#include "sensorgate/gateway/frame_batch_decoder.hpp"
#include "sensorgate/gateway/ingest_journal.hpp"

namespace sensorgate {

/// Counters: single writer (the ingest thread), readable from any thread.
struct IngestCounters {
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> frames{0};
  std::atomic<std::uint64_t> ring_full_waits{0};         ///< times a full ring made ingest wait
  std::atomic<std::uint64_t> rejected_device_limit{0};   ///< batches of devices beyond max_devices
  std::atomic<std::uint64_t> rejected_layout_change{0};  ///< batches whose channel count or rate changed
  std::atomic<std::uint64_t> rejected_other_source{0};   ///< batches of a device id owned by another source
  std::atomic<std::uint64_t> frames_dropped_on_stop{0};  ///< frames given up because of shutdown
};

enum class FullPolicy : std::uint8_t { kBlock, kDropOldest };

class IngestSink {
 public:
  /// `stopping` turns waiting into giving up (counted) once shutdown has begun. `source`
  /// names the transport ("mqtt", "serial:/dev/ttyUSB0") in the registry and in logs.
  IngestSink(DeviceRegistry& registry, FullPolicy policy, const std::atomic<bool>& stopping,
             std::string source = "ingest");

  /// Writes the batch into its device's ring. The "ingest_decode" stage records one batch
  /// per call: `decode_time` (what the transport spent verifying and decoding it) plus the
  /// push itself, `wire_bytes` as its I/O (0: the samples' size).
  void push(const DecodedBatch& batch, std::chrono::nanoseconds decode_time = std::chrono::nanoseconds::zero(),
            std::size_t wire_bytes = 0);
  /// A payload the transport could not decode: counted as I/O of the stage.
  void count_bad_payload(std::size_t wire_bytes) { stage_.add_io(1, wire_bytes); }

  /// Journals every batch accepted from now on (null: none); the journal must outlive
  /// this sink's use. Call before the transport starts.
  void set_journal(IngestJournal* journal) { journal_ = journal; }
  /// Pushes the batches the journal recovered at open, oldest first, on the calling
  /// thread (before the transport starts: the workers must run). Returns how many.
  std::size_t replay_journal();

  [[nodiscard]] const IngestCounters& counters() const { return counters_; }
  /// The "ingest_decode" stage with this sink's drops (refused batches, frames given up at stop).
  [[nodiscard]] StageSnapshot stage_snapshot() const;
  [[nodiscard]] const std::string& source() const { return source_; }

 private:
  DeviceStream* device_for(const DecodedBatch& batch);
  /// The batch's device, registered if new; null when the batch is refused (counted).
  DeviceStream* accept(const DecodedBatch& batch);
  /// Writes the batch into the device's ring; returns the frames written (fewer only when
  /// shutdown gave some up).
  std::uint32_t write(DeviceStream& device, const DecodedBatch& batch);

  DeviceRegistry& registry_;
  FullPolicy policy_;
  const std::atomic<bool>& stopping_;
  std::string source_;
  // Transparent hash: lookups by the batch's string_view allocate nothing.
  struct IdHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  std::unordered_map<std::string, DeviceStream*, IdHash, std::equal_to<>> by_id_;
  IngestCounters counters_;
  StageMetrics stage_{"ingest_decode", "frames"};
  IngestJournal* journal_ = nullptr;
};

}  // namespace sensorgate
