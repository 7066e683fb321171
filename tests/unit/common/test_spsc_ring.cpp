#include "sensorgate/common/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <numeric>
#include <thread>
#include <vector>

namespace sensorgate {
namespace {

TEST(SpscRing, Construct_NonPowerOfTwo_Throws) {
  EXPECT_THROW(SpscRing<int>(3), std::invalid_argument);
  EXPECT_THROW(SpscRing<int>(0), std::invalid_argument);
  EXPECT_THROW(SpscRing<int>(1), std::invalid_argument);
  EXPECT_NO_THROW(SpscRing<int>(2));
}

TEST(SpscRing, PushPop_FillToCapacity_RefusesOneMore) {
  SpscRing<int> ring(4);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(ring.try_push(i));
  EXPECT_FALSE(ring.try_push(99));
  EXPECT_EQ(ring.size(), 4U);
  int out = -1;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(ring.try_pop(out));
    EXPECT_EQ(out, i);
  }
  EXPECT_FALSE(ring.try_pop(out));
  EXPECT_EQ(ring.size(), 0U);
}

TEST(SpscRing, Spans_WrapAround_SplitIntoTwoContiguousRegions) {
  SpscRing<int> ring(8);
  std::array<int, 6> first{0, 1, 2, 3, 4, 5};
  EXPECT_EQ(ring.push_span(first), 6U);
  std::array<int, 4> out{};
  EXPECT_EQ(ring.pop_span(out), 4U);  // head at 4, tail at 6
  // 6 free slots, but only 2 contiguous before the end of storage.
  auto w = ring.acquire_write();
  EXPECT_EQ(w.size(), 2U);
  std::array<int, 6> second{6, 7, 8, 9, 10, 11};
  EXPECT_EQ(ring.push_span(second), 6U);  // wraps
  EXPECT_FALSE(ring.try_push(12));
  auto r = ring.acquire_read();
  EXPECT_EQ(r.size(), 4U);  // 4..7 up to the end of storage
  EXPECT_EQ(r[0], 4);
  std::vector<int> all(8);
  EXPECT_EQ(ring.pop_span(all), 8U);
  std::vector<int> expected(8);
  std::iota(expected.begin(), expected.end(), 4);
  EXPECT_EQ(all, expected);
}

TEST(SpscRing, AcquireWrite_CommitPartial_OnlyCommittedVisible) {
  SpscRing<int> ring(4);
  auto w = ring.acquire_write();
  ASSERT_EQ(w.size(), 4U);
  w[0] = 7;
  w[1] = 8;
  ring.commit_write(1);
  auto r = ring.acquire_read();
  ASSERT_EQ(r.size(), 1U);
  EXPECT_EQ(r[0], 7);
  ring.release_read(1);
  EXPECT_TRUE(ring.acquire_read().empty());
}

TEST(SpscRing, MoveOnlyishPayload_VectorsKeepTheirContents) {
  SpscRing<std::vector<int>> ring(2);
  EXPECT_TRUE(ring.try_push(std::vector<int>{1, 2, 3}));
  std::vector<int> out;
  ASSERT_TRUE(ring.try_pop(out));
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
}

// Two threads, small ring so both full and empty states are hit constantly; the consumer
// checks that it sees every value exactly once, in order. Runs under ThreadSanitizer in CI.
TEST(SpscRing, TwoThreads_MixedSpanAndSingleTransfers_EveryItemOnceInOrder) {
  constexpr std::uint64_t kItems = 2'000'000;
  SpscRing<std::uint64_t> ring(64);
  std::thread producer([&] {
    std::uint64_t next = 0;
    std::array<std::uint64_t, 7> batch{};
    while (next < kItems) {
      if (next % 3 == 0) {
        const auto n = std::min<std::uint64_t>(batch.size(), kItems - next);
        for (std::uint64_t i = 0; i < n; ++i) batch[i] = next + i;
        next += ring.push_span(std::span<const std::uint64_t>(batch.data(), n));
      } else if (ring.try_push(next)) {
        ++next;
      }
    }
  });
  std::uint64_t expected = 0;
  bool in_order = true;
  std::array<std::uint64_t, 5> out{};
  while (expected < kItems) {
    auto span = ring.acquire_read();
    if (!span.empty() && expected % 2 == 0) {
      for (auto v : span) in_order &= (v == expected++);
      ring.release_read(span.size());
      continue;
    }
    const auto n = ring.pop_span(out);
    for (std::size_t i = 0; i < n; ++i) in_order &= (out[i] == expected++);
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(expected, kItems);
  EXPECT_EQ(ring.size(), 0U);
}

}  // namespace
}  // namespace sensorgate
