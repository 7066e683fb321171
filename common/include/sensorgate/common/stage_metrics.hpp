#pragma once
// StageMetrics: the six comparison metrics of one pipeline stage (docs/observability.md),
// cheap enough to stay on in production. Each instance has one writer, the stage's own
// thread (a worker, a transport, the uplink), so a recording is a few relaxed loads and
// stores: no locked instruction, no lock, no contention on the hot path. Readers (the HTTP
// server, compare) take snapshots from any thread.
//
//   run time per batch      LatencyHistogram `run` (p50/p99 from fixed buckets)
//   hand-off wait           LatencyHistogram `queue_wait` (time an item waited before the stage)
//   I/O                     io_operations, io_bytes
//   scheduling vs compute   scheduling delay (= queue wait), compute (= run - transfer),
//     vs transfer           transfer (host<->device copies, CUDA)
//   spill and drops         filled in by the stage's owner from its counters (StageSnapshot::drops)
//   environment             sensorgate/common/environment.hpp

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sensorgate/common/counter.hpp"

namespace sensorgate {

/// Durations in fixed, log-spaced buckets (1-2-5 per decade, 1 µs to 10 s, then +Inf): the
/// same bounds everywhere, so histograms of several workers or machines add up, and
/// Prometheus can aggregate them.
class LatencyHistogram {
 public:
  static constexpr std::size_t kBounds = 22;
  static const std::array<double, kBounds>& upper_bounds_seconds();

  struct Snapshot {
    std::array<std::uint64_t, kBounds + 1> counts{};  ///< per bucket (not cumulative); the last is +Inf
    std::uint64_t count = 0;
    double sum_seconds = 0;

    /// The q-quantile (0..1), interpolated linearly inside its bucket; 0 when empty.
    [[nodiscard]] double quantile(double q) const;
    [[nodiscard]] double mean() const { return count == 0 ? 0 : sum_seconds / static_cast<double>(count); }
    Snapshot& operator+=(const Snapshot& other);
  };

  /// One writer thread per histogram (see counter.hpp).
  void record(std::chrono::nanoseconds duration);
  [[nodiscard]] Snapshot snapshot() const;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds + 1> counts_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

/// One stage at one moment; the owner adds its drop counters and spill.
struct StageSnapshot {
  std::string name;       ///< ingest_decode, ring_handoff, window_stats, feature_score, uplink, spool, store
  std::string item_unit;  ///< what `items` counts: frames, chunks, windows, messages, records, rows
  std::uint64_t batches = 0;
  std::uint64_t items = 0;
  std::uint64_t io_operations = 0;
  std::uint64_t io_bytes = 0;
  LatencyHistogram::Snapshot run;
  LatencyHistogram::Snapshot queue_wait;
  double compute_seconds = 0;
  double transfer_seconds = 0;
  std::vector<std::pair<std::string, std::uint64_t>> drops;  ///< e.g. {"late_frames", 3}
  std::uint64_t spill_bytes = 0;                             ///< bytes held on disk (spool)

  [[nodiscard]] double scheduling_delay_seconds() const { return queue_wait.sum_seconds; }
  /// Adds another instance of the same stage (another worker); drops add up by name.
  StageSnapshot& operator+=(const StageSnapshot& other);
};

/// The JSON object docs/http-api.md calls a Stage.
nlohmann::json to_json(const StageSnapshot& stage);

class StageMetrics {
 public:
  using Clock = std::chrono::steady_clock;

  StageMetrics(std::string name, std::string item_unit);

  /// One batch: its wall time and the items it carried. `transfer` is the part of `run`
  /// spent copying between host and device; the rest counts as compute.
  void record_batch(std::chrono::nanoseconds run, std::uint64_t items,
                    std::chrono::nanoseconds transfer = std::chrono::nanoseconds::zero());
  /// Items handed over without a batch of their own (the ring hand-off counts chunks).
  void add_items(std::uint64_t items) { bump(items_, items); }
  /// How long an item waited to be picked up by this stage (scheduling delay).
  void record_queue_wait(std::chrono::nanoseconds wait) { queue_wait_.record(wait); }
  void add_io(std::uint64_t operations, std::uint64_t bytes);

  [[nodiscard]] StageSnapshot snapshot() const;
  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string item_unit_;
  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> items_{0};
  std::atomic<std::uint64_t> io_operations_{0};
  std::atomic<std::uint64_t> io_bytes_{0};
  std::atomic<std::uint64_t> compute_ns_{0};
  std::atomic<std::uint64_t> transfer_ns_{0};
  LatencyHistogram run_;
  LatencyHistogram queue_wait_;
};

/// Times a scope into a stage: `StageTimer t(stage); ...; t.finish(items);`.
class StageTimer {
 public:
  explicit StageTimer(StageMetrics& stage) : stage_(stage), start_(StageMetrics::Clock::now()) {}
  void finish(std::uint64_t items, std::chrono::nanoseconds transfer = std::chrono::nanoseconds::zero()) {
    stage_.record_batch(StageMetrics::Clock::now() - start_, items, transfer);
  }

 private:
  StageMetrics& stage_;
  StageMetrics::Clock::time_point start_;
};

/// Merges snapshots of the same stage name (several workers, several sources), keeping
/// the order in which names first appear.
std::vector<StageSnapshot> merge_stages(const std::vector<StageSnapshot>& stages);

}  // namespace sensorgate
