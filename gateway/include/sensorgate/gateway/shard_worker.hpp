#pragma once
// ShardWorker: one processing thread owning a shard of the devices (device index modulo
// the number of workers). Each tick it drains the shard's rings in place: sequence
// tracking -> event time from the sequence number (DeviceClock) -> pane assignment -> one
// batched backend call for the block statistics of every drained chunk -> merge into panes
// -> close the windows the watermark has passed (band powers computed then) -> summaries
// into the uplink ring. Ring slots are released only after the backend has read them, so
// no sample is copied between ingest and the backend.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "sensorgate/gateway/device_clock.hpp"
#include "sensorgate/gateway/device_registry.hpp"
#include "sensorgate/gateway/sequence_tracker.hpp"
#include "sensorgate/gateway/window_aggregator.hpp"
#include "sensorgate/kernels/block_stats.hpp"
#include "sensorgate/kernels/spectrum.hpp"
#include "sensorgate/uplink/uplink_sender.hpp"

namespace sensorgate {

struct WorkerOptions {
  WindowSpec windows;
  /// A device silent for this long (wall clock) has its open windows closed.
  std::chrono::milliseconds idle_timeout{2000};
  /// Chunks taken from one device per tick, so one busy device cannot starve the others.
  std::size_t max_chunks_per_device = 64;
};

/// Totals over the shard's devices: written by the worker, readable from any thread.
struct WorkerCounters {
  std::atomic<std::uint64_t> frames{0};  ///< frames accepted into windows
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> reordered{0};
  std::atomic<std::uint64_t> gap_frames{0};
  std::atomic<std::uint64_t> too_old{0};
  std::atomic<std::uint64_t> late_frames{0};
  std::atomic<std::uint64_t> frames_dropped_oldest{0};  ///< discarded unprocessed (policy drop_oldest)
  std::atomic<std::uint64_t> windows_closed{0};
  std::atomic<std::uint64_t> window_updates{0};           ///< corrected windows emitted again (late policy update)
  std::atomic<std::uint64_t> uplink_full_waits{0};        ///< times a full uplink ring made the worker wait
  std::atomic<std::uint64_t> windows_dropped_on_stop{0};  ///< given up at shutdown (uplink stuck)
};

class ShardWorker {
 public:
  ShardWorker(std::size_t shard, std::size_t shards, DeviceRegistry& registry, WorkerOptions options,
              std::unique_ptr<kernels::BlockStatsBackend> backend, uplink::SummaryRing& output);

  /// Processes until `stop` is set; then drains the rings, closes every window and
  /// returns. Output waits give up (counted) after `stop_deadline_ns` (steady clock).
  void run(const std::atomic<bool>& stop, const std::atomic<std::int64_t>& stop_deadline_ns);

  [[nodiscard]] const WorkerCounters& counters() const { return counters_; }
  [[nodiscard]] std::string_view backend_name() const { return backend_->name(); }

 private:
  struct DeviceState {
    DeviceStream* stream = nullptr;
    SequenceTracker sequence;
    DeviceClock clock;
    WindowAggregator windows;
    std::chrono::steady_clock::time_point last_data;
    std::size_t taken = 0;  // chunks acquired this tick
  };

  [[nodiscard]] std::size_t max_frames_per_tick(std::uint16_t channels) const;
  void adopt_new_devices();
  /// Policy drop_oldest: discards up to `chunks` of the oldest chunks of `device`.
  void drop_oldest(DeviceState& device, std::uint32_t chunks);
  /// One pass over the shard; returns the number of chunks processed.
  std::size_t tick(bool flush_all);
  void emit(const DeviceState& device, std::vector<ClosedWindow>& closed);
  void publish_counters();

  std::size_t shard_;
  std::size_t shards_;
  DeviceRegistry& registry_;
  WorkerOptions options_;
  std::unique_ptr<kernels::BlockStatsBackend> backend_;
  uplink::SummaryRing& output_;
  std::vector<DeviceState> devices_;
  std::size_t seen_devices_ = 0;
  BlockPlan plan_;
  std::vector<kernels::Moments> moments_;
  std::vector<std::uint32_t> histogram_;
  kernels::BandPowerCalculator bands_;
  std::vector<SequenceTracker::Range> accepted_;
  std::vector<ClosedWindow> closed_;
  std::uint64_t windows_closed_ = 0;
  std::uint64_t windows_dropped_ = 0;
  std::uint64_t uplink_waits_ = 0;
  std::uint64_t frames_dropped_oldest_ = 0;
  const std::atomic<bool>* stop_ = nullptr;
  const std::atomic<std::int64_t>* stop_deadline_ns_ = nullptr;
  WorkerCounters counters_;
};

}  // namespace sensorgate
