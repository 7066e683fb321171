#include "sensorgate/sim/fault_injector.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace sensorgate::sim {
namespace {

/// Submits `batches` batches of one device and returns the sequence numbers as published.
std::vector<std::uint64_t> run(FaultInjector& injector, std::uint32_t batches) {
  std::vector<std::uint64_t> published;
  std::vector<OutgoingBatch> out;
  for (std::uint32_t b = 0; b < batches; ++b) {
    out.clear();
    injector.submit(OutgoingBatch{0, b * 10ULL, 10, (b + 1) * 1'000'000LL, {}}, b + 1 == batches, out);
    for (const auto& batch : out) published.push_back(batch.first_seq);
  }
  return published;
}

TEST(FaultInjector, NoFaults_EverythingInOrder) {
  FaultInjector injector(FaultOptions{}, {"dev"});
  const auto published = run(injector, 50);
  ASSERT_EQ(published.size(), 50U);
  for (std::size_t i = 0; i < published.size(); ++i) EXPECT_EQ(published[i], i * 10);
}

TEST(FaultInjector, SameSeed_SameFaults) {
  FaultOptions options;
  options.drop_rate = 0.1;
  options.duplicate_rate = 0.1;
  options.reorder_rate = 0.1;
  FaultInjector a(options, {"dev"});
  FaultInjector b(options, {"dev"});
  EXPECT_EQ(run(a, 500), run(b, 500));
}

TEST(FaultInjector, AllFaults_CountsMatchWhatWasPublished) {
  FaultOptions options;
  options.drop_rate = 0.05;
  options.duplicate_rate = 0.05;
  options.reorder_rate = 0.05;
  options.reorder_depth = 2;
  options.delay_rate = 0.05;
  options.delay_ms = 3.0;
  options.burst_rate = 0.01;
  FaultInjector injector(options, {"dev"});
  constexpr std::uint32_t kBatches = 2000;
  const auto published = run(injector, kBatches);
  const auto& counts = injector.counts();
  EXPECT_GT(counts.dropped_frames, 0U);
  EXPECT_GT(counts.duplicated_frames, 0U);
  EXPECT_GT(counts.reordered_frames, 0U);
  EXPECT_GT(counts.delayed_frames, 0U);
  std::map<std::uint64_t, int> seen;
  for (auto seq : published) ++seen[seq];
  std::uint64_t duplicated = 0;
  for (const auto& [seq, n] : seen) duplicated += (n - 1) * 10ULL;
  EXPECT_EQ(duplicated, counts.duplicated_frames);
  EXPECT_EQ(std::uint64_t{kBatches} * 10 - seen.size() * 10, counts.dropped_frames);
  // Every held batch arrives after a newer one: a receiver sees it as reordered.
  std::uint64_t out_of_order = 0;
  std::uint64_t highest = 0;
  for (std::size_t i = 0; i < published.size(); ++i) {
    if (i > 0 && published[i] < highest) out_of_order += 10;
    highest = std::max(highest, published[i]);
  }
  EXPECT_EQ(out_of_order, counts.reordered_frames + counts.delayed_frames);
  // The first and the last batch are never faulted.
  EXPECT_EQ(published.front(), 0U);
  EXPECT_EQ(seen[(kBatches - 1) * 10ULL], 1);
}

}  // namespace
}  // namespace sensorgate::sim
