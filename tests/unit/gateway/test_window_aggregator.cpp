#include "sensorgate/gateway/window_aggregator.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "sensorgate/testing/reference_stats.hpp"

namespace sensorgate {
namespace {

constexpr std::int64_t kPeriodNs = 3'906'250;  // 256 Hz
constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kStart = 1'700'000'000 * kSecond;

/// Feeds frame-major `samples` as chunks of `per_chunk` frames, numbered from `first_seq`.
class Feeder {
 public:
  Feeder(WindowAggregator& agg, std::uint16_t channels) : agg_(agg), channels_(channels) {}

  void feed(const std::vector<float>& samples, std::uint64_t first_frame, std::uint32_t frames,
            std::uint32_t per_chunk) {
    for (std::uint32_t done = 0; done < frames; done += per_chunk) {
      FrameChunk chunk;
      const std::uint32_t n = std::min(per_chunk, frames - done);
      chunk.first_seq = first_frame + done;
      chunk.first_time_ns = kStart + static_cast<std::int64_t>(first_frame + done) * kPeriodNs;
      chunk.sample_period_ns = static_cast<double>(kPeriodNs);
      chunk.channels = channels_;
      chunk.frames = static_cast<std::uint16_t>(n);
      std::copy_n(samples.begin() + static_cast<std::ptrdiff_t>((first_frame + done) * channels_), n * channels_,
                  chunk.samples.begin());
      MomentsPlan plan;
      agg_.plan(chunk, 0, n, plan);
      std::vector<kernels::Moments> results(plan.outputs);
      kernels::make_cpu_moments_backend()->compute(plan.jobs, results);
      plan.merge(results);
      agg_.close_ready(closed);
    }
  }

  std::vector<ClosedWindow> closed;

 private:
  WindowAggregator& agg_;
  std::uint16_t channels_;
};

std::vector<float> signal(std::size_t frames, std::uint16_t channels, double offset, double spread) {
  std::mt19937 rng(9);
  std::normal_distribution<double> noise(offset, spread);
  std::vector<float> out(frames * channels);
  for (auto& x : out) x = static_cast<float>(noise(rng));
  return out;
}

void expect_window_equals_reference(const ClosedWindow& w, const std::vector<float>& samples, std::uint16_t channels,
                                    double rel) {
  const auto first = static_cast<std::size_t>((w.start_ns - kStart) / kPeriodNs);
  const auto frames = static_cast<std::size_t>((w.end_ns - w.start_ns) / kPeriodNs);
  std::span<const float> slice(samples.data() + first * channels, frames * channels);
  for (std::uint16_t c = 0; c < channels; ++c) {
    const auto ref = testing::reference_stats(slice, channels, c);
    const auto& m = w.channels[c];
    EXPECT_EQ(m.count, ref.count);
    EXPECT_EQ(m.min, static_cast<float>(ref.min));
    EXPECT_EQ(m.max, static_cast<float>(ref.max));
    EXPECT_TRUE(testing::close(m.mean, ref.mean, rel)) << m.mean << " vs " << ref.mean;
    EXPECT_TRUE(testing::close(m.variance(), ref.variance, rel)) << m.variance() << " vs " << ref.variance;
  }
}

TEST(WindowAggregator, TumblingOneSecond_ChunksStraddleBoundaries_WindowsMatchReference) {
  constexpr std::uint16_t kChannels = 16;
  const auto samples = signal(std::size_t{256} * 5, kChannels, 0.0, 25.0);
  WindowAggregator agg({kSecond, 0}, kChannels);
  Feeder feeder(agg, kChannels);
  feeder.feed(samples, 0, 256 * 5, 13);  // 13 does not divide 256: chunks straddle windows
  agg.close_all(feeder.closed);
  ASSERT_EQ(feeder.closed.size(), 5U);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(feeder.closed[i].start_ns, kStart + static_cast<std::int64_t>(i) * kSecond);
    expect_window_equals_reference(feeder.closed[i], samples, kChannels, 1e-9);
  }
}

TEST(WindowAggregator, HugeOffsetTinySpread_VarianceStillAccurate) {
  constexpr std::uint16_t kChannels = 2;
  const auto samples = signal(std::size_t{256} * 2, kChannels, 1e6, 0.05);
  WindowAggregator agg({kSecond, 0}, kChannels);
  Feeder feeder(agg, kChannels);
  feeder.feed(samples, 0, 512, 16);
  agg.close_all(feeder.closed);
  ASSERT_EQ(feeder.closed.size(), 2U);
  for (const auto& w : feeder.closed) expect_window_equals_reference(w, samples, kChannels, 1e-5);
}

TEST(WindowAggregator, Watermark_ClosesWindowOnlyAfterLateness) {
  constexpr std::uint16_t kChannels = 1;
  const auto samples = signal(std::size_t{256} * 3, kChannels, 0, 1);
  WindowAggregator agg({kSecond, 250'000'000}, kChannels);
  Feeder feeder(agg, kChannels);
  feeder.feed(samples, 0, 256 + 32, 16);  // 125 ms into the second window
  EXPECT_TRUE(feeder.closed.empty()) << "lateness 250 ms keeps window 0 open";
  feeder.feed(samples, 256 + 32, 64, 16);  // 375 ms in: watermark passes 1 s
  ASSERT_EQ(feeder.closed.size(), 1U);
  EXPECT_EQ(feeder.closed[0].start_ns, kStart);
}

TEST(WindowAggregator, FrameForClosedWindow_CountedLateAndDropped) {
  constexpr std::uint16_t kChannels = 1;
  const auto samples = signal(std::size_t{256} * 3, kChannels, 0, 1);
  WindowAggregator agg({kSecond, 0}, kChannels);
  Feeder feeder(agg, kChannels);
  feeder.feed(samples, 0, 256 + 16, 16);
  ASSERT_EQ(feeder.closed.size(), 1U);
  feeder.feed(samples, 100, 16, 16);  // belongs to the closed first window
  EXPECT_EQ(agg.late_frames(), 16U);
  agg.close_all(feeder.closed);
  ASSERT_EQ(feeder.closed.size(), 2U);
  EXPECT_EQ(feeder.closed[0].channels[0].count, 256U);
  EXPECT_EQ(feeder.closed[1].channels[0].count, 16U);
}

TEST(WindowAggregator, OutOfOrderWithinLateness_LandsInRightWindow) {
  constexpr std::uint16_t kChannels = 1;
  const auto samples = signal(std::size_t{256} * 2, kChannels, 0, 1);
  WindowAggregator agg({kSecond, 500'000'000}, kChannels);
  Feeder feeder(agg, kChannels);
  feeder.feed(samples, 0, 200, 16);
  feeder.feed(samples, 240, 60, 16);  // skip 200..239, reach 300 (< 1 s + 500 ms)
  feeder.feed(samples, 200, 40, 16);  // the skipped frames arrive late but within lateness
  agg.close_all(feeder.closed);
  ASSERT_EQ(feeder.closed.size(), 2U);
  EXPECT_EQ(feeder.closed[0].channels[0].count, 256U);
  expect_window_equals_reference(feeder.closed[0], samples, kChannels, 1e-9);
  EXPECT_EQ(agg.late_frames(), 0U);
}

}  // namespace
}  // namespace sensorgate
