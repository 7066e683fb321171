#include "sensorgate/gateway/ingest_journal.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "sensorgate/common/counter.hpp"
#include "sensorgate/uplink/codec.hpp"

namespace sensorgate {
namespace {

uplink::DiskSpoolOptions log_options(const IngestJournalOptions& o) {
  uplink::DiskSpoolOptions log = o.log;
  log.name = "journal";
  log.record_noun = "frame batches";
  log.on_write_failure = "those batches are windowed but a crash before their windows are safe would lose them";
  return log;
}

}  // namespace

IngestJournal::IngestJournal(IngestJournalOptions options,
                             std::function<std::chrono::steady_clock::time_point()> durable_before)
    : options_(std::move(options)),
      durable_before_(std::move(durable_before)),
      log_(log_options(options_)),
      next_sequence_(log_.highest_recovered_sequence() + 1) {}

std::vector<uplink::SpooledRecord> IngestJournal::take_recovered() {
  return log_.take_recovered();
}

void IngestJournal::track(std::uint64_t sequence, const DeviceStream& device, std::uint64_t chunks_after) {
  pending_.push_back(Entry{sequence, &device, chunks_after, {}});
}

void IngestJournal::replayed(std::uint64_t sequence, const DeviceStream& device, std::uint64_t chunks_after) {
  bump(counters_.replayed);
  track(sequence, device, chunks_after);
}

void IngestJournal::rejected(std::uint64_t sequence) {
  bump(counters_.replay_rejected);
  log_.ack(sequence);
}

void IngestJournal::append(const DecodedBatch& batch, const DeviceStream& device, std::uint64_t chunks_after) {
  const std::uint64_t sequence = next_sequence_++;
  const auto bytes = uplink::encode_frame_batch(std::string(batch.device_id), batch.first_seq, batch.first_time_ns,
                                                batch.sample_rate_hz, batch.channels, batch.samples);
  // Records dropped by max_bytes need no forgetting: acknowledging them later is a no-op.
  if (log_.append(sequence, bytes).spooled) track(sequence, device, chunks_after);
  log_.flush(std::chrono::steady_clock::now());
}

template <typename Safe>
void IngestJournal::forget_if(Safe safe) {
  std::uint64_t forgotten = 0;
  for (auto& entry : pending_) {
    if (!safe(entry)) continue;
    log_.ack(entry.sequence);
    entry.sequence = 0;  // sequences start at 1
    ++forgotten;
  }
  if (forgotten == 0) return;
  std::erase_if(pending_, [](const Entry& e) { return e.sequence == 0; });
  bump(counters_.forgotten, forgotten);
}

void IngestJournal::forget_safe(std::chrono::steady_clock::time_point now) {
  if (now - last_check_ < options_.check_interval) return;
  last_check_ = now;
  const auto durable_before = durable_before_();
  forget_if([&](Entry& entry) {
    if (entry.done == std::chrono::steady_clock::time_point{}) {
      if (entry.device->chunks_done.load(std::memory_order_acquire) < entry.chunks_after) return false;
      entry.done = now;
    }
    return entry.done + options_.retain <= durable_before;
  });
}

std::size_t IngestJournal::forget_flushed(std::chrono::steady_clock::time_point flushed) {
  if (durable_before_() >= flushed) {
    forget_if([](const Entry& entry) {
      return entry.device->chunks_done.load(std::memory_order_acquire) >= entry.chunks_after;
    });
  }
  return pending_.size();
}

}  // namespace sensorgate
