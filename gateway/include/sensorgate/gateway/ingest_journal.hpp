#pragma once
// IngestJournal: the batches one ingest source accepted, kept on disk until the summaries
// of their windows are safe, so that a gateway killed mid-window (kill -9, the OOM killer)
// loses nothing the broker has already forgotten: the next start replays them.
//
// Why it is needed: Paho acknowledges a QoS 1 message to the broker as it arrives, and a
// window's frames live only in the worker's memory until the window closes. Without the
// journal a crash lost the open window of every device, and any summary the uplink held
// only in memory (its spool's disk full, or no spool).
//
// A journal is a DiskSpool (the same segment files, CRCs and recovery) of FrameBatch
// buffers, one record per accepted batch. A record is forgotten (acknowledged in the
// spool, which deletes a segment once all its records are) when
//   1. the worker has taken every chunk of the batch and pushed out what those chunks
//      closed (DeviceStream::chunks_done reaches the count written up to the batch): at t1;
//   2. and the uplink holds everything it took before t1 + retain as safe
//      (UplinkSender::durable_before()), where `retain` covers the rest of the batch's
//      window: window length + allowed lateness + idle timeout + a margin (GatewayConfig).
// So a batch stays while a window it feeds may be open or its summary only in memory. A
// device streaming slower than real time can keep a window open longer than `retain`;
// only a crash in that time would lose that window.
//
// Replay: at start, before the transports connect, every intact record goes through the
// source's IngestSink again. Windows already stored come out again (the first one may be
// partial): the collector keeps the first copy of a (device, channel, window), so they
// change nothing.
//
// Not covered: messages Paho has acknowledged but not yet handed to the gateway (its
// receive queue) at the moment of a crash.
//
// Single-threaded: the source's thread owns it (the starting thread while it replays).

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "sensorgate/gateway/device_registry.hpp"
#include "sensorgate/gateway/frame_batch_decoder.hpp"
#include "sensorgate/uplink/disk_spool.hpp"

namespace sensorgate {

/// The journal's segment defaults: 4 MB segments, at most 512 MB, no fsync ("never"
/// survives a process crash, the page cache being the kernel's, not a power cut).
inline uplink::DiskSpoolOptions default_journal_log() {
  uplink::DiskSpoolOptions log;
  log.segment_bytes = 4ULL << 20U;
  log.max_bytes = 512ULL << 20U;
  log.fsync = uplink::FsyncPolicy::kNever;
  return log;
}

struct IngestJournalOptions {
  /// The segment files: directory, sizes, fsync policy. Their log lines name the journal.
  uplink::DiskSpoolOptions log = default_journal_log();
  /// How long after the worker is done with a batch its windows may still be open.
  std::chrono::milliseconds retain{8000};
  /// Most often the records are checked for being safe to forget.
  std::chrono::milliseconds check_interval{100};
};

/// Written by the owner thread, readable from any thread.
struct IngestJournalCounters {
  std::atomic<std::uint64_t> replayed{0};         ///< recovered batches pushed again at start
  std::atomic<std::uint64_t> replay_rejected{0};  ///< recovered records that did not decode
  std::atomic<std::uint64_t> forgotten{0};        ///< batches whose windows became safe
};

class IngestJournal {
 public:
  /// `durable_before` is UplinkSender::durable_before (called on the owner thread). Creates
  /// the directory and reads back its segments; throws std::runtime_error naming the path
  /// when it cannot.
  IngestJournal(IngestJournalOptions options, std::function<std::chrono::steady_clock::time_point()> durable_before);

  /// The batches found at open, oldest first (the second call returns none). Each must be
  /// passed to replayed() or rejected().
  [[nodiscard]] std::vector<uplink::SpooledRecord> take_recovered();
  /// A recovered record pushed again: kept until safe, like a new batch.
  void replayed(std::uint64_t sequence, const DeviceStream& device, std::uint64_t chunks_after);
  /// A recovered record that is not a valid batch (or was refused): forgotten, counted.
  void rejected(std::uint64_t sequence);

  /// Appends an accepted batch. `chunks_after` is device.chunks_written once the batch is
  /// in the ring. A write error (disk full) is counted, not thrown: the batch then has no
  /// copy on disk.
  void append(const DecodedBatch& batch, const DeviceStream& device, std::uint64_t chunks_after);
  /// Forgets the batches that became safe (see above); does nothing until check_interval
  /// has passed since the last check.
  void forget_safe(std::chrono::steady_clock::time_point now);

  /// At a clean stop: the workers flushed every window at `flushed` (and so are done with
  /// every chunk they took); once the uplink holds everything it took by then as safe,
  /// the batches the workers were done with are forgotten, so the next start replays only
  /// frames given up at shutdown. Returns how many batches stay.
  std::size_t forget_flushed(std::chrono::steady_clock::time_point flushed);

  [[nodiscard]] const IngestJournalCounters& counters() const { return counters_; }
  /// The segment files' counters: appended, recovered, bytes, pending, write failures,
  /// records dropped by max_bytes, corrupt records.
  [[nodiscard]] const uplink::DiskSpoolCounters& log_counters() const { return log_.counters(); }

 private:
  struct Entry {
    std::uint64_t sequence = 0;
    const DeviceStream* device = nullptr;
    std::uint64_t chunks_after = 0;
    std::chrono::steady_clock::time_point done{};  ///< epoch: the worker is not done yet
  };
  void track(std::uint64_t sequence, const DeviceStream& device, std::uint64_t chunks_after);
  /// Forgets the entries `safe` says may go.
  template <typename Safe>
  void forget_if(Safe safe);

  IngestJournalOptions options_;
  std::function<std::chrono::steady_clock::time_point()> durable_before_;
  uplink::DiskSpool log_;
  std::uint64_t next_sequence_ = 1;
  std::deque<Entry> pending_;  ///< sequence order
  std::chrono::steady_clock::time_point last_check_{};
  IngestJournalCounters counters_;
};

}  // namespace sensorgate
