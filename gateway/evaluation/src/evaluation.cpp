#include "sensorgate/evaluation/evaluation.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <variant>

#include "sensorgate/gateway/device_registry.hpp"
#include "sensorgate/gateway/shard_worker.hpp"
#include "sensorgate/kernels/block_stats.hpp"
#include "sensorgate/sim/anomaly_injector.hpp"
#include "sensorgate/sim/label_writer.hpp"
#include "sensorgate/sim/recording.hpp"
#include "sensorgate/sim/signal_input.hpp"
#include "sensorgate/sim/synthetic_eeg.hpp"

namespace sensorgate::evaluation {
namespace {

constexpr std::string_view kDeviceId = "eval";
/// T0, where the inputs start: a round time far from 0, so the reference fits before it.
constexpr std::int64_t kInputStartNs = 1'000'000'000'000'000'000;

/// Frames of one or more recordings played back to back.
struct Stream {
  std::uint16_t channels = 0;
  double rate_hz = 0;
  std::vector<float> samples;  ///< frame-major
  [[nodiscard]] std::size_t frames() const { return channels == 0 ? 0 : samples.size() / channels; }
};

/// Appends `spec` to `stream`; synthetic inputs also append their anomalies (frames
/// relative to the stream start) to `injected`.
void append(Stream& stream, const std::string& spec, bool reference, const EvaluateOptions& options,
            std::vector<sim::InjectedAnomaly>& injected) {
  sim::ReadOptions read;
  read.sample_rate_hz = options.file_rate_hz;
  read.channel_spec = options.channels;
  // Reference and input get different seeds: the reference must not be the input's twin.
  auto input = sim::read_signal_input(spec, read, options.seed + (reference ? 1000 : 0));
  const std::uint16_t channels = input.channels;
  const double rate = input.rate_hz;
  auto& samples = input.samples;
  if (sim::is_synthetic_spec(spec)) {
    if (!reference) {
      sim::AnomalyOptions anomalies;
      anomalies.rate_per_hour = options.anomaly_rate_per_hour;
      const std::size_t offset = stream.frames();
      sim::AnomalyInjector injector(anomalies, options.seed, 0, channels, rate, [&](const sim::InjectedAnomaly& a) {
        sim::InjectedAnomaly shifted = a;
        shifted.start_frame += offset;
        shifted.end_frame += offset;
        injected.push_back(std::move(shifted));
      });
      injector.apply(samples, 0);
    }
  }
  if (stream.channels == 0) {
    stream.channels = channels;
    stream.rate_hz = rate;
  } else if (channels != stream.channels || rate != stream.rate_hz) {
    throw std::runtime_error(fmt::format("{}: {} channels at {} Hz, but the stream so far has {} at {} Hz", spec,
                                         channels, rate, stream.channels, stream.rate_hz));
  }
  stream.samples.insert(stream.samples.end(), samples.begin(), samples.end());
}

/// What the worker reports of one input window.
struct WindowResult {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  float score = 0;
  std::vector<float> features;
  bool reference = false;
};

struct EventResult {
  uplink::AnomalyEventRecord last;   ///< the latest report (final when !ongoing)
  std::int64_t first_report_ns = 0;  ///< end of the window at which it was first reported
};

/// Feeds frames [first, last) of `stream` as sequence numbers first + offset ..., chunk by chunk.
class Feeder {
 public:
  Feeder(DeviceStream& device, ShardWorker& worker, uplink::UplinkRing& output,
         std::map<std::int64_t, EventResult>& events)
      : device_(device), worker_(worker), output_(output), events_(events) {}

  void feed(const Stream& stream, std::size_t first_frame, std::size_t end_frame, std::uint64_t first_seq,
            std::int64_t first_seq_time_ns) {
    const std::uint32_t per_chunk = FrameChunk::kCapacity / stream.channels;
    for (std::size_t f = first_frame; f < end_frame;) {
      auto slots = device_.ring.acquire_write();
      if (slots.empty()) {
        step(false);
        continue;
      }
      const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(per_chunk, end_frame - f));
      FrameChunk& chunk = slots[0];
      chunk.first_seq = first_seq + (f - first_frame);
      chunk.first_time_ns =
          first_seq_time_ns + std::llround(static_cast<double>(chunk.first_seq - first_seq) * 1e9 / stream.rate_hz);
      chunk.channels = stream.channels;
      chunk.frames = n;
      std::copy_n(stream.samples.begin() + static_cast<std::ptrdiff_t>(f * stream.channels),
                  static_cast<std::size_t>(n) * stream.channels, chunk.samples.begin());
      device_.ring.commit_write(1);
      f += n;
    }
  }

  /// One worker tick, then the events it produced (windows arrive through the tap).
  std::size_t step(bool flush_all) {
    const std::size_t chunks = worker_.step(flush_all);
    for (;;) {
      auto records = output_.acquire_read();
      if (records.empty()) break;
      for (auto& record : records) {
        if (const auto* event = std::get_if<uplink::AnomalyEventRecord>(&record)) {
          auto [it, first] = events_.try_emplace(event->start_ns);
          if (first) it->second.first_report_ns = event->end_ns;
          if (it->second.last.ongoing || first) it->second.last = *event;
        }
      }
      output_.release_read(records.size());
    }
    return chunks;
  }

 private:
  DeviceStream& device_;
  ShardWorker& worker_;
  uplink::UplinkRing& output_;
  std::map<std::int64_t, EventResult>& events_;
};

bool overlaps(std::int64_t a0, std::int64_t a1, std::int64_t b0, std::int64_t b1) {
  return a0 < b1 && b0 < a1;
}

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2.0;
}

std::ofstream open_out(const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw std::runtime_error("cannot create " + path.string());
  return out;
}

}  // namespace

std::vector<LabelInterval> read_labels(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read labels file " + path.string());
  std::vector<LabelInterval> labels;
  std::string line;
  std::size_t line_no = 0;
  const auto fail = [&](const std::string& why) {
    throw std::runtime_error(fmt::format("{}:{}: {}", path.string(), line_no, why));
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1) {
      if (!line.starts_with("device_id,type,start_ns,end_ns")) {
        fail("expected the header device_id,type,start_ns,end_ns,channels");
      }
      continue;
    }
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string> fields;
    std::size_t pos = 0;
    for (;;) {
      const std::size_t comma = line.find(',', pos);
      fields.push_back(line.substr(pos, comma - pos));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    if (fields.size() < 4) fail("expected at least 4 fields, got " + std::to_string(fields.size()));
    LabelInterval label;
    label.type = fields[1].empty() ? "anomaly" : fields[1];
    try {
      std::size_t used_start = 0;
      std::size_t used_end = 0;
      label.start_ns = std::stoll(fields[2], &used_start);
      label.end_ns = std::stoll(fields[3], &used_end);
      if (used_start != fields[2].size() || used_end != fields[3].size()) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      fail("start_ns and end_ns must be integers");
    }
    if (label.end_ns <= label.start_ns) fail("end_ns must be greater than start_ns");
    labels.push_back(std::move(label));
  }
  return labels;
}

std::optional<double> roc_auc(const std::vector<double>& scores, const std::vector<int>& labels) {
  std::vector<std::size_t> order(scores.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  double positive_rank_sum = 0;
  std::size_t positives = 0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j) + 1.0) / 2.0;  // 1-based average rank
    for (std::size_t t = i; t < j; ++t) {
      if (labels[order[t]] != 0) {
        positive_rank_sum += rank;
        ++positives;
      }
    }
    i = j;
  }
  const std::size_t negatives = scores.size() - positives;
  if (positives == 0 || negatives == 0) return std::nullopt;
  const auto p = static_cast<double>(positives);
  return (positive_rank_sum - p * (p + 1.0) / 2.0) / (p * static_cast<double>(negatives));
}

EvaluationSummary run_evaluation(const EvaluateOptions& options) {
  if (options.inputs.empty()) throw std::runtime_error("evaluate: at least one --input is needed");
  std::filesystem::create_directories(options.out_dir);

  Stream reference;
  Stream input;
  std::vector<sim::InjectedAnomaly> injected;
  for (const auto& spec : options.references) append(reference, spec, true, options, injected);
  for (const auto& spec : options.inputs) append(input, spec, false, options, injected);
  if (reference.channels != 0 && (reference.channels != input.channels || reference.rate_hz != input.rate_hz)) {
    throw std::runtime_error(fmt::format("evaluate: the reference has {} channels at {} Hz, the input {} at {} Hz",
                                         reference.channels, reference.rate_hz, input.channels, input.rate_hz));
  }
  const double period_ns = 1e9 / input.rate_hz;

  std::vector<LabelInterval> labels;
  if (options.labels) {
    labels = read_labels(*options.labels);
  } else if (!injected.empty() || std::any_of(options.inputs.begin(), options.inputs.end(),
                                              [](const std::string& s) { return sim::is_synthetic_spec(s); })) {
    // Synthetic inputs: their ground truth, written out in the simulator's format.
    const auto path = options.out_dir / "labels.csv";
    {
      sim::LabelWriter writer(path.string());
      for (const auto& a : injected) writer.write(std::string(kDeviceId), a, 0, period_ns);
    }
    labels = read_labels(path);
  }
  const bool labelled = options.labels.has_value() || !labels.empty();

  // One device, one worker: the reference just before T0 (one window of gap, so no window
  // mixes the two), the inputs from T0 on.
  const WindowSpec& spec = options.config.worker.windows;
  WorkerOptions worker_options = options.config.worker;
  worker_options.idle_timeout = std::chrono::hours(24);  // a slow refit must not close windows early
  worker_options.anomaly.enabled = true;
  worker_options.anomaly.train_until_ns = kInputStartNs;
  worker_options.anomaly.learn_online = options.learn_online.value_or(options.references.empty());
  std::vector<WindowResult> windows;
  worker_options.window_tap = [&](const WindowTap& tap) {
    WindowResult r;
    r.start_ns = tap.window.start_ns - kInputStartNs;
    r.end_ns = tap.window.end_ns - kInputStartNs;
    r.score = tap.score;
    r.features.assign(tap.features.begin(), tap.features.end());
    r.reference = tap.window.end_ns <= kInputStartNs;
    windows.push_back(std::move(r));
  };
  DeviceRegistry registry(options.config.ring_capacity_chunks, 1);
  DeviceStream& device = *registry.add(kDeviceId, input.channels, input.rate_hz, "evaluate").device;
  uplink::UplinkRing output(options.config.uplink_ring_capacity);
  ShardWorker worker(0, 1, registry, worker_options,
                     kernels::make_failover_backend(options.config.backend, options.config.failover), output);
  std::map<std::int64_t, EventResult> events;
  Feeder feeder(device, worker, output, events);

  const auto gap_frames = static_cast<std::uint64_t>(std::ceil(static_cast<double>(spec.length_ns) / period_ns));
  const std::uint64_t input_first_seq = reference.frames() + gap_frames;
  if (reference.frames() > 0) {
    const std::int64_t reference_start = kInputStartNs - std::llround(static_cast<double>(input_first_seq) * period_ns);
    feeder.feed(reference, 0, reference.frames(), 0, reference_start);
  }
  feeder.feed(input, 0, input.frames(), input_first_seq, kInputStartNs);
  while (feeder.step(false) > 0) {
  }
  feeder.step(true);

  // Scores and features.
  EvaluationSummary summary;
  summary.backend = std::string(worker.scoring_backend_name());
  if (const auto* counters = worker.scoring_counters()) {
    summary.backend_failures = counters->failures.load();
    summary.fallback_batches = counters->fallback_searches.load();
  }
  auto scores_csv = open_out(options.out_dir / "scores.csv");
  scores_csv << "device_id,window_start_ns,window_end_ns,score" << (labelled ? ",label" : "") << "\n";
  auto features_csv = open_out(options.out_dir / "features.csv");
  features_csv << "set,device_id,window_start_ns,window_end_ns,label";
  const std::size_t dim = windows.empty() ? 0 : windows.front().features.size();
  for (std::size_t f = 0; f < dim; ++f) features_csv << ",f" << f;
  features_csv << "\n";
  std::vector<double> auc_scores;
  std::vector<int> auc_labels;
  for (const auto& w : windows) {
    const bool positive = std::any_of(labels.begin(), labels.end(), [&](const LabelInterval& l) {
      return overlaps(w.start_ns, w.end_ns, l.start_ns, l.end_ns);
    });
    const std::string label = (labelled && !w.reference) ? (positive ? "1" : "0") : "";
    if (!w.reference) {
      ++summary.windows;
      scores_csv << fmt::format("{},{},{},{}", kDeviceId, w.start_ns, w.end_ns,
                                std::isfinite(w.score) ? fmt::format("{:.6g}", w.score) : std::string("nan"));
      if (labelled) scores_csv << "," << label;
      scores_csv << "\n";
      if (std::isfinite(w.score)) {
        ++summary.scored;
        auc_scores.push_back(w.score);
        auc_labels.push_back(positive ? 1 : 0);
        summary.positives += positive ? 1 : 0;
      }
    }
    if (w.features.size() == dim && dim > 0 &&
        std::all_of(w.features.begin(), w.features.end(), [](float x) { return std::isfinite(x); })) {
      features_csv << (w.reference ? "reference" : "input") << "," << kDeviceId << "," << w.start_ns << "," << w.end_ns
                   << "," << label;
      for (const float x : w.features) features_csv << "," << fmt::format("{:.7g}", x);
      features_csv << "\n";
    }
  }
  if (labelled) summary.auc = roc_auc(auc_scores, auc_labels);

  // Events against labels.
  auto events_csv = open_out(options.out_dir / "events.csv");
  events_csv << "device_id,start_ns,end_ns,first_report_ns,peak_score,windows,channels,matches_label\n";
  summary.input_hours = static_cast<double>(input.frames()) / input.rate_hz / 3600.0;
  std::vector<std::optional<std::int64_t>> first_alarm(labels.size());
  for (const auto& [start, e] : events) {
    const std::int64_t s = e.last.start_ns - kInputStartNs;
    const std::int64_t end = e.last.end_ns - kInputStartNs;
    if (end <= 0) continue;  // within the reference (cannot happen: it only trains)
    ++summary.events;
    bool matched = false;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (!overlaps(s, end, labels[i].start_ns, labels[i].end_ns)) continue;
      matched = true;
      const std::int64_t alarm = e.first_report_ns - kInputStartNs;
      if (!first_alarm[i] || alarm < *first_alarm[i]) first_alarm[i] = alarm;
    }
    if (labelled && !matched) ++summary.false_alarms;
    const std::string channels = fmt::format("{}", fmt::join(e.last.channels, " "));
    events_csv << fmt::format("{},{},{},{},{:.6g},{},{},{}\n", kDeviceId, s, end, e.first_report_ns - kInputStartNs,
                              e.last.peak_score, e.last.windows, channels, matched ? 1 : 0);
  }
  summary.labels = labels.size();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    auto& type = summary.by_type[labels[i].type];
    ++type.labels;
    if (!first_alarm[i]) continue;
    ++summary.detected;
    ++type.detected;
    // An alarm may come before the labelled start when the window holding it began earlier.
    const double latency = static_cast<double>(std::max<std::int64_t>(0, *first_alarm[i] - labels[i].start_ns)) / 1e9;
    summary.latencies_s.push_back(latency);
    type.latencies_s.push_back(latency);
  }
  auto json = open_out(options.out_dir / "summary.json");
  json << to_json(summary) << "\n";
  return summary;
}

std::string to_json(const EvaluationSummary& s) {
  const auto number = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); };
  nlohmann::json types = nlohmann::json::object();
  for (const auto& [name, t] : s.by_type) {
    types[name] = {{"labels", t.labels},
                   {"detected", t.detected},
                   {"recall", t.labels > 0 ? number(static_cast<double>(t.detected) / static_cast<double>(t.labels))
                                           : nlohmann::json(nullptr)},
                   {"detection_latency_s_median", number(median(t.latencies_s))}};
  }
  const double max_latency =
      s.latencies_s.empty() ? std::nan("") : *std::max_element(s.latencies_s.begin(), s.latencies_s.end());
  const nlohmann::json doc = {
      {"windows", s.windows},
      {"scored_windows", s.scored},
      {"positive_windows", s.positives},
      {"auc", s.auc ? number(*s.auc) : nlohmann::json(nullptr)},
      {"labels", s.labels},
      {"detected_labels", s.detected},
      {"event_recall", s.labels > 0 ? number(static_cast<double>(s.detected) / static_cast<double>(s.labels))
                                    : nlohmann::json(nullptr)},
      {"events", s.events},
      {"false_alarms", s.false_alarms},
      {"input_hours", s.input_hours},
      {"false_alarms_per_hour",
       s.input_hours > 0 ? number(static_cast<double>(s.false_alarms) / s.input_hours) : nlohmann::json(nullptr)},
      {"detection_latency_s_median", number(median(s.latencies_s))},
      {"detection_latency_s_max", number(max_latency)},
      {"by_type", types},
      {"backend", s.backend},
      {"backend_failures", s.backend_failures},
      {"fallback_batches", s.fallback_batches}};
  return doc.dump(2);
}

}  // namespace sensorgate::evaluation
