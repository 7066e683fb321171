#include "sensorgate/common/prometheus_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace sensorgate {
namespace {

/// Label values escape backslash, double quote and newline; HELP text backslash and newline.
std::string escape(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string label_text(const PrometheusText::Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += fmt::format("{}=\"{}\"", labels[i].first, escape(labels[i].second, true));
  }
  return out + "}";
}

std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

}  // namespace

PrometheusText::Family& PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  const std::string full = prefix_ + std::string(name);
  auto it = std::find_if(families_.begin(), families_.end(), [&](const Family& f) { return f.name == full; });
  if (it != families_.end()) return *it;
  families_.push_back(Family{full, std::string(type), std::string(help), {}});
  return families_.back();
}

void PrometheusText::counter(std::string_view name, std::string_view help, double value, const Labels& labels) {
  auto& f = family(name, "counter", help);
  f.samples.push_back(fmt::format("{}{} {}", f.name, label_text(labels), number(value)));
}

void PrometheusText::gauge(std::string_view name, std::string_view help, double value, const Labels& labels) {
  auto& f = family(name, "gauge", help);
  f.samples.push_back(fmt::format("{}{} {}", f.name, label_text(labels), number(value)));
}

void PrometheusText::histogram(std::string_view name, std::string_view help, const LatencyHistogram::Snapshot& h,
                               const Labels& labels) {
  auto& f = family(name, "histogram", help);
  const auto& bounds = LatencyHistogram::upper_bounds_seconds();
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += h.counts[i];
    auto with_le = labels;
    with_le.emplace_back("le", i < bounds.size() ? number(bounds[i]) : "+Inf");
    f.samples.push_back(fmt::format("{}_bucket{} {}", f.name, label_text(with_le), cumulative));
  }
  f.samples.push_back(fmt::format("{}_sum{} {}", f.name, label_text(labels), number(h.sum_seconds)));
  f.samples.push_back(fmt::format("{}_count{} {}", f.name, label_text(labels), h.count));
}

void PrometheusText::stage(const StageSnapshot& s) {
  const Labels stage{{"stage", s.name}};
  histogram("stage_run_seconds", "Wall time of one batch of the stage", s.run, stage);
  histogram("stage_queue_wait_seconds", "Time an item waited in the hand-off before the stage", s.queue_wait, stage);
  counter("stage_batches_total", "Batches the stage ran", static_cast<double>(s.batches), stage);
  counter("stage_items_total", "Items the stage processed (frames, chunks, windows, messages, records or rows)",
          static_cast<double>(s.items), {{"stage", s.name}, {"unit", s.item_unit}});
  counter("stage_compute_seconds_total", "Time the stage spent computing (run time minus transfers)", s.compute_seconds,
          stage);
  counter("stage_transfer_seconds_total", "Time the stage spent copying between host and GPU", s.transfer_seconds,
          stage);
  counter("stage_scheduling_delay_seconds_total", "Time items waited before the stage picked them up",
          s.scheduling_delay_seconds(), stage);
  counter("stage_io_operations_total", "Reads, writes, sends or commits of the stage",
          static_cast<double>(s.io_operations), stage);
  counter("stage_io_bytes_total", "Bytes the stage read, wrote or sent", static_cast<double>(s.io_bytes), stage);
  for (const auto& [kind, value] : s.drops) {
    counter("stage_dropped_total", "Items the stage dropped or refused, by kind", static_cast<double>(value),
            {{"stage", s.name}, {"kind", kind}});
  }
  gauge("stage_spill_bytes", "Bytes the stage holds on disk", static_cast<double>(s.spill_bytes), stage);
}

std::string PrometheusText::str() const {
  std::string out;
  for (const auto& f : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, escape(f.help, false), f.name, f.type);
    for (const auto& s : f.samples) {
      out += s;
      out += '\n';
    }
  }
  return out;
}

}  // namespace sensorgate
