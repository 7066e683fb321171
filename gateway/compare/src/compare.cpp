// `sensorgate-gateway compare`: runs (backend x workers x window length) through the
// gateway's in-process hot path and measures each; see compare.hpp and docs/compare.md.
#include "sensorgate/compare/compare.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>

#include "sensorgate/common/environment.hpp"
#include "sensorgate/common/runtime.hpp"
#include "sensorgate/common/stage_metrics.hpp"
#include "sensorgate/gateway/device_registry.hpp"
#include "sensorgate/gateway/frame_batch_decoder.hpp"
#include "sensorgate/gateway/ingest_sink.hpp"
#include "sensorgate/gateway/shard_worker.hpp"
#include "sensorgate/kernels/block_stats.hpp"
#include "sensorgate/sim/progress_line.hpp"
#include "sensorgate/sim/recording.hpp"
#include "sensorgate/sim/signal_input.hpp"
#include "sensorgate/uplink/codec.hpp"
#include "sensorgate/uplink/records.hpp"
#include "sensorgate/uplink/uplink_sender.hpp"

namespace sensorgate::compare {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kNoGpu = "no usable CUDA GPU in this build or machine";
constexpr std::uint32_t kBatchFrames = 32;
/// Time of every device's first frame: a round time, so windows start on their grid.
constexpr std::int64_t kStartNs = 1'000'000'000'000'000'000;

/// The input every device plays.
sim::SignalInput read_input(const CompareOptions& options) {
  sim::ReadOptions read;
  read.sample_rate_hz = options.file_rate_hz;
  read.channel_spec = options.channels;
  auto input = sim::read_signal_input(options.input, read, 1);
  if (input.frames() < kBatchFrames) throw std::runtime_error(options.input + ": shorter than one batch of 32 frames");
  return input;
}

/// The input encoded as every device's FrameBatch payloads, device-interleaved as they
/// would arrive, prepared once before any timing.
struct Stream {
  std::vector<std::string> ids;
  std::vector<std::vector<std::uint8_t>> payloads;
  /// Per device, per batch (ascending): its event-time end (first frame + frames periods)
  /// and its index in `payloads`.
  std::vector<std::vector<std::int64_t>> batch_end_ns;
  std::vector<std::vector<std::size_t>> batch_payload;
  std::uint64_t samples = 0;
  std::uint64_t frames_per_device = 0;
  double period_ns = 0;
};

Stream prepare(const sim::SignalInput& input, std::size_t devices) {
  Stream s;
  s.period_ns = 1e9 / input.rate_hz;
  s.frames_per_device = input.frames();
  s.samples = static_cast<std::uint64_t>(input.samples.size()) * devices;
  s.batch_end_ns.resize(devices);
  s.batch_payload.resize(devices);
  for (std::size_t d = 0; d < devices; ++d) s.ids.push_back(fmt::format("cmp-{}", d));
  const auto time_of = [&](std::uint64_t seq) {
    return kStartNs + std::llround(static_cast<double>(seq) * s.period_ns);
  };
  for (std::size_t first = 0; first < input.frames(); first += kBatchFrames) {
    const std::size_t frames = std::min<std::size_t>(kBatchFrames, input.frames() - first);
    const std::span<const float> samples(input.samples.data() + first * input.channels, frames * input.channels);
    for (std::size_t d = 0; d < devices; ++d) {
      s.batch_end_ns[d].push_back(time_of(first + frames));
      s.batch_payload[d].push_back(s.payloads.size());
      s.payloads.push_back(
          uplink::encode_frame_batch(s.ids[d], first, time_of(first), input.rate_hz, input.channels, samples));
    }
  }
  return s;
}

/// One combination.
struct RunSpec {
  std::string name;
  std::string backend;
  std::size_t workers = 1;
  WindowSpec windows;
};

struct Drops {
  std::uint64_t ring_overflow_frames = 0;
  std::uint64_t late_frames = 0;
  std::uint64_t missing_frames = 0;
  std::uint64_t gpu_failures = 0;
  std::uint64_t windows_dropped = 0;

  Drops& operator+=(const Drops& o) {
    ring_overflow_frames += o.ring_overflow_frames;
    late_frames += o.late_frames;
    missing_frames += o.missing_frames;
    gpu_failures += o.gpu_failures;
    windows_dropped += o.windows_dropped;
    return *this;
  }
  [[nodiscard]] nlohmann::json json() const {
    return {{"ring_overflow_frames", ring_overflow_frames},
            {"late_frames", late_frames},
            {"missing_frames", missing_frames},
            {"gpu_failures", gpu_failures},
            {"windows_dropped", windows_dropped}};
  }
};

/// What one repetition measured.
struct Repetition {
  double wall_seconds = 0;
  std::uint64_t windows = 0;
  LatencyHistogram::Snapshot latency;
  double latency_max_seconds = 0;
  std::vector<StageSnapshot> stages;
  Drops drops;
  std::string backend_used;
};

/// A window summary as the drain thread saw it.
struct Drained {
  std::uint32_t device = 0;
  std::int64_t window_end_ns = 0;
  std::int64_t drained_ns = 0;
};

std::int64_t steady_ns() {
  return Clock::now().time_since_epoch().count();
}

/// Keeps the first exception of several threads; the pipeline is told to give up.
class FirstError {
 public:
  void set(std::exception_ptr error) {
    const std::scoped_lock lock(mutex_);
    if (!error_) error_ = std::move(error);
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
};

/// One fresh pipeline: a producer thread (decode + IngestSink, block policy), the workers,
/// a drain thread. `pushed` counts the payloads pushed, for the progress line.
Repetition run_once(const Stream& stream, const RunSpec& run, const GatewayConfig& config,
                    std::atomic<std::size_t>& pushed) {
  const std::size_t devices = stream.ids.size();
  DeviceRegistry registry(config.ring_capacity_chunks, devices);
  std::atomic<bool> ingest_stopping{false};
  IngestSink sink(registry, FullPolicy::kBlock, ingest_stopping, "compare");
  WorkerOptions worker_options = config.worker;
  worker_options.windows = run.windows;
  worker_options.anomaly.backend = run.backend;
  std::vector<std::unique_ptr<uplink::UplinkRing>> rings;
  std::vector<std::unique_ptr<ShardWorker>> workers;
  for (std::size_t i = 0; i < run.workers; ++i) {
    rings.push_back(std::make_unique<uplink::UplinkRing>(config.uplink_ring_capacity));
    workers.push_back(std::make_unique<ShardWorker>(i, run.workers, registry, worker_options,
                                                    kernels::make_failover_backend(run.backend, config.failover),
                                                    *rings.back()));
  }
  std::unordered_map<std::string, std::uint32_t> device_index;
  for (std::size_t d = 0; d < devices; ++d) device_index.emplace(stream.ids[d], static_cast<std::uint32_t>(d));

  std::vector<std::int64_t> pushed_ns(stream.payloads.size(), 0);  // steady clock when push() returned
  std::vector<Drained> drained;
  drained.reserve(devices * 64);
  std::atomic<bool> workers_stop{false};
  const std::atomic<std::int64_t> workers_deadline{std::numeric_limits<std::int64_t>::max()};
  std::atomic<std::size_t> workers_left{run.workers};
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::uint64_t windows = 0;
  FirstError error;

  std::vector<std::thread> threads;
  threads.reserve(run.workers + 2);
  for (auto& worker : workers) {
    threads.emplace_back([&, w = worker.get()] {
      try {
        w->run(workers_stop, workers_deadline);
      } catch (...) {
        error.set(std::current_exception());
        ingest_stopping.store(true);  // a producer waiting for this worker's rings gives up
      }
      workers_left.fetch_sub(1, std::memory_order_acq_rel);
    });
  }
  threads.emplace_back([&] {  // drain: the uplink's place
    std::size_t idle_passes = 0;
    for (;;) {
      const bool finished = workers_left.load(std::memory_order_acquire) == 0;
      std::size_t got = 0;
      for (auto& ring : rings) {
        auto records = ring->acquire_read();
        if (records.empty()) continue;
        const std::int64_t now = steady_ns();
        for (const auto& record : records) {
          const auto* summary = std::get_if<uplink::WindowSummaryRecord>(&record);
          if (summary == nullptr) continue;
          ++windows;
          const auto it = device_index.find(summary->device_id);
          if (summary->revision == 0 && it != device_index.end()) {
            drained.push_back({it->second, summary->window_end_ns, now});
          }
        }
        got += records.size();
        ring->release_read(records.size());
      }
      if (got > 0) {
        idle_passes = 0;
      } else if (finished) {
        break;
      } else if (++idle_passes < 64) {
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    }
    end_ns = steady_ns();
  });
  threads.emplace_back([&] {  // producer: the transport's thread
    try {
      FrameBatchDecoder decoder;
      DecodedBatch batch;
      start_ns = steady_ns();
      for (std::size_t i = 0; i < stream.payloads.size(); ++i) {
        const auto before = Clock::now();
        if (decoder.decode(stream.payloads[i], batch) != DecodeError::kNone) {
          throw std::logic_error("compare: a prepared payload failed to decode");
        }
        sink.push(batch, Clock::now() - before, stream.payloads[i].size());
        pushed_ns[i] = steady_ns();
        pushed.store(i + 1, std::memory_order_relaxed);
      }
    } catch (...) {
      error.set(std::current_exception());
    }
    workers_stop.store(true, std::memory_order_release);  // they drain the rings and flush every window
  });
  for (auto& t : threads) t.join();
  error.rethrow();

  Repetition r;
  r.wall_seconds = static_cast<double>(end_ns - start_ns) * 1e-9;
  r.windows = windows;
  r.backend_used = std::string(workers.front()->backend_name());
  // Window latency: drained minus pushed, for the batch holding the window's last frame
  // (the first batch ending at or after the window's end; the last one for the flushed
  // final window).
  LatencyHistogram latency;
  for (const auto& d : drained) {
    const auto& ends = stream.batch_end_ns[d.device];
    auto k = static_cast<std::size_t>(
        std::lower_bound(ends.begin(), ends.end(), d.window_end_ns - std::llround(stream.period_ns / 2)) -
        ends.begin());
    k = std::min(k, ends.size() - 1);
    const std::int64_t pushed_at = pushed_ns[stream.batch_payload[d.device][k]];
    if (pushed_at == 0) continue;
    const auto ns = std::max<std::int64_t>(0, d.drained_ns - pushed_at);
    latency.record(std::chrono::nanoseconds(ns));
    r.latency_max_seconds = std::max(r.latency_max_seconds, static_cast<double>(ns) * 1e-9);
  }
  r.latency = latency.snapshot();

  std::vector<StageSnapshot> stages{sink.stage_snapshot()};
  for (const auto& worker : workers) {
    for (auto& stage : worker->stage_snapshots()) stages.push_back(std::move(stage));
    const auto& c = worker->counters();
    r.drops.ring_overflow_frames += c.frames_dropped_oldest.load();
    r.drops.late_frames += c.late_frames.load();
    const auto gaps = c.gap_frames.load();
    const auto reordered = c.reordered.load();
    r.drops.missing_frames += gaps > reordered ? gaps - reordered : 0;
    r.drops.gpu_failures += c.stats_failures.load() + c.scoring_failures.load();
    r.drops.windows_dropped += c.windows_dropped_on_stop.load();
  }
  r.stages = merge_stages(stages);
  return r;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2.0;
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::array<char, 32> text{};
  const std::size_t n = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return {text.data(), n};
}

nlohmann::json histogram_json(const LatencyHistogram::Snapshot& h) {
  nlohmann::json le = nlohmann::json::array();
  for (const double b : LatencyHistogram::upper_bounds_seconds()) le.push_back(b);
  le.push_back("+Inf");
  nlohmann::json counts = nlohmann::json::array();
  for (const auto c : h.counts) counts.push_back(c);
  return {{"le", le}, {"counts", counts}};
}

/// Measures one combination `repeat` times (fresh pipeline each) and describes it.
nlohmann::json measure(const Stream& stream, const sim::SignalInput& input, const RunSpec& run,
                       const CompareOptions& options) {
  std::unique_ptr<sim::ProgressLine> progress;
  if (options.progress && isatty(fileno(stderr)) != 0) {
    fmt::print(stderr, "{}\n", run.name);
    progress = std::make_unique<sim::ProgressLine>(stream.frames_per_device * options.repeat, input.rate_hz, stderr);
  }
  std::vector<Repetition> reps;
  const auto started = Clock::now();
  for (std::size_t rep = 0; rep < options.repeat; ++rep) {
    std::atomic<std::size_t> pushed{0};
    const auto frames_done = [&] {
      return rep * stream.frames_per_device +
             pushed.load(std::memory_order_relaxed) * stream.frames_per_device / stream.payloads.size();
    };
    // The pipeline logs each new device; at info level that is a line per device and repetition.
    const auto level = spdlog::get_level();
    spdlog::set_level(std::max(level, spdlog::level::warn));
    std::optional<Repetition> result;
    std::exception_ptr failed;
    std::atomic<bool> runner_done{false};
    std::thread runner([&] {
      try {
        result = run_once(stream, run, options.config, pushed);
      } catch (...) {
        failed = std::current_exception();
      }
      runner_done.store(true);
    });
    if (progress) {
      // The runner's threads keep their own time; this one only redraws the line.
      while (pushed.load(std::memory_order_relaxed) < stream.payloads.size() && !runner_done.load()) {
        progress->update(frames_done(), Clock::now() - started);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    runner.join();
    spdlog::set_level(level);
    if (failed) std::rethrow_exception(failed);
    reps.push_back(std::move(*result));
  }
  if (progress) progress->finish(stream.frames_per_device * options.repeat, Clock::now() - started);

  nlohmann::json wall = nlohmann::json::array();
  nlohmann::json throughput_runs = nlohmann::json::array();
  std::vector<double> throughputs;
  LatencyHistogram::Snapshot latency;
  double latency_max = 0;
  std::vector<StageSnapshot> stages;
  Drops drops;
  std::uint64_t windows = reps.front().windows;
  for (const auto& r : reps) {
    wall.push_back(r.wall_seconds);
    const double throughput = r.wall_seconds > 0 ? static_cast<double>(stream.samples) / r.wall_seconds : 0.0;
    throughputs.push_back(throughput);
    throughput_runs.push_back(throughput);
    latency += r.latency;
    latency_max = std::max(latency_max, r.latency_max_seconds);
    stages.insert(stages.end(), r.stages.begin(), r.stages.end());
    drops += r.drops;
    if (r.windows != windows) {
      spdlog::warn("compare: {}: repetitions closed different numbers of windows ({} and {})", run.name, windows,
                   r.windows);
      windows = std::min(windows, r.windows);
    }
  }
  nlohmann::json stage_list = nlohmann::json::array();
  for (const auto& stage : merge_stages(stages)) stage_list.push_back(to_json(stage));
  const double throughput = median(throughputs);
  spdlog::info("compare: {}: {:.2f} Msamples/s (median of {}), window latency p50 {:.2f} ms p99 {:.2f} ms", run.name,
               throughput / 1e6, reps.size(), latency.quantile(0.5) * 1e3, latency.quantile(0.99) * 1e3);
  return {{"name", run.name},
          {"backend", run.backend},
          {"backend_used", reps.back().backend_used},
          {"workers", run.workers},
          {"window_ms", run.windows.length_ns / 1'000'000},
          {"devices", stream.ids.size()},
          {"channels", input.channels},
          {"rate_hz", input.rate_hz},
          {"input", options.input},
          {"repeats", reps.size()},
          {"samples", stream.samples},
          {"wall_seconds", wall},
          {"throughput_samples_per_s", throughput},
          {"throughput_runs", throughput_runs},
          {"windows", windows},
          {"latency_seconds",
           // Quantiles interpolate inside histogram buckets; the maximum is exact, so cap them by it.
           {{"p50", std::min(latency.quantile(0.5), latency_max)},
            {"p90", std::min(latency.quantile(0.9), latency_max)},
            {"p99", std::min(latency.quantile(0.99), latency_max)},
            {"max", latency_max}}},
          {"latency_histogram", histogram_json(latency)},
          {"stages", stage_list},
          {"drops", drops.json()}};
}

}  // namespace

nlohmann::json run_compare(const CompareOptions& options) {
  if (options.devices == 0) throw std::runtime_error("compare: --devices must be at least 1");
  if (options.repeat == 0) throw std::runtime_error("compare: --repeat must be at least 1");
  if (options.backends.empty() || options.workers.empty()) {
    throw std::runtime_error("compare: --backends and --workers need at least one value");
  }
  std::vector<std::int64_t> window_ms = options.window_ms;
  if (window_ms.empty()) window_ms.push_back(options.config.worker.windows.length_ns / 1'000'000);
  std::vector<RunSpec> runs;
  for (const auto& backend : options.backends) {
    for (const std::size_t workers : options.workers) {
      for (const std::int64_t ms : window_ms) {
        if (workers == 0 || ms <= 0) throw std::runtime_error("compare: workers and window lengths must be positive");
        RunSpec run;
        run.backend = backend;
        run.workers = workers;
        run.windows = options.config.worker.windows;
        const std::int64_t length_ns = ms * 1'000'000;
        // Tumbling windows stay tumbling; a slide longer than the new length becomes it.
        if (run.windows.slide_ns == run.windows.length_ns || run.windows.slide_ns > length_ns) {
          run.windows.slide_ns = length_ns;
        }
        run.windows.length_ns = length_ns;
        run.name = fmt::format("{} w{} win{}", backend, workers, ms);
        runs.push_back(std::move(run));
      }
    }
  }

  const sim::SignalInput input = read_input(options);
  const Stream stream = prepare(input, options.devices);
  spdlog::info("compare: {} ({} channels at {} Hz, {} frames) played by {} devices; {} runs x {} repetitions",
               options.input, input.channels, input.rate_hz, input.frames(), options.devices, runs.size(),
               options.repeat);

  Environment environment = describe_environment();
  if (auto gpu = kernels::describe_gpu()) {
    environment.gpu_model = gpu->model;
    environment.gpu_driver = gpu->driver;
  }
  const bool cuda = kernels::cuda_backend_available();
  nlohmann::json run_list = nlohmann::json::array();
  for (const auto& run : runs) {
    if (run.backend == "cuda" && !cuda) {
      spdlog::warn("compare: {}: skipped, {}", run.name, kNoGpu);
      run_list.push_back({{"name", run.name}, {"skipped", kNoGpu}});
      continue;
    }
    run_list.push_back(measure(stream, input, run, options));
  }
  nlohmann::json machine = {{"label", options.label.empty() ? host_name() : options.label},
                            {"environment", to_json(environment)},
                            {"runs", run_list}};
  return {{"schema", kSchema}, {"created", utc_now()}, {"machines", nlohmann::json::array({machine})}};
}

nlohmann::json merge_reports(const std::vector<std::filesystem::path>& files) {
  if (files.empty()) throw std::runtime_error("compare merge: no report files given");
  nlohmann::json machines = nlohmann::json::array();
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("compare merge: cannot read " + file.string());
    nlohmann::json report;
    try {
      report = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(fmt::format("compare merge: {} is not valid JSON: {}", file.string(), e.what()));
    }
    if (!report.is_object() || !report.contains("schema") || report["schema"] != kSchema ||
        !report.contains("machines") || !report["machines"].is_array()) {
      throw std::runtime_error(
          fmt::format(R"(compare merge: {} is not a compare report (expected "schema": "{}" and a "machines" array))",
                      file.string(), kSchema));
    }
    for (auto& machine : report["machines"]) machines.push_back(std::move(machine));
  }
  return {{"schema", kSchema}, {"created", utc_now()}, {"machines", machines}};
}

}  // namespace sensorgate::compare
