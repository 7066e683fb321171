#include "sensorgate/common/stage_metrics.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace sensorgate {

const std::array<double, LatencyHistogram::kBounds>& LatencyHistogram::upper_bounds_seconds() {
  // Literals, not computed: the `le` labels must read 5e-06, not 4.9999999999999996e-06.
  static constexpr std::array<double, kBounds> kBoundsSeconds{1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4,
                                                              5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1,
                                                              0.2,  0.5,  1,    2,    5,    10};
  return kBoundsSeconds;
}

void LatencyHistogram::record(std::chrono::nanoseconds duration) {
  // The same bounds in whole nanoseconds: bucket lookup without floating-point rounding.
  static constexpr std::array<std::int64_t, kBounds> kBoundsNs{
      1'000,       2'000,       5'000,         10'000,        20'000,        50'000,        100'000,    200'000,
      500'000,     1'000'000,   2'000'000,     5'000'000,     10'000'000,    20'000'000,    50'000'000, 100'000'000,
      200'000'000, 500'000'000, 1'000'000'000, 2'000'000'000, 5'000'000'000, 10'000'000'000};
  const auto ns = std::max<std::int64_t>(duration.count(), 0);
  const auto bucket =
      static_cast<std::size_t>(std::lower_bound(kBoundsNs.begin(), kBoundsNs.end(), ns) - kBoundsNs.begin());
  bump(counts_[bucket]);
  bump(sum_ns_, static_cast<std::uint64_t>(ns));
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot s;
  for (std::size_t i = 0; i < counts_.size(); ++i) s.counts[i] = counts_[i].load(std::memory_order_relaxed);
  // The total is the buckets' sum, so a snapshot taken mid-record stays consistent.
  for (const auto c : s.counts) s.count += c;
  s.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) * 1e-9;
  return s;
}

double LatencyHistogram::Snapshot::quantile(double q) const {
  if (count == 0) return 0;
  const auto& bounds = upper_bounds_seconds();
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(count);
  double seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const auto in_bucket = static_cast<double>(counts[i]);
    if (in_bucket > 0 && seen + in_bucket >= rank) {
      if (i == kBounds) return bounds.back();  // +Inf bucket: its lower bound is all we know
      const double lower = i == 0 ? 0 : bounds[i - 1];
      return lower + (bounds[i] - lower) * ((rank - seen) / in_bucket);
    }
    seen += in_bucket;
  }
  return bounds.back();
}

LatencyHistogram::Snapshot& LatencyHistogram::Snapshot::operator+=(const Snapshot& other) {
  for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
  count += other.count;
  sum_seconds += other.sum_seconds;
  return *this;
}

StageSnapshot& StageSnapshot::operator+=(const StageSnapshot& other) {
  batches += other.batches;
  items += other.items;
  io_operations += other.io_operations;
  io_bytes += other.io_bytes;
  run += other.run;
  queue_wait += other.queue_wait;
  compute_seconds += other.compute_seconds;
  transfer_seconds += other.transfer_seconds;
  spill_bytes += other.spill_bytes;
  for (const auto& drop : other.drops) {
    auto it = std::find_if(drops.begin(), drops.end(), [&](const auto& d) { return d.first == drop.first; });
    if (it == drops.end()) {
      drops.push_back(drop);
    } else {
      it->second += drop.second;
    }
  }
  return *this;
}

namespace {

nlohmann::json summary_json(const LatencyHistogram::Snapshot& h) {
  return {{"p50", h.quantile(0.5)},
          {"p99", h.quantile(0.99)},
          {"mean", h.mean()},
          {"sum", h.sum_seconds},
          {"count", h.count}};
}

}  // namespace

nlohmann::json to_json(const StageSnapshot& stage) {
  nlohmann::json le = nlohmann::json::array();
  for (const double b : LatencyHistogram::upper_bounds_seconds()) le.push_back(b);
  le.push_back("+Inf");
  nlohmann::json cumulative = nlohmann::json::array();
  std::uint64_t running = 0;
  for (const auto c : stage.run.counts) cumulative.push_back(running += c);
  nlohmann::json drops = nlohmann::json::object();
  for (const auto& [kind, value] : stage.drops) drops[kind] = value;
  return {{"name", stage.name},
          {"item_unit", stage.item_unit},
          {"batches", stage.batches},
          {"items", stage.items},
          {"run_seconds", summary_json(stage.run)},
          {"run_histogram", {{"le", le}, {"counts", cumulative}}},
          {"queue_wait_seconds", summary_json(stage.queue_wait)},
          {"scheduling_delay_seconds_total", stage.scheduling_delay_seconds()},
          {"compute_seconds_total", stage.compute_seconds},
          {"transfer_seconds_total", stage.transfer_seconds},
          {"io_operations", stage.io_operations},
          {"io_bytes", stage.io_bytes},
          {"drops", drops},
          {"spill_bytes", stage.spill_bytes}};
}

StageMetrics::StageMetrics(std::string name, std::string item_unit)
    : name_(std::move(name)), item_unit_(std::move(item_unit)) {}

void StageMetrics::record_batch(std::chrono::nanoseconds run, std::uint64_t items, std::chrono::nanoseconds transfer) {
  run_.record(run);
  bump(batches_);
  bump(items_, items);
  const auto run_ns = std::max<std::int64_t>(run.count(), 0);
  const auto transfer_ns = std::clamp<std::int64_t>(transfer.count(), 0, run_ns);
  bump(compute_ns_, static_cast<std::uint64_t>(run_ns - transfer_ns));
  bump(transfer_ns_, static_cast<std::uint64_t>(transfer_ns));
}

void StageMetrics::add_io(std::uint64_t operations, std::uint64_t bytes) {
  bump(io_operations_, operations);
  bump(io_bytes_, bytes);
}

StageSnapshot StageMetrics::snapshot() const {
  StageSnapshot s;
  s.name = name_;
  s.item_unit = item_unit_;
  s.batches = batches_.load(std::memory_order_relaxed);
  s.items = items_.load(std::memory_order_relaxed);
  s.io_operations = io_operations_.load(std::memory_order_relaxed);
  s.io_bytes = io_bytes_.load(std::memory_order_relaxed);
  s.run = run_.snapshot();
  s.queue_wait = queue_wait_.snapshot();
  s.compute_seconds = static_cast<double>(compute_ns_.load(std::memory_order_relaxed)) * 1e-9;
  s.transfer_seconds = static_cast<double>(transfer_ns_.load(std::memory_order_relaxed)) * 1e-9;
  return s;
}

std::vector<StageSnapshot> merge_stages(const std::vector<StageSnapshot>& stages) {
  std::vector<StageSnapshot> merged;
  for (const auto& stage : stages) {
    auto it = std::find_if(merged.begin(), merged.end(), [&](const auto& m) { return m.name == stage.name; });
    if (it == merged.end()) {
      merged.push_back(stage);
    } else {
      *it += stage;
    }
  }
  return merged;
}

}  // namespace sensorgate
