#pragma once
// WindowAggregator: event-time tumbling windows of one device. It assigns accepted frames
// to windows by their device time, plans the block-moment computations that fold them
// into their window's per-channel Moments, and closes windows once the watermark
// (newest event time seen - allowed lateness) has passed their end. A frame whose window
// has already closed is late: counted and dropped.
//
// Windows are aligned to multiples of the window length since the Unix epoch, so every
// device's windows line up and a stream that starts on a boundary fills whole windows.

#include <cstdint>
#include <map>
#include <vector>

#include "sensorgate/gateway/frame_chunk.hpp"
#include "sensorgate/kernels/moments.hpp"
#include "sensorgate/kernels/moments_backend.hpp"

namespace sensorgate {

struct WindowSpec {
  std::int64_t length_ns = 1'000'000'000;
  std::int64_t allowed_lateness_ns = 0;
};

struct ClosedWindow {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::vector<kernels::Moments> channels;
};

/// Block moments computed by a backend and the window channels they merge into.
struct MomentsPlan {
  std::vector<kernels::MomentsJob> jobs;
  std::vector<kernels::Moments*> targets;  ///< per job: the window's channel 0 Moments
  std::uint32_t outputs = 0;               ///< Moments entries the jobs need in total

  void clear() {
    jobs.clear();
    targets.clear();
    outputs = 0;
  }
  /// Merges the backend's results into the targets.
  void merge(const std::vector<kernels::Moments>& results) const;
};

class WindowAggregator {
 public:
  WindowAggregator(WindowSpec spec, std::uint16_t channels);

  /// Plans frames [begin, end) of `chunk` (already accepted by sequence tracking) into
  /// their windows. The jobs point into `chunk`, which must stay alive until merged.
  void plan(const FrameChunk& chunk, std::uint32_t begin, std::uint32_t end, MomentsPlan& plan);

  /// Closes, in start order, every window whose end is at or before the watermark.
  void close_ready(std::vector<ClosedWindow>& out);
  /// Closes every open window (idle device, shutdown).
  void close_all(std::vector<ClosedWindow>& out);

  [[nodiscard]] std::uint64_t late_frames() const { return late_frames_; }
  [[nodiscard]] std::size_t open_windows() const { return open_.size(); }
  [[nodiscard]] std::int64_t watermark_ns() const { return newest_ns_ - spec_.allowed_lateness_ns; }

 private:
  kernels::Moments* window_for(std::int64_t start_ns);
  void close_through(std::int64_t end_limit, std::vector<ClosedWindow>& out);

  WindowSpec spec_;
  std::uint16_t channels_;
  std::map<std::int64_t, std::vector<kernels::Moments>> open_;  // by window start
  std::int64_t newest_ns_ = INT64_MIN;
  std::int64_t closed_until_ = INT64_MIN;  // every window ending at or before this is closed
  std::uint64_t late_frames_ = 0;
};

}  // namespace sensorgate
