#pragma once
// SequenceTracker: per-device bookkeeping of frame sequence numbers. It decides which
// frames of an arriving run are new (accepted) and counts everything else:
// - gap frames: sequence numbers skipped over when a newer frame arrived (still missing
//   until they turn up late),
// - reordered: a previously skipped frame that arrived after all (accepted),
// - duplicates: a frame already seen (dropped, so no window counts a sample twice),
// - too old: older than the tracking horizon; cannot be told apart from a duplicate, so
//   it is dropped and counted separately.
// A bitmap over the last kHorizon sequence numbers remembers what has been seen.

#include <array>
#include <cstdint>
#include <vector>

namespace sensorgate {

class SequenceTracker {
 public:
  static constexpr std::uint64_t kHorizon = 4096;

  /// A run of accepted frames: offsets [begin, end) into the run passed to accept().
  struct Range {
    std::uint32_t begin;
    std::uint32_t end;
    bool operator==(const Range&) const = default;
  };

  struct Counters {
    std::uint64_t accepted = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t reordered = 0;
    std::uint64_t gap_frames = 0;  ///< frames skipped over at the time (includes later-reordered ones)
    std::uint64_t too_old = 0;
    [[nodiscard]] std::uint64_t missing() const { return gap_frames - reordered; }
  };

  /// Classifies frames first_seq .. first_seq + count - 1; appends the accepted ranges to
  /// `accepted` (cleared first).
  void accept(std::uint64_t first_seq, std::uint32_t count, std::vector<Range>& accepted);

  [[nodiscard]] const Counters& counters() const { return counters_; }

 private:
  [[nodiscard]] bool seen(std::uint64_t seq) const { return ((bits_[(seq / 64) % kWords] >> (seq % 64)) & 1U) != 0; }
  void mark(std::uint64_t seq) { bits_[(seq / 64) % kWords] |= std::uint64_t{1} << (seq % 64); }
  void clear(std::uint64_t seq) { bits_[(seq / 64) % kWords] &= ~(std::uint64_t{1} << (seq % 64)); }
  /// Classifies one frame; true when accepted.
  bool accept_one(std::uint64_t seq);

  static constexpr std::uint64_t kWords = kHorizon / 64;
  std::array<std::uint64_t, kWords> bits_{};
  bool started_ = false;
  std::uint64_t highest_ = 0;
  Counters counters_;
};

}  // namespace sensorgate
