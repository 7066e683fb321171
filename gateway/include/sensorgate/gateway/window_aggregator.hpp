#pragma once
// WindowAggregator: event-time windows of one device, tumbling or sliding.
//
// Windows of `length` start every `slide` (both multiples of the pane, their greatest
// common divisor) on a grid aligned to the Unix epoch, so every device's windows line up.
// Frames are folded into panes: per channel Moments and histogram counts, computed for
// whole blocks by the backend. A window is the merge of its panes, so sliding windows
// never recompute what they share. A window closes when the watermark (newest event time
// - allowed lateness) passes its end; band powers are then computed from the window's
// samples (kept by sequence number in a SampleHistory). The watermark counts the newest
// frame's own period as covered, so with no lateness a window closes with its last frame.
//
// A frame whose earliest window has already closed is late. Policy "drop": it is counted
// and only windows still open see it. Policy "update": while the window is within
// `update_retention` of closing, the frame is merged and every closed window containing it
// is emitted again with a higher revision.

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "sensorgate/gateway/device_clock.hpp"
#include "sensorgate/gateway/frame_chunk.hpp"
#include "sensorgate/gateway/sample_history.hpp"
#include "sensorgate/kernels/block_stats.hpp"
#include "sensorgate/kernels/moments.hpp"
#include "sensorgate/kernels/spectrum.hpp"

namespace sensorgate {

enum class LatePolicy : std::uint8_t { kDrop, kUpdate };

struct WindowSpec {
  std::int64_t length_ns = 1'000'000'000;
  std::int64_t slide_ns = 1'000'000'000;  ///< equal to length: tumbling windows
  std::int64_t allowed_lateness_ns = 0;
  LatePolicy late_policy = LatePolicy::kDrop;
  /// Policy "update": how long after closing a window may still be corrected.
  std::int64_t update_retention_ns = 0;
  /// Ascending bin edges for per-channel histograms; empty: no histograms.
  std::vector<float> histogram_edges;
  bool band_powers = true;

  [[nodiscard]] std::int64_t pane_ns() const;
};

struct ClosedWindow {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::uint32_t revision = 0;  ///< 0 when first emitted, n for the nth correction
  std::vector<kernels::Moments> channels;
  std::vector<std::uint32_t> histogram;    ///< channels x histogram_bins(edges), channel-major
  std::vector<kernels::BandPowers> bands;  ///< per channel; empty when band powers are off
  /// Per channel: mean |x[i] − x[i−1]| over the window (with the band powers, from the
  /// same samples; empty when band powers are off).
  std::vector<float> line_length;
};

/// Per-window-pane accumulators.
struct Pane {
  std::vector<kernels::Moments> moments;
  std::vector<std::uint32_t> histogram;
};

/// Block statistics a backend computes in one call, and the panes they merge into.
struct BlockPlan {
  std::vector<kernels::BlockJob> jobs;
  std::vector<Pane*> targets;  ///< per job
  std::uint32_t outputs = 0;   ///< output slots the jobs need in total

  void clear() {
    jobs.clear();
    targets.clear();
    outputs = 0;
  }
  /// Merges the backend's results into the target panes.
  void merge(std::span<const kernels::Moments> moments, std::span<const std::uint32_t> histogram,
             std::size_t bins) const;
};

class WindowAggregator {
 public:
  /// `max_frames_between_closes`: the most frames the caller plans between two calls of
  /// close_ready. The sample history keeps them on top of what open windows need, so a
  /// backlog drained in one go cannot overwrite samples a window still has to read.
  WindowAggregator(const WindowSpec& spec, std::uint16_t channels, double sample_rate_hz,
                   std::size_t max_frames_between_closes);

  /// Plans frames [begin, end) of `chunk` (accepted by sequence tracking; event times from
  /// `clock`) into their panes. The jobs point into `chunk`, which must outlive the merge.
  void plan(const FrameChunk& chunk, std::uint32_t begin, std::uint32_t end, const DeviceClock& clock, BlockPlan& plan);

  /// Emits, in start order, every window the watermark has passed, then any corrected
  /// windows; evicts panes no window needs any more.
  void close_ready(const DeviceClock& clock, kernels::BandPowerCalculator& bands, std::vector<ClosedWindow>& out);
  /// Emits every window that has data (idle device, shutdown).
  void close_all(const DeviceClock& clock, kernels::BandPowerCalculator& bands, std::vector<ClosedWindow>& out);

  [[nodiscard]] std::uint64_t late_frames() const { return late_frames_; }
  [[nodiscard]] std::uint64_t updates_emitted() const { return updates_emitted_; }
  [[nodiscard]] std::size_t open_panes() const { return panes_.size(); }
  /// True while some window with data is still open (not yet emitted).
  [[nodiscard]] bool has_open_windows() const;

 private:
  /// Event time all windows ending at or before it may close: newest frame + one period
  /// - allowed lateness.
  [[nodiscard]] std::int64_t watermark() const;
  [[nodiscard]] std::int64_t first_window_containing(std::int64_t t) const;
  [[nodiscard]] std::int64_t last_window_containing(std::int64_t t) const;
  Pane& pane_at(std::int64_t pane_start);
  /// True when `frame_time` may still be merged; counts late frames and marks updates.
  bool admit(std::int64_t frame_time);
  void close_through(std::int64_t watermark, const DeviceClock& clock, kernels::BandPowerCalculator& bands,
                     std::vector<ClosedWindow>& out);
  ClosedWindow build(std::int64_t start, std::uint32_t revision, const DeviceClock& clock,
                     kernels::BandPowerCalculator& bands);
  void evict(std::int64_t watermark);

  WindowSpec spec_;
  std::int64_t pane_ns_;
  std::uint16_t channels_;
  double sample_rate_hz_;
  std::int64_t frame_period_ns_;  ///< 1 / sample_rate_hz_, rounded down
  std::size_t bins_;
  std::map<std::int64_t, Pane> panes_;  // by pane start
  SampleHistory history_;
  bool started_ = false;
  std::int64_t newest_ns_ = 0;
  std::int64_t next_window_ = 0;                     // start of the first window not yet emitted
  std::map<std::int64_t, std::uint32_t> revisions_;  // closed windows still correctable
  std::set<std::int64_t> dirty_;                     // closed windows to emit again
  std::uint64_t late_frames_ = 0;
  std::uint64_t updates_emitted_ = 0;
  std::vector<float> channel_scratch_;
};

}  // namespace sensorgate
