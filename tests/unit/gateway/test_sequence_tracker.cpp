#include "sensorgate/gateway/sequence_tracker.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sensorgate {
namespace {

using Range = SequenceTracker::Range;

std::vector<Range> accept(SequenceTracker& t, std::uint64_t first, std::uint32_t n) {
  std::vector<Range> out;
  t.accept(first, n, out);
  return out;
}

TEST(SequenceTracker, InOrder_AllAcceptedNothingCounted) {
  SequenceTracker t;
  EXPECT_EQ(accept(t, 0, 32), (std::vector<Range>{{0, 32}}));
  EXPECT_EQ(accept(t, 32, 32), (std::vector<Range>{{0, 32}}));
  EXPECT_EQ(t.counters().accepted, 64U);
  EXPECT_EQ(t.counters().duplicates + t.counters().gap_frames + t.counters().reordered, 0U);
}

TEST(SequenceTracker, FirstRunStartsAnywhere_NoGapCounted) {
  SequenceTracker t;
  EXPECT_EQ(accept(t, 1000, 4).size(), 1U);
  EXPECT_EQ(t.counters().gap_frames, 0U);
}

TEST(SequenceTracker, Gap_CountsSkippedFrames) {
  SequenceTracker t;
  accept(t, 0, 10);
  accept(t, 15, 5);
  EXPECT_EQ(t.counters().gap_frames, 5U);
  EXPECT_EQ(t.counters().missing(), 5U);
}

TEST(SequenceTracker, Duplicate_RejectedAndCounted) {
  SequenceTracker t;
  accept(t, 0, 10);
  EXPECT_TRUE(accept(t, 0, 10).empty());
  EXPECT_EQ(t.counters().duplicates, 10U);
  EXPECT_EQ(t.counters().accepted, 10U);
}

TEST(SequenceTracker, PartialOverlap_OnlyNewFramesAccepted) {
  SequenceTracker t;
  accept(t, 0, 10);
  EXPECT_EQ(accept(t, 5, 10), (std::vector<Range>{{5, 10}}));
  EXPECT_EQ(t.counters().duplicates, 5U);
  EXPECT_EQ(t.counters().accepted, 15U);
}

TEST(SequenceTracker, Reordered_FillsGapAndIsAccepted) {
  SequenceTracker t;
  accept(t, 0, 10);
  accept(t, 20, 10);
  EXPECT_EQ(accept(t, 10, 10), (std::vector<Range>{{0, 10}}));
  EXPECT_EQ(t.counters().reordered, 10U);
  EXPECT_EQ(t.counters().missing(), 0U);
  // ...and sending it once more is a duplicate.
  EXPECT_TRUE(accept(t, 10, 10).empty());
  EXPECT_EQ(t.counters().duplicates, 10U);
}

TEST(SequenceTracker, OlderThanHorizon_CountedTooOld) {
  SequenceTracker t;
  accept(t, 0, 1);
  accept(t, SequenceTracker::kHorizon + 10, 1);
  EXPECT_TRUE(accept(t, 5, 1).empty());
  EXPECT_EQ(t.counters().too_old, 1U);
}

TEST(SequenceTracker, BitmapSlotsReused_AfterLongRun_NoFalseDuplicates) {
  SequenceTracker t;
  constexpr std::uint64_t kRun = 20'500;  // five horizons and then some, in runs of 100
  static_assert(kRun > 5 * SequenceTracker::kHorizon);
  for (std::uint64_t s = 0; s < kRun; s += 100) accept(t, s, 100);
  EXPECT_EQ(t.counters().duplicates, 0U);
  // Skip ahead by less than the horizon, then fill the hole: reordered, not duplicates.
  const std::uint64_t next = kRun;
  accept(t, next + 50, 10);
  EXPECT_EQ(accept(t, next, 50), (std::vector<Range>{{0, 50}}));
  EXPECT_EQ(t.counters().duplicates, 0U);
  EXPECT_EQ(t.counters().reordered, 50U);
}

}  // namespace
}  // namespace sensorgate
