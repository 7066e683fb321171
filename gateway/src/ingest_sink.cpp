#include "sensorgate/gateway/ingest_sink.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include "sensorgate/common/counter.hpp"

namespace sensorgate {

IngestSink::IngestSink(DeviceRegistry& registry, FullPolicy policy, const std::atomic<bool>& stopping,
                       std::string source)
    : registry_(registry), policy_(policy), stopping_(stopping), source_(std::move(source)) {}

DeviceStream* IngestSink::device_for(const DecodedBatch& batch) {
  if (auto it = by_id_.find(batch.device_id); it != by_id_.end()) return it->second;
  const auto added = registry_.add(batch.device_id, batch.channels, batch.sample_rate_hz, source_);
  switch (added.status) {
    case DeviceRegistry::AddStatus::kLimitReached:
      if (counters_.rejected_device_limit.load(std::memory_order_relaxed) == 0) {
        spdlog::warn(
            "ingest ({}): device limit of {} reached; refusing new device '{}' and any further (ingest.max_devices)",
            source_, registry_.max_devices(), batch.device_id);
      }
      bump(counters_.rejected_device_limit);
      return nullptr;
    case DeviceRegistry::AddStatus::kOtherSource:
      // Not cached: the same id keeps being refused (and counted) on every batch.
      if (counters_.rejected_other_source.load(std::memory_order_relaxed) == 0) {
        spdlog::warn(
            "ingest ({}): device '{}' is already streamed by another source; its batches from here are "
            "dropped (a device's ring has exactly one producer)",
            source_, batch.device_id);
      }
      bump(counters_.rejected_other_source);
      return nullptr;
    case DeviceRegistry::AddStatus::kAdded:
    case DeviceRegistry::AddStatus::kExisting: break;
  }
  DeviceStream* device = added.device;
  spdlog::info("ingest ({}): new device '{}' ({} channels, {} Hz)", source_, device->id, device->channels,
               batch.sample_rate_hz);
  by_id_.emplace(device->id, device);
  return device;
}

StageSnapshot IngestSink::stage_snapshot() const {
  auto s = stage_.snapshot();
  s.drops = {{"rejected_batches", counters_.rejected_device_limit.load() + counters_.rejected_layout_change.load() +
                                      counters_.rejected_other_source.load()},
             {"frames_dropped_on_stop", counters_.frames_dropped_on_stop.load()}};
  return s;
}

namespace {

/// DeviceStream::chunks_written once the whole batch is in the ring (the batch is cut into
/// chunks of FrameChunk::kCapacity samples).
std::uint64_t chunks_after(const DeviceStream& device, const DecodedBatch& batch) {
  const std::uint32_t per_chunk = FrameChunk::kCapacity / batch.channels;
  return device.chunks_written.load(std::memory_order_relaxed) + (batch.frames() + per_chunk - 1) / per_chunk;
}

}  // namespace

void IngestSink::push(const DecodedBatch& batch, std::chrono::nanoseconds decode_time, std::size_t wire_bytes) {
  const auto started = StageMetrics::Clock::now();
  stage_.add_io(1, wire_bytes > 0 ? wire_bytes : batch.samples.size() * sizeof(float));
  DeviceStream* device = accept(batch);
  if (device == nullptr) return;  // refused and counted
  // Journaled before the ring: a batch still waiting for ring space when the gateway dies
  // is on disk too (the broker was told it arrived); frames given up at shutdown are
  // replayed by the next start.
  if (journal_ != nullptr) journal_->append(batch, *device, chunks_after(*device, batch));
  const std::uint32_t frames = write(*device, batch);
  if (journal_ != nullptr) journal_->forget_safe(std::chrono::steady_clock::now());
  stage_.record_batch(decode_time + (StageMetrics::Clock::now() - started), frames);
}

std::size_t IngestSink::replay_journal() {
  if (journal_ == nullptr) return 0;
  FrameBatchDecoder decoder;
  std::size_t replayed = 0;
  std::size_t rejected = 0;
  for (const auto& record : journal_->take_recovered()) {
    DecodedBatch batch;
    const auto error = decoder.decode(record.bytes, batch);
    DeviceStream* device = error == DecodeError::kNone ? accept(batch) : nullptr;
    if (device == nullptr) {
      if (rejected++ == 0) {
        spdlog::warn("ingest ({}): journal record {} not replayed: {}", source_, record.sequence,
                     error == DecodeError::kNone ? "the batch was refused" : to_string(error));
      }
      journal_->rejected(record.sequence);
      continue;
    }
    journal_->replayed(record.sequence, *device, chunks_after(*device, batch));
    write(*device, batch);
    journal_->forget_safe(std::chrono::steady_clock::now());
    ++replayed;
  }
  if (replayed > 0 || rejected > 0) {
    spdlog::info("ingest ({}): replayed {} frame batches from the journal ({} not replayable)", source_, replayed,
                 rejected);
  }
  return replayed;
}

DeviceStream* IngestSink::accept(const DecodedBatch& batch) {
  DeviceStream* device = device_for(batch);
  if (device == nullptr) return nullptr;  // refused and counted by device_for
  if (batch.channels != device->channels || batch.sample_rate_hz != device->sample_rate_hz) {
    // Sample times and windows are derived from the first batch's layout; a device that
    // changes it mid-stream needs a new id (or a gateway restart).
    bump(counters_.rejected_layout_change);
    spdlog::warn("ingest: device '{}' sent {} channels at {} Hz, registered with {} at {} Hz; batch dropped",
                 device->id, batch.channels, batch.sample_rate_hz, device->channels, device->sample_rate_hz);
    return nullptr;
  }
  return device;
}

std::uint32_t IngestSink::write(DeviceStream& device, const DecodedBatch& batch) {
  bump(counters_.batches);
  const std::uint32_t frames = batch.frames();
  const std::uint32_t per_chunk = FrameChunk::kCapacity / batch.channels;
  const double period_ns = 1e9 / batch.sample_rate_hz;  // only for the reported chunk times
  std::uint32_t done = 0;
  bool waited = false;
  while (done < frames) {
    auto slots = device.ring.acquire_write();
    if (slots.empty()) {
      if (stopping_.load(std::memory_order_relaxed)) {
        bump(counters_.frames_dropped_on_stop, frames - done);
        break;
      }
      if (!waited) bump(counters_.ring_full_waits);
      waited = true;
      if (policy_ == FullPolicy::kDropOldest) {
        const std::uint32_t needed = (frames - done + per_chunk - 1) / per_chunk;
        const auto capacity = static_cast<std::uint32_t>(device.ring.capacity());
        device.drop_request.store(std::min(needed, capacity), std::memory_order_release);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    std::size_t used = 0;
    const auto enqueued_ns = StageMetrics::Clock::now().time_since_epoch().count();
    for (auto& chunk : slots) {
      if (done == frames) break;
      const std::uint32_t n = std::min(per_chunk, frames - done);
      chunk.first_seq = batch.first_seq + done;
      chunk.first_time_ns = batch.first_time_ns + std::llround(static_cast<double>(done) * period_ns);
      chunk.enqueued_ns = enqueued_ns;
      chunk.channels = batch.channels;
      chunk.frames = static_cast<std::uint16_t>(n);
      std::memcpy(chunk.samples.data(), batch.samples.data() + static_cast<std::size_t>(done) * batch.channels,
                  static_cast<std::size_t>(n) * batch.channels * sizeof(float));
      done += n;
      ++used;
    }
    device.ring.commit_write(used);
    device.chunks_written.fetch_add(used, std::memory_order_relaxed);
  }
  bump(counters_.frames, done);
  return done;
}

}  // namespace sensorgate
