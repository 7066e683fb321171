#include "sensorgate/gateway/window_aggregator.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sensorgate {
namespace {

std::int64_t floor_to(std::int64_t t, std::int64_t step) {
  std::int64_t q = t / step;
  if ((t % step != 0) && (t < 0)) --q;
  return q * step;
}

/// Frames the sample history must hold: everything an open window may still need, plus
/// what may be planned before the next close.
std::size_t history_frames(const WindowSpec& spec, double rate_hz, std::size_t max_frames_between_closes) {
  if (!spec.band_powers) return 2;
  const auto span_ns = static_cast<double>(spec.length_ns + spec.slide_ns + spec.allowed_lateness_ns +
                                           (spec.late_policy == LatePolicy::kUpdate ? spec.update_retention_ns : 0));
  return static_cast<std::size_t>(std::ceil(span_ns * rate_hz / 1e9)) + max_frames_between_closes + 64;
}

}  // namespace

std::int64_t WindowSpec::pane_ns() const {
  return std::gcd(length_ns, slide_ns);
}

void BlockPlan::merge(std::span<const kernels::Moments> moments, std::span<const std::uint32_t> histogram,
                      std::size_t bins) const {
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const auto& job = jobs[j];
    Pane& pane = *targets[j];
    for (std::uint16_t c = 0; c < job.channels; ++c) pane.moments[c].merge(moments[job.out_offset + c]);
    if (bins == 0) continue;
    for (std::size_t i = 0; i < job.channels * bins; ++i) pane.histogram[i] += histogram[job.out_offset * bins + i];
  }
}

WindowAggregator::WindowAggregator(const WindowSpec& spec, std::uint16_t channels, double sample_rate_hz,
                                   std::size_t max_frames_between_closes)
    : spec_(spec),
      pane_ns_(spec.pane_ns()),
      channels_(channels),
      sample_rate_hz_(sample_rate_hz),
      frame_period_ns_(static_cast<std::int64_t>(1e9 / sample_rate_hz)),
      bins_(kernels::histogram_bins(spec.histogram_edges)),
      history_(history_frames(spec, sample_rate_hz, max_frames_between_closes), channels) {}

std::int64_t WindowAggregator::first_window_containing(std::int64_t t) const {
  // Window [s, s + length) contains t when t - length < s <= t.
  return floor_to(t - spec_.length_ns, spec_.slide_ns) + spec_.slide_ns;
}

std::int64_t WindowAggregator::last_window_containing(std::int64_t t) const {
  return floor_to(t, spec_.slide_ns);
}

Pane& WindowAggregator::pane_at(std::int64_t pane_start) {
  auto [it, inserted] = panes_.try_emplace(pane_start);
  if (inserted) {
    it->second.moments.resize(channels_);
    it->second.histogram.resize(static_cast<std::size_t>(channels_) * bins_);
  }
  return it->second;
}

bool WindowAggregator::admit(std::int64_t frame_time) {
  const std::int64_t first = first_window_containing(frame_time);
  if (!started_ || first >= next_window_) return true;
  ++late_frames_;
  const std::int64_t last = last_window_containing(frame_time);
  const bool some_window_open = last >= next_window_;
  if (spec_.late_policy == LatePolicy::kDrop) return some_window_open;
  // Update: correct the closed windows that are still within their retention.
  const std::int64_t watermark = this->watermark();
  bool corrected = false;
  for (std::int64_t s = first; s < next_window_ && s <= last; s += spec_.slide_ns) {
    if (s + spec_.length_ns + spec_.update_retention_ns > watermark) {
      dirty_.insert(s);
      corrected = true;
    }
  }
  return corrected || some_window_open;
}

void WindowAggregator::plan(const FrameChunk& chunk, std::uint32_t begin, std::uint32_t end, const DeviceClock& clock,
                            BlockPlan& plan) {
  std::uint32_t run_begin = begin;
  std::int64_t run_pane = 0;
  bool in_run = false;
  auto flush = [&](std::uint32_t run_end) {
    if (in_run && run_end > run_begin) {
      plan.jobs.push_back(kernels::BlockJob{chunk.samples.data() + static_cast<std::size_t>(run_begin) * chunk.channels,
                                            run_end - run_begin, chunk.channels, plan.outputs});
      plan.targets.push_back(&pane_at(run_pane));
      plan.outputs += chunk.channels;
    }
    in_run = false;
  };
  for (std::uint32_t i = begin; i < end; ++i) {
    const std::uint64_t seq = chunk.first_seq + i;
    const std::int64_t t = clock.time_of(seq);
    if (!admit(t)) {
      flush(i);
      continue;
    }
    if (!started_) {
      started_ = true;
      newest_ns_ = t;
      next_window_ = first_window_containing(t);
    }
    newest_ns_ = std::max(newest_ns_, t);
    if (spec_.band_powers) {
      history_.store(seq,
                     std::span<const float>(chunk.samples.data() + static_cast<std::size_t>(i) * channels_, channels_));
    }
    const std::int64_t pane = floor_to(t, pane_ns_);
    if (!in_run || pane != run_pane) {
      flush(i);
      in_run = true;
      run_begin = i;
      run_pane = pane;
    }
  }
  flush(end);
}

ClosedWindow WindowAggregator::build(std::int64_t start, std::uint32_t revision, const DeviceClock& clock,
                                     kernels::BandPowerCalculator& bands) {
  ClosedWindow w;
  w.start_ns = start;
  w.end_ns = start + spec_.length_ns;
  w.revision = revision;
  w.channels.resize(channels_);
  w.histogram.resize(static_cast<std::size_t>(channels_) * bins_);
  for (auto it = panes_.lower_bound(start); it != panes_.end() && it->first < w.end_ns; ++it) {
    for (std::uint16_t c = 0; c < channels_; ++c) w.channels[c].merge(it->second.moments[c]);
    for (std::size_t i = 0; i < w.histogram.size(); ++i) w.histogram[i] += it->second.histogram[i];
  }
  if (spec_.band_powers) {
    // Frames that never arrived (or left the history) are filled with the channel's mean,
    // which the mean removal before the FFT turns into zeros: they add no power.
    const std::uint64_t first = clock.first_seq_at_or_after(w.start_ns);
    const std::uint64_t last = clock.first_seq_at_or_after(w.end_ns);
    channel_scratch_.resize(last - first);
    w.bands.resize(channels_);
    w.line_length.resize(channels_);
    for (std::uint16_t c = 0; c < channels_; ++c) {
      const auto fill = static_cast<float>(w.channels[c].mean);
      for (std::uint64_t seq = first; seq < last; ++seq) {
        const float* frame = history_.find(seq);
        channel_scratch_[seq - first] = frame != nullptr ? frame[c] : fill;
      }
      w.bands[c] = bands.compute(channel_scratch_, sample_rate_hz_);
      double length = 0.0;
      for (std::size_t i = 1; i < channel_scratch_.size(); ++i) {
        length += std::abs(static_cast<double>(channel_scratch_[i]) - channel_scratch_[i - 1]);
      }
      w.line_length[c] = channel_scratch_.size() > 1
                             ? static_cast<float>(length / static_cast<double>(channel_scratch_.size() - 1))
                             : 0.0F;
    }
  }
  return w;
}

void WindowAggregator::close_through(std::int64_t watermark, const DeviceClock& clock,
                                     kernels::BandPowerCalculator& bands, std::vector<ClosedWindow>& out) {
  while (!panes_.empty()) {
    // The next window that has data: skip stretches without panes.
    auto first_pane = panes_.lower_bound(next_window_);
    if (first_pane == panes_.end()) break;
    const std::int64_t start = std::max(next_window_, first_window_containing(first_pane->first));
    if (start > watermark - spec_.length_ns) break;  // its end is past the watermark
    out.push_back(build(start, 0, clock, bands));
    if (spec_.late_policy == LatePolicy::kUpdate) revisions_[start] = 0;
    next_window_ = start + spec_.slide_ns;
  }
}

void WindowAggregator::evict(std::int64_t watermark) {
  const std::int64_t retention = spec_.late_policy == LatePolicy::kUpdate ? spec_.update_retention_ns : 0;
  while (!panes_.empty()) {
    const std::int64_t last = last_window_containing(panes_.begin()->first);
    if (last >= next_window_ || last + spec_.length_ns + retention > watermark) break;
    panes_.erase(panes_.begin());
  }
  while (!revisions_.empty() && revisions_.begin()->first + spec_.length_ns + retention <= watermark) {
    revisions_.erase(revisions_.begin());
  }
}

void WindowAggregator::close_ready(const DeviceClock& clock, kernels::BandPowerCalculator& bands,
                                   std::vector<ClosedWindow>& out) {
  if (!started_) return;
  const std::int64_t watermark = this->watermark();
  close_through(watermark, clock, bands, out);
  // Windows without data whose end the watermark has passed are closed too: a frame for
  // them now is late.
  next_window_ = std::max(next_window_, floor_to(watermark - spec_.length_ns, spec_.slide_ns) + spec_.slide_ns);
  for (std::int64_t start : dirty_) {
    auto [it, first_time] = revisions_.try_emplace(start, 0);
    if (!first_time) {
      ++it->second;
      ++updates_emitted_;
    }
    out.push_back(build(start, it->second, clock, bands));
  }
  dirty_.clear();
  evict(watermark);
}

std::int64_t WindowAggregator::watermark() const {
  // The newest frame covers event time up to one period after its timestamp: with no
  // allowed lateness a window closes as soon as its last frame is in, not one frame later,
  // so a complete window is never left waiting in memory (where a crash would lose it).
  return newest_ns_ + frame_period_ns_ - spec_.allowed_lateness_ns;
}

bool WindowAggregator::has_open_windows() const {
  return !panes_.empty() && last_window_containing(panes_.rbegin()->first) >= next_window_;
}

void WindowAggregator::close_all(const DeviceClock& clock, kernels::BandPowerCalculator& bands,
                                 std::vector<ClosedWindow>& out) {
  if (!started_) return;
  close_through(INT64_MAX, clock, bands, out);
  close_ready(clock, bands, out);
}

}  // namespace sensorgate
