#include "sensorgate/gateway/device_clock.hpp"

#include <cmath>

namespace sensorgate {

DeviceClock::DeviceClock(double sample_rate_hz) : period_ns_(1e9 / sample_rate_hz) {}

void DeviceClock::observe(std::uint64_t seq, std::int64_t reported_ns) {
  if (!anchored_) {
    anchored_ = true;
    anchor_seq_ = seq;
    anchor_ns_ = reported_ns;
    first_derived_ns_ = last_derived_ns_ = reported_ns;
    return;
  }
  const std::int64_t derived = time_of(seq);
  if (derived > last_derived_ns_) {
    last_derived_ns_ = derived;
    last_offset_ns_ = reported_ns - derived;
  }
}

std::int64_t DeviceClock::time_of(std::uint64_t seq) const {
  // Signed difference: a reordered frame may precede the anchor.
  const auto frames = static_cast<double>(static_cast<std::int64_t>(seq - anchor_seq_));
  return anchor_ns_ + std::llround(frames * period_ns_);
}

std::uint64_t DeviceClock::first_seq_at_or_after(std::int64_t t_ns) const {
  const double frames = std::ceil(static_cast<double>(t_ns - anchor_ns_) / period_ns_ - 1e-9);
  auto seq = anchor_seq_ + static_cast<std::uint64_t>(static_cast<std::int64_t>(frames));
  // Guard against rounding at exact boundaries: step to the true first frame.
  while (time_of(seq) < t_ns) ++seq;
  while (time_of(seq - 1) >= t_ns) --seq;
  return seq;
}

double DeviceClock::drift_ppm() const {
  const std::int64_t span = last_derived_ns_ - first_derived_ns_;
  if (span < 10'000'000'000) return 0.0;
  return static_cast<double>(last_offset_ns_ - first_offset_ns_) / static_cast<double>(span) * 1e6;
}

}  // namespace sensorgate
