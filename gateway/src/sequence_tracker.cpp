#include "sensorgate/gateway/sequence_tracker.hpp"

namespace sensorgate {

bool SequenceTracker::accept_one(std::uint64_t seq) {
  if (!started_) {
    started_ = true;
    highest_ = seq;
    mark(seq);
    return true;
  }
  if (seq > highest_) {
    const std::uint64_t skipped = seq - highest_ - 1;
    counters_.gap_frames += skipped;
    // Slots between the old and the new highest now stand for new sequence numbers.
    if (seq - highest_ >= kHorizon) {
      bits_.fill(0);
    } else {
      for (std::uint64_t s = highest_ + 1; s < seq; ++s) clear(s);
    }
    highest_ = seq;
    mark(seq);
    return true;
  }
  if (highest_ - seq >= kHorizon) {
    ++counters_.too_old;
    return false;
  }
  if (seen(seq)) {
    ++counters_.duplicates;
    return false;
  }
  ++counters_.reordered;
  mark(seq);
  return true;
}

void SequenceTracker::accept(std::uint64_t first_seq, std::uint32_t count, std::vector<Range>& accepted) {
  accepted.clear();
  // Fast path: the run continues exactly where the stream left off.
  if (started_ && first_seq == highest_ + 1 && count <= kHorizon) {
    for (std::uint64_t s = first_seq; s < first_seq + count; ++s) mark(s);
    highest_ = first_seq + count - 1;
    counters_.accepted += count;
    accepted.push_back({0, count});
    return;
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    if (!accept_one(first_seq + i)) continue;
    ++counters_.accepted;
    if (!accepted.empty() && accepted.back().end == i) {
      accepted.back().end = i + 1;
    } else {
      accepted.push_back({i, i + 1});
    }
  }
}

}  // namespace sensorgate
