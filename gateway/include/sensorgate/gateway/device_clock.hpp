#pragma once
// DeviceClock: event time of a device's frames, derived from sequence numbers. A device's
// own timestamps jitter and its oscillator drifts; its sequence numbers do neither. Frame
// `seq` is at anchor_time + (seq - anchor_seq) x nominal period, anchored on the first
// frame seen, so every window holds exactly length x rate frames. The device's reported
// times are still watched: their offset from the derived times, over time, is the drift.

#include <cstdint>

namespace sensorgate {

class DeviceClock {
 public:
  explicit DeviceClock(double sample_rate_hz);

  /// Records that frame `seq` was reported at `reported_ns`; anchors on the first call.
  void observe(std::uint64_t seq, std::int64_t reported_ns);

  /// Derived event time of frame `seq` (anchored() must be true).
  [[nodiscard]] std::int64_t time_of(std::uint64_t seq) const;
  /// The first frame whose derived time is at or after `t_ns`.
  [[nodiscard]] std::uint64_t first_seq_at_or_after(std::int64_t t_ns) const;

  [[nodiscard]] bool anchored() const { return anchored_; }
  [[nodiscard]] double period_ns() const { return period_ns_; }
  /// Device clock rate error in parts per million (positive: the device's clock runs
  /// fast), measured over the span observed so far; 0 until 10 s of frames were seen.
  [[nodiscard]] double drift_ppm() const;

 private:
  double period_ns_;
  bool anchored_ = false;
  std::uint64_t anchor_seq_ = 0;
  std::int64_t anchor_ns_ = 0;
  // Offset (reported - derived) at the first and the newest observation.
  std::int64_t first_offset_ns_ = 0;
  std::int64_t first_derived_ns_ = 0;
  std::int64_t last_offset_ns_ = 0;
  std::int64_t last_derived_ns_ = 0;
};

}  // namespace sensorgate
