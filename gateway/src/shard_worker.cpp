#include "sensorgate/gateway/shard_worker.hpp"

#include <algorithm>
#include <limits>
#include <thread>

namespace sensorgate {

ShardWorker::ShardWorker(std::size_t shard, std::size_t shards, DeviceRegistry& registry, WorkerOptions options,
                         std::unique_ptr<kernels::BlockStatsBackend> backend, uplink::UplinkRing& output)
    : shard_(shard),
      shards_(shards),
      registry_(registry),
      options_(std::move(options)),
      backend_(std::move(backend)),
      output_(output),
      classifier_(options_.models, options_.labels) {
  if (options_.anomaly.enabled) anomaly_.emplace(options_.anomaly);
  if (options_.capture_frames_per_record > 0) capture_.emplace(options_.capture_frames_per_record);
}

std::string_view ShardWorker::scoring_backend_name() const {
  return anomaly_ ? anomaly_->backend_name() : std::string_view();
}

const kernels::FailoverCounters* ShardWorker::scoring_counters() const {
  return anomaly_ ? anomaly_->backend_counters() : nullptr;
}

std::size_t ShardWorker::max_frames_per_tick(std::uint16_t channels) const {
  // A tick plans up to max_chunks_per_device chunks of a device before closing its windows.
  return options_.max_chunks_per_device * (FrameChunk::kCapacity / std::max<std::uint16_t>(channels, 1));
}

void ShardWorker::adopt_new_devices() {
  const std::size_t n = registry_.size();
  for (; seen_devices_ < n; ++seen_devices_) {
    if (seen_devices_ % shards_ != shard_) continue;
    DeviceStream& stream = registry_.at(seen_devices_);
    devices_.push_back(DeviceState{&stream, SequenceTracker{}, DeviceClock(stream.sample_rate_hz),
                                   WindowAggregator(options_.windows, stream.channels, stream.sample_rate_hz,
                                                    max_frames_per_tick(stream.channels)),
                                   std::chrono::steady_clock::now()});
  }
}

void ShardWorker::drop_oldest(DeviceState& device, std::uint32_t chunks) {
  // Twice at most: the oldest chunks may wrap around the end of the ring's storage.
  for (int part = 0; part < 2 && chunks > 0; ++part) {
    auto span = device.stream->ring.acquire_read();
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(span.size(), chunks));
    for (std::uint32_t i = 0; i < n; ++i) {
      // Through sequence tracking, so the dropped frames count as received (not as gaps)
      // and a later copy of them is still recognised as a duplicate.
      device.sequence.accept(span[i].first_seq, span[i].frames, accepted_);
      for (const auto& range : accepted_) frames_dropped_oldest_ += range.end - range.begin;
    }
    device.stream->ring.release_read(n);
    device.stream->chunks_done.fetch_add(n, std::memory_order_release);
    chunks -= n;
  }
}

std::size_t ShardWorker::tick(bool flush_all) {
  adopt_new_devices();
  const auto tick_start = StageMetrics::Clock::now();
  plan_.clear();
  std::size_t chunks = 0;
  std::uint64_t frames = 0;
  for (std::size_t d = 0; d < devices_.size(); ++d) {
    auto& device = devices_[d];
    if (const auto request = device.stream->drop_request.exchange(0, std::memory_order_acq_rel); request > 0) {
      drop_oldest(device, request);
    }
    auto span = device.stream->ring.acquire_read();
    device.taken = std::min(span.size(), options_.max_chunks_per_device);
    if (device.taken > 0 && span[0].enqueued_ns > 0) {
      handoff_stage_.record_queue_wait(
          std::chrono::nanoseconds(tick_start.time_since_epoch().count() - span[0].enqueued_ns));
      handoff_stage_.add_items(device.taken);
    }
    for (std::size_t i = 0; i < device.taken; ++i) {
      const FrameChunk& chunk = span[i];
      device.clock.observe(chunk.first_seq, chunk.first_time_ns);
      device.sequence.accept(chunk.first_seq, chunk.frames, accepted_);
      for (const auto& range : accepted_) {
        frames += range.end - range.begin;
        device.windows.plan(chunk, range.begin, range.end, device.clock, plan_);
        if (capture_) {
          capture_->add(d, device.stream->id, device.stream->sample_rate_hz, chunk, range.begin, range.end,
                        device.clock, captured_);
        }
      }
    }
    chunks += device.taken;
  }
  if (plan_.outputs > 0) {
    const auto& edges = options_.windows.histogram_edges;
    const std::size_t bins = kernels::histogram_bins(edges);
    moments_.resize(plan_.outputs);
    histogram_.resize(static_cast<std::size_t>(plan_.outputs) * bins);
    backend_->compute(plan_.jobs, edges, moments_, histogram_);
    plan_.merge(moments_, histogram_, bins);
    std::uint64_t samples = 0;
    for (const auto& job : plan_.jobs) samples += std::uint64_t{job.frames} * job.channels;
    stats_stage_.add_io(1, samples * sizeof(float));
  }
  const auto now = std::chrono::steady_clock::now();
  closed_.clear();
  closed_device_.clear();
  for (std::size_t d = 0; d < devices_.size(); ++d) {
    auto& device = devices_[d];
    if (device.taken > 0) {
      device.stream->ring.release_read(device.taken);
      device.last_data = now;
      device.windows.close_ready(device.clock, bands_, closed_);
    }
    if (flush_all || (device.windows.has_open_windows() && now - device.last_data >= options_.idle_timeout)) {
      device.windows.close_all(device.clock, bands_, closed_);
      if (capture_) capture_->flush(d, captured_);
    }
    closed_device_.resize(closed_.size(), static_cast<std::uint32_t>(d));
  }
  if (chunks > 0 || !closed_.empty()) {
    stats_stage_.record_batch(StageMetrics::Clock::now() - tick_start, frames,
                              plan_.outputs > 0 ? backend_->last_transfer_time() : std::chrono::nanoseconds::zero());
  }
  emit_captured();
  score_and_emit(flush_all);
  // Only now is everything these chunks closed on its way to the uplink.
  for (const auto& device : devices_) {
    if (device.taken > 0) device.stream->chunks_done.fetch_add(device.taken, std::memory_order_release);
  }
  return chunks;
}

void ShardWorker::emit_captured() {
  for (auto& record : captured_) {
    const auto frames = record.frames();
    if (push_output(std::move(record))) {
      raw_frames_captured_ += frames;
    } else {
      raw_frames_dropped_ += frames;
    }
  }
  captured_.clear();
}

void ShardWorker::score_and_emit(bool flush_all) {
  scores_.assign(closed_.size(), std::numeric_limits<float>::quiet_NaN());
  events_.clear();
  if (anomaly_ && !closed_.empty()) {
    scoring_inputs_.clear();
    for (std::size_t i = 0; i < closed_.size(); ++i) scoring_inputs_.push_back({closed_device_[i], &closed_[i]});
    StageTimer timer(score_stage_);
    anomaly_->process(scoring_inputs_, scores_, events_);
    timer.finish(closed_.size());
  }
  if (anomaly_ && flush_all) anomaly_->flush(events_);
  for (std::size_t i = 0; i < closed_.size(); ++i) {
    auto& window = closed_[i];
    const std::string& device_id = devices_[closed_device_[i]].stream->id;
    if (options_.window_tap) {
      std::span<const float> features;
      if (anomaly_ && anomaly_->features().rows() > static_cast<Eigen::Index>(i)) {
        const auto& f = anomaly_->features();
        features =
            std::span<const float>(f.row(static_cast<Eigen::Index>(i)).data(), static_cast<std::size_t>(f.cols()));
      }
      options_.window_tap(WindowTap{device_id, window, features, scores_[i]});
    }
    uplink::WindowSummaryRecord record;
    record.device_id = device_id;
    record.window_start_ns = window.start_ns;
    record.window_end_ns = window.end_ns;
    record.revision = window.revision;
    record.anomaly_score = scores_[i];
    record.channels.reserve(window.channels.size());
    for (std::size_t c = 0; c < window.channels.size(); ++c) {
      const auto& m = window.channels[c];
      record.channels.push_back({static_cast<std::uint16_t>(c), m.count, m.min, m.max, m.mean, m.variance()});
    }
    if (!window.histogram.empty()) {
      record.histogram_edges = options_.windows.histogram_edges;
      record.histogram_counts = std::move(window.histogram);
    }
    record.band_powers.reserve(window.bands.size() * kernels::kEegBands.size());
    for (const auto& b : window.bands) record.band_powers.insert(record.band_powers.end(), b.begin(), b.end());
    classifier_.apply(record);
    if (options_.live_view != nullptr) options_.live_view->publish(record);
    if (push_output(std::move(record))) {
      ++windows_closed_;
    } else {
      ++windows_dropped_;
    }
  }
  for (auto& event : events_) {
    uplink::AnomalyEventRecord record;
    record.device_id = devices_[event.device_index].stream->id;
    record.start_ns = event.start_ns;
    record.end_ns = event.end_ns;
    record.peak_score = event.peak_score;
    record.peak_window_start_ns = event.peak_window_start_ns;
    record.windows = static_cast<std::uint32_t>(event.windows);
    record.channels = std::move(event.channels);
    record.ongoing = event.ongoing;
    if (options_.live_view != nullptr) options_.live_view->publish(record);
    if (!push_output(std::move(record))) ++events_dropped_;
  }
}

bool ShardWorker::push_output(uplink::UplinkRecord record) {
  bool waited = false;
  for (;;) {
    if (auto slot = output_.acquire_write(); !slot.empty()) {
      slot[0] = std::move(record);
      output_.commit_write(1);
      return true;
    }
    if (!waited) ++uplink_waits_;
    waited = true;
    if (stop_ != nullptr && stop_->load(std::memory_order_relaxed) &&
        std::chrono::steady_clock::now().time_since_epoch().count() >
            stop_deadline_ns_->load(std::memory_order_relaxed)) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

void ShardWorker::publish_counters() {
  SequenceTracker::Counters seq;
  std::uint64_t late = 0;
  std::uint64_t updates = 0;
  for (const auto& d : devices_) {
    const auto& c = d.sequence.counters();
    auto& out = d.stream->counters;
    out.frames_accepted.store(c.accepted, std::memory_order_relaxed);
    out.duplicates.store(c.duplicates, std::memory_order_relaxed);
    out.reordered.store(c.reordered, std::memory_order_relaxed);
    out.gap_frames.store(c.gap_frames, std::memory_order_relaxed);
    out.too_old.store(c.too_old, std::memory_order_relaxed);
    out.late.store(d.windows.late_frames(), std::memory_order_relaxed);
    out.drift_ppm.store(d.clock.drift_ppm(), std::memory_order_relaxed);
    seq.accepted += c.accepted;
    seq.duplicates += c.duplicates;
    seq.reordered += c.reordered;
    seq.gap_frames += c.gap_frames;
    seq.too_old += c.too_old;
    late += d.windows.late_frames();
    updates += d.windows.updates_emitted();
  }
  counters_.frames.store(seq.accepted - late - frames_dropped_oldest_, std::memory_order_relaxed);
  counters_.frames_dropped_oldest.store(frames_dropped_oldest_, std::memory_order_relaxed);
  counters_.duplicates.store(seq.duplicates, std::memory_order_relaxed);
  counters_.reordered.store(seq.reordered, std::memory_order_relaxed);
  counters_.gap_frames.store(seq.gap_frames, std::memory_order_relaxed);
  counters_.too_old.store(seq.too_old, std::memory_order_relaxed);
  counters_.late_frames.store(late, std::memory_order_relaxed);
  counters_.windows_closed.store(windows_closed_, std::memory_order_relaxed);
  counters_.window_updates.store(updates, std::memory_order_relaxed);
  counters_.uplink_full_waits.store(uplink_waits_, std::memory_order_relaxed);
  counters_.windows_dropped_on_stop.store(windows_dropped_, std::memory_order_relaxed);
  counters_.events_dropped_on_stop.store(events_dropped_, std::memory_order_relaxed);
  counters_.raw_frames_captured.store(raw_frames_captured_, std::memory_order_relaxed);
  counters_.raw_frames_dropped_on_stop.store(raw_frames_dropped_, std::memory_order_relaxed);
  if (const auto* stats = backend_->failover_counters()) {
    counters_.stats_failures.store(stats->failures.load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  if (anomaly_) {
    const auto& a = anomaly_->counters();
    counters_.windows_scored.store(a.scored.load(std::memory_order_relaxed), std::memory_order_relaxed);
    counters_.windows_unscorable.store(a.unscorable.load(std::memory_order_relaxed), std::memory_order_relaxed);
    counters_.anomaly_events.store(a.events.load(std::memory_order_relaxed), std::memory_order_relaxed);
    if (const auto* b = anomaly_->backend_counters()) {
      counters_.scoring_failures.store(b->failures.load(std::memory_order_relaxed), std::memory_order_relaxed);
      counters_.scoring_fallbacks.store(b->fallback_searches.load(std::memory_order_relaxed),
                                        std::memory_order_relaxed);
    }
  }
}

std::vector<StageSnapshot> ShardWorker::stage_snapshots() const {
  const auto& c = counters_;
  auto handoff = handoff_stage_.snapshot();
  handoff.drops = {{"ring_overflow_frames", c.frames_dropped_oldest.load(std::memory_order_relaxed)},
                   {"uplink_full_waits", c.uplink_full_waits.load(std::memory_order_relaxed)}};
  auto stats = stats_stage_.snapshot();
  stats.drops = {
      {"late_frames", c.late_frames.load(std::memory_order_relaxed)},
      {"too_old_frames", c.too_old.load(std::memory_order_relaxed)},
      {"duplicate_frames", c.duplicates.load(std::memory_order_relaxed)},
      {"missing_frames", c.gap_frames.load(std::memory_order_relaxed) - c.reordered.load(std::memory_order_relaxed)},
      {"windows_dropped_on_stop", c.windows_dropped_on_stop.load(std::memory_order_relaxed)},
      {"gpu_failures", c.stats_failures.load(std::memory_order_relaxed)}};
  std::vector<StageSnapshot> stages{std::move(handoff), std::move(stats)};
  if (anomaly_) {
    auto score = score_stage_.snapshot();
    score.drops = {{"windows_unscorable", c.windows_unscorable.load(std::memory_order_relaxed)},
                   {"gpu_failures", c.scoring_failures.load(std::memory_order_relaxed)},
                   {"events_dropped_on_stop", c.events_dropped_on_stop.load(std::memory_order_relaxed)}};
    stages.push_back(std::move(score));
  }
  return stages;
}

std::size_t ShardWorker::step(bool flush_all) {
  const std::size_t chunks = tick(flush_all);
  publish_counters();
  return chunks;
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
