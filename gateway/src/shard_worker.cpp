#include "sensorgate/gateway/shard_worker.hpp"

#include <thread>

namespace sensorgate {

ShardWorker::ShardWorker(std::size_t shard, std::size_t shards, DeviceRegistry& registry, WorkerOptions options,
                         std::unique_ptr<kernels::MomentsBackend> backend, uplink::SummaryRing& output)
    : shard_(shard),
      shards_(shards),
      registry_(registry),
      options_(options),
      backend_(std::move(backend)),
      output_(output) {}

void ShardWorker::adopt_new_devices() {
  const std::size_t n = registry_.size();
  for (; seen_devices_ < n; ++seen_devices_) {
    if (seen_devices_ % shards_ != shard_) continue;
    DeviceStream& stream = registry_.at(seen_devices_);
    devices_.push_back(DeviceState{&stream, SequenceTracker{}, WindowAggregator(options_.windows, stream.channels),
                                   std::chrono::steady_clock::now()});
  }
}

std::size_t ShardWorker::tick(bool flush_all) {
  adopt_new_devices();
  plan_.clear();
  std::size_t chunks = 0;
  for (auto& device : devices_) {
    auto span = device.stream->ring.acquire_read();
    device.taken = std::min(span.size(), options_.max_chunks_per_device);
    for (std::size_t i = 0; i < device.taken; ++i) {
      const FrameChunk& chunk = span[i];
      device.sequence.accept(chunk.first_seq, chunk.frames, accepted_);
      for (const auto& range : accepted_) device.windows.plan(chunk, range.begin, range.end, plan_);
    }
    chunks += device.taken;
  }
  if (plan_.outputs > 0) {
    results_.resize(plan_.outputs);
    backend_->compute(plan_.jobs, results_);
    plan_.merge(results_);
  }
  const auto now = std::chrono::steady_clock::now();
  for (auto& device : devices_) {
    closed_.clear();
    if (device.taken > 0) {
      device.stream->ring.release_read(device.taken);
      device.last_data = now;
      device.windows.close_ready(closed_);
    }
    if (flush_all || (device.windows.open_windows() > 0 && now - device.last_data >= options_.idle_timeout)) {
      device.windows.close_all(closed_);
    }
    if (!closed_.empty()) emit(device, closed_);
  }
  return chunks;
}

void ShardWorker::emit(const DeviceState& device, std::vector<ClosedWindow>& closed) {
  for (auto& window : closed) {
    uplink::WindowSummaryRecord record;
    record.device_id = device.stream->id;
    record.window_start_ns = window.start_ns;
    record.window_end_ns = window.end_ns;
    record.channels.reserve(window.channels.size());
    for (std::size_t c = 0; c < window.channels.size(); ++c) {
      const auto& m = window.channels[c];
      record.channels.push_back({static_cast<std::uint16_t>(c), m.count, m.min, m.max, m.mean, m.variance()});
    }
    bool waited = false;
    for (;;) {
      if (auto slot = output_.acquire_write(); !slot.empty()) {
        slot[0] = std::move(record);
        output_.commit_write(1);
        ++windows_closed_;
        break;
      }
      if (!waited) ++uplink_waits_;
      waited = true;
      if (stop_->load(std::memory_order_relaxed) && std::chrono::steady_clock::now().time_since_epoch().count() >
                                                        stop_deadline_ns_->load(std::memory_order_relaxed)) {
        ++windows_dropped_;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
}

void ShardWorker::publish_counters() {
  SequenceTracker::Counters seq;
  std::uint64_t late = 0;
  for (const auto& d : devices_) {
    const auto& c = d.sequence.counters();
    seq.accepted += c.accepted;
    seq.duplicates += c.duplicates;
    seq.reordered += c.reordered;
    seq.gap_frames += c.gap_frames;
    seq.too_old += c.too_old;
    late += d.windows.late_frames();
  }
  counters_.frames.store(seq.accepted - late, std::memory_order_relaxed);
  counters_.duplicates.store(seq.duplicates, std::memory_order_relaxed);
  counters_.reordered.store(seq.reordered, std::memory_order_relaxed);
  counters_.gap_frames.store(seq.gap_frames, std::memory_order_relaxed);
  counters_.too_old.store(seq.too_old, std::memory_order_relaxed);
  counters_.late_frames.store(late, std::memory_order_relaxed);
  counters_.windows_closed.store(windows_closed_, std::memory_order_relaxed);
  counters_.uplink_full_waits.store(uplink_waits_, std::memory_order_relaxed);
  counters_.windows_dropped_on_stop.store(windows_dropped_, std::memory_order_relaxed);
}

void ShardWorker::run(const std::atomic<bool>& stop, const std::atomic<std::int64_t>& stop_deadline_ns) {
  stop_ = &stop;
  stop_deadline_ns_ = &stop_deadline_ns;
  auto last_publish = std::chrono::steady_clock::now();
  while (!stop.load(std::memory_order_acquire)) {
    const std::size_t chunks = tick(false);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_publish > std::chrono::milliseconds(100)) {
      publish_counters();
      last_publish = now;
    }
    // Idle: nothing arrived, so sleep a little rather than spin on empty rings.
    if (chunks == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Ingest has stopped: take what is left in the rings, then close every window.
  while (tick(false) > 0) {
  }
  tick(true);
  publish_counters();
}

}  // namespace sensorgate
