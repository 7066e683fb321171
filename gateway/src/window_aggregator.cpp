#include "sensorgate/gateway/window_aggregator.hpp"

#include <algorithm>

namespace sensorgate {
namespace {

std::int64_t floor_to(std::int64_t t, std::int64_t step) {
  std::int64_t q = t / step;
  if ((t % step != 0) && (t < 0)) --q;
  return q * step;
}

}  // namespace

void MomentsPlan::merge(const std::vector<kernels::Moments>& results) const {
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const auto& job = jobs[j];
    kernels::Moments* target = targets[j];
    for (std::uint16_t c = 0; c < job.channels; ++c) target[c].merge(results[job.out_offset + c]);
  }
}

WindowAggregator::WindowAggregator(WindowSpec spec, std::uint16_t channels) : spec_(spec), channels_(channels) {}

kernels::Moments* WindowAggregator::window_for(std::int64_t start_ns) {
  auto [it, inserted] = open_.try_emplace(start_ns);
  if (inserted) it->second.resize(channels_);
  return it->second.data();
}

void WindowAggregator::plan(const FrameChunk& chunk, std::uint32_t begin, std::uint32_t end, MomentsPlan& plan) {
  std::uint32_t run_begin = begin;
  std::int64_t run_window = 0;
  bool in_run = false;
  auto flush = [&](std::uint32_t run_end) {
    if (!in_run || run_end == run_begin) return;
    plan.jobs.push_back(kernels::MomentsJob{chunk.samples.data() + static_cast<std::size_t>(run_begin) * chunk.channels,
                                            run_end - run_begin, chunk.channels, plan.outputs});
    plan.targets.push_back(window_for(run_window));
    plan.outputs += chunk.channels;
  };
  for (std::uint32_t i = begin; i < end; ++i) {
    const std::int64_t t = chunk.frame_time_ns(i);
    newest_ns_ = std::max(newest_ns_, t);
    const std::int64_t window = floor_to(t, spec_.length_ns);
    if (window + spec_.length_ns <= closed_until_) {
      // Its window is already closed and uplinked: late.
      flush(i);
      in_run = false;
      ++late_frames_;
      continue;
    }
    if (!in_run || window != run_window) {
      flush(i);
      in_run = true;
      run_begin = i;
      run_window = window;
    }
  }
  flush(end);
}

void WindowAggregator::close_through(std::int64_t end_limit, std::vector<ClosedWindow>& out) {
  while (!open_.empty()) {
    auto it = open_.begin();
    const std::int64_t end = it->first + spec_.length_ns;
    if (end > end_limit) break;
    out.push_back(ClosedWindow{it->first, end, std::move(it->second)});
    closed_until_ = std::max(closed_until_, end);
    open_.erase(it);
  }
}

void WindowAggregator::close_ready(std::vector<ClosedWindow>& out) {
  if (newest_ns_ == INT64_MIN) return;
  const std::int64_t watermark = watermark_ns();
  close_through(watermark, out);
  // Windows that never opened (a gap) are closed too: a frame for them now is late.
  closed_until_ = std::max(closed_until_, floor_to(watermark, spec_.length_ns));
}

void WindowAggregator::close_all(std::vector<ClosedWindow>& out) {
  close_through(INT64_MAX, out);
}

}  // namespace sensorgate
