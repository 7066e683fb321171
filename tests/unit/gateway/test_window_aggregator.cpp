#include "sensorgate/gateway/window_aggregator.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "sensorgate/testing/reference_stats.hpp"

namespace sensorgate {
namespace {

constexpr double kRate = 256.0;
constexpr std::size_t kFramesPerSecond = 256;
constexpr std::int64_t kPeriodNs = 3'906'250;  // 256 Hz
constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kStart = 1'700'000'000 * kSecond;
/// Frames the harness may plan between two closes (as a worker tick of 64 chunks of 16 frames).
constexpr std::size_t kMaxFramesBetweenCloses = 1024;

/// Drives one aggregator like a worker does: chunks -> clock -> plan -> CPU backend -> merge -> close.
class Harness {
 public:
  Harness(WindowSpec spec, std::uint16_t channels, std::vector<float> samples)
      : spec_(std::move(spec)),
        channels_(channels),
        samples_(std::move(samples)),
        agg_(spec_, channels, kRate, kMaxFramesBetweenCloses) {}

  /// Feeds frames [first, first + count) in chunks of `per_chunk` frames, closing ready
  /// windows after every `chunks_per_close` chunks (a worker draining a backlog).
  void feed(std::uint64_t first, std::uint32_t count, std::uint32_t per_chunk = 16,
            std::uint32_t chunks_per_close = 1) {
    std::uint32_t planned_chunks = 0;
    for (std::uint32_t done = 0; done < count; done += per_chunk) {
      FrameChunk chunk;
      const std::uint32_t n = std::min(per_chunk, count - done);
      chunk.first_seq = first + done;
      chunk.first_time_ns = kStart + static_cast<std::int64_t>(chunk.first_seq) * kPeriodNs;
      chunk.channels = channels_;
      chunk.frames = static_cast<std::uint16_t>(n);
      std::copy_n(samples_.begin() + static_cast<std::ptrdiff_t>(chunk.first_seq * channels_), n * channels_,
                  chunk.samples.begin());
      clock_.observe(chunk.first_seq, chunk.first_time_ns);
      BlockPlan plan;
      agg_.plan(chunk, 0, n, clock_, plan);
      const std::size_t bins = kernels::histogram_bins(spec_.histogram_edges);
      std::vector<kernels::Moments> moments(plan.outputs);
      std::vector<std::uint32_t> histogram(plan.outputs * bins);
      kernels::make_cpu_backend()->compute(plan.jobs, spec_.histogram_edges, moments, histogram);
      plan.merge(moments, histogram, bins);
      if (++planned_chunks % chunks_per_close == 0) agg_.close_ready(clock_, bands_, closed);
    }
    agg_.close_ready(clock_, bands_, closed);
  }
  void close_all() { agg_.close_all(clock_, bands_, closed); }
  [[nodiscard]] const WindowAggregator& aggregator() const { return agg_; }

  /// The samples of [start, end) for channel c, in time order.
  [[nodiscard]] std::vector<float> slice(std::int64_t start, std::int64_t end) const {
    const auto first = static_cast<std::size_t>((start - kStart + kPeriodNs - 1) / kPeriodNs);
    const auto last = static_cast<std::size_t>((end - kStart + kPeriodNs - 1) / kPeriodNs);
    return {samples_.begin() + static_cast<std::ptrdiff_t>(first * channels_),
            samples_.begin() + static_cast<std::ptrdiff_t>(last * channels_)};
  }

  std::vector<ClosedWindow> closed;

 private:
  WindowSpec spec_;
  std::uint16_t channels_;
  std::vector<float> samples_;
  WindowAggregator agg_;
  DeviceClock clock_{kRate};
  kernels::BandPowerCalculator bands_;
};

std::vector<float> noise(std::size_t frames, std::uint16_t channels, double offset, double spread) {
  std::mt19937 rng(9);
  std::normal_distribution<double> dist(offset, spread);
  std::vector<float> out(frames * channels);
  for (auto& x : out) x = static_cast<float>(dist(rng));
  return out;
}

WindowSpec tumbling(std::int64_t lateness_ns = 0) {
  WindowSpec spec;
  spec.allowed_lateness_ns = lateness_ns;
  spec.band_powers = false;
  return spec;
}

void expect_equals_reference(const ClosedWindow& w, const std::vector<float>& slice, std::uint16_t channels,
                             double rel) {
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
  Harness h(tumbling(), kChannels, noise(kFramesPerSecond * 5, kChannels, 0.0, 25.0));
  h.feed(0, 256 * 5, 13);  // 13 does not divide 256: chunks straddle windows
  h.close_all();
  ASSERT_EQ(h.closed.size(), 5U);
  for (std::size_t i = 0; i < 5; ++i) {
    const auto& w = h.closed[i];
    EXPECT_EQ(w.start_ns, kStart + static_cast<std::int64_t>(i) * kSecond);
    EXPECT_EQ(w.revision, 0U);
    expect_equals_reference(w, h.slice(w.start_ns, w.end_ns), kChannels, 1e-9);
  }
}

TEST(WindowAggregator, HugeOffsetTinySpread_VarianceStillAccurate) {
  constexpr std::uint16_t kChannels = 2;
  Harness h(tumbling(), kChannels, noise(kFramesPerSecond * 2, kChannels, 1e6, 0.05));
  h.feed(0, 512);
  h.close_all();
  ASSERT_EQ(h.closed.size(), 2U);
  for (const auto& w : h.closed) expect_equals_reference(w, h.slice(w.start_ns, w.end_ns), kChannels, 1e-5);
}

// Sliding windows are merged from panes; each must equal the same data cut by hand.
TEST(WindowAggregator, SlidingOneSecondEvery250Ms_EachWindowEqualsDataCutByHand) {
  constexpr std::uint16_t kChannels = 3;
  WindowSpec spec = tumbling();
  spec.slide_ns = 250 * kMs;
  Harness h(spec, kChannels, noise(kFramesPerSecond * 4, kChannels, 5.0, 10.0));
  h.feed(0, 256 * 4, 7);
  h.close_all();
  // Windows with data start every 250 ms from -750 ms (containing frame 0) to 3750 ms.
  ASSERT_EQ(h.closed.size(), 19U);
  for (std::size_t i = 0; i < h.closed.size(); ++i) {
    const auto& w = h.closed[i];
    EXPECT_EQ(w.start_ns, kStart - 750 * kMs + static_cast<std::int64_t>(i) * 250 * kMs);
    EXPECT_EQ(w.end_ns - w.start_ns, kSecond);
    const auto slice = h.slice(std::max(w.start_ns, kStart), std::min(w.end_ns, kStart + 4 * kSecond));
    expect_equals_reference(w, slice, kChannels, 1e-9);
  }
}

TEST(WindowAggregator, Watermark_ClosesWindowOnlyAfterLateness) {
  Harness h(tumbling(250 * kMs), 1, noise(kFramesPerSecond * 3, 1, 0, 1));
  h.feed(0, 256 + 32);  // 125 ms into the second window
  EXPECT_TRUE(h.closed.empty()) << "lateness 250 ms keeps window 0 open";
  h.feed(256 + 32, 64);  // 375 ms in: the watermark passes 1 s
  ASSERT_EQ(h.closed.size(), 1U);
  EXPECT_EQ(h.closed[0].start_ns, kStart);
}

TEST(WindowAggregator, DropPolicy_FrameForClosedWindow_CountedLateAndDropped) {
  Harness h(tumbling(), 1, noise(kFramesPerSecond * 3, 1, 0, 1));
  h.feed(0, 256 + 16);
  ASSERT_EQ(h.closed.size(), 1U);
  h.feed(100, 16);  // belongs to the closed first window
  EXPECT_EQ(h.aggregator().late_frames(), 16U);
  h.close_all();
  ASSERT_EQ(h.closed.size(), 2U);
  EXPECT_EQ(h.closed[0].channels[0].count, 256U);
  EXPECT_EQ(h.closed[1].channels[0].count, 16U);
}

TEST(WindowAggregator, OutOfOrderWithinLateness_LandsInRightWindow) {
  Harness h(tumbling(500 * kMs), 1, noise(kFramesPerSecond * 2, 1, 0, 1));
  h.feed(0, 200);
  h.feed(240, 60);  // skip 200..239, reach 300 (< 1 s + 500 ms)
  h.feed(200, 40);  // the skipped frames arrive late but within the lateness
  h.close_all();
  ASSERT_EQ(h.closed.size(), 2U);
  EXPECT_EQ(h.closed[0].channels[0].count, 256U);
  expect_equals_reference(h.closed[0], h.slice(kStart, kStart + kSecond), 1, 1e-9);
  EXPECT_EQ(h.aggregator().late_frames(), 0U);
}

TEST(WindowAggregator, UpdatePolicy_LateFrames_WindowEmittedAgainWithHigherRevision) {
  WindowSpec spec = tumbling();
  spec.late_policy = LatePolicy::kUpdate;
  spec.update_retention_ns = 5 * kSecond;
  Harness h(spec, 1, noise(kFramesPerSecond * 3, 1, 0, 1));
  h.feed(0, 100);
  h.feed(200, 100);  // frames 100..199 missing; window 0 closes with 156 frames
  ASSERT_EQ(h.closed.size(), 1U);
  EXPECT_EQ(h.closed[0].channels[0].count, 156U);
  h.feed(100, 60, 60);  // most of them arrive after the window closed, in one chunk
  ASSERT_EQ(h.closed.size(), 2U);
  EXPECT_EQ(h.closed[1].start_ns, kStart);
  EXPECT_EQ(h.closed[1].revision, 1U);
  EXPECT_EQ(h.closed[1].channels[0].count, 216U);
  h.feed(160, 40, 40);  // the rest: a second correction
  ASSERT_EQ(h.closed.size(), 3U);
  const auto& update = h.closed[2];
  EXPECT_EQ(update.revision, 2U);
  EXPECT_EQ(update.channels[0].count, 256U);
  expect_equals_reference(update, h.slice(kStart, kStart + kSecond), 1, 1e-9);
  EXPECT_EQ(h.aggregator().late_frames(), 100U);
  EXPECT_EQ(h.aggregator().updates_emitted(), 2U);
}

TEST(WindowAggregator, UpdatePolicy_PastRetention_DroppedAsLate) {
  WindowSpec spec = tumbling();
  spec.late_policy = LatePolicy::kUpdate;
  spec.update_retention_ns = kSecond;
  Harness h(spec, 1, noise(kFramesPerSecond * 5, 1, 0, 1));
  h.feed(0, 100);
  h.feed(200, 256 * 4 - 200);  // watermark at ~4 s: window 0 is past its 1 s retention
  const auto emitted = h.closed.size();
  h.feed(100, 50);
  EXPECT_EQ(h.closed.size(), emitted);
  EXPECT_EQ(h.aggregator().late_frames(), 50U);
  EXPECT_EQ(h.aggregator().updates_emitted(), 0U);
}

TEST(WindowAggregator, Histogram_CountsEqualNaiveBinning) {
  WindowSpec spec = tumbling();
  spec.histogram_edges = {-20, -5, 0, 5, 20};
  constexpr std::uint16_t kChannels = 2;
  Harness h(spec, kChannels, noise(256, kChannels, 0, 10));
  h.feed(0, 256, 11);
  h.close_all();
  ASSERT_EQ(h.closed.size(), 1U);
  const auto slice = h.slice(kStart, kStart + kSecond);
  const std::size_t bins = 6;
  ASSERT_EQ(h.closed[0].histogram.size(), kChannels * bins);
  for (std::uint16_t c = 0; c < kChannels; ++c) {
    std::vector<std::uint32_t> naive(bins, 0);
    for (std::size_t f = 0; f < 256; ++f) {
      const float x = slice[f * kChannels + c];
      std::size_t bin = 0;
      while (bin < spec.histogram_edges.size() && x >= spec.histogram_edges[bin]) ++bin;
      ++naive[bin];
    }
    const auto* got = h.closed[0].histogram.data() + c * bins;
    EXPECT_EQ(std::vector<std::uint32_t>(got, got + bins), naive) << "channel " << c;
  }
}

TEST(WindowAggregator, BandPowers_TenHertzSine_AlphaDominates) {
  WindowSpec spec = tumbling();
  spec.band_powers = true;
  std::vector<float> sine(kFramesPerSecond * 2);
  for (std::size_t i = 0; i < sine.size(); ++i) {
    sine[i] = static_cast<float>(30.0 * std::sin(2.0 * std::numbers::pi * 10.0 * static_cast<double>(i) / kRate));
  }
  Harness h(spec, 1, sine);
  h.feed(0, 512);
  h.close_all();
  ASSERT_EQ(h.closed.size(), 2U);
  ASSERT_EQ(h.closed[0].bands.size(), 1U);
  const auto& p = h.closed[0].bands[0];
  double total = 0;
  for (float x : p) total += x;
  EXPECT_GE(p[2] / total, 0.95);
  EXPECT_NEAR(total, 450.0, 25.0);  // A^2 / 2
}

TEST(WindowAggregator, BandPowers_BacklogPlannedBeforeClosing_EveryWindowFromItsOwnSamples) {
  constexpr std::uint16_t kChannels = 4;
  constexpr std::uint32_t kFrames = 256 * 8;
  WindowSpec spec = tumbling();
  spec.band_powers = true;
  Harness h(spec, kChannels, noise(kFrames, kChannels, 5.0, 20.0));
  // 64 chunks of 16 frames (4 s) between closes: the most a worker tick takes.
  h.feed(0, kFrames, 16, 64);
  h.close_all();
  ASSERT_EQ(h.closed.size(), 8U);
  kernels::BandPowerCalculator reference;
  for (const auto& w : h.closed) {
    const auto slice = h.slice(w.start_ns, w.end_ns);
    ASSERT_EQ(w.bands.size(), kChannels);
    for (std::uint16_t c = 0; c < kChannels; ++c) {
      std::vector<float> channel;
      for (std::size_t i = c; i < slice.size(); i += kChannels) channel.push_back(slice[i]);
      const auto expected = reference.compute(channel, kRate);
      for (std::size_t b = 0; b < expected.size(); ++b) {
        EXPECT_TRUE(testing::close(w.bands[c][b], expected[b], 1e-6))
            << "window " << (w.start_ns - kStart) / kSecond << " channel " << c << " band " << b << ": "
            << w.bands[c][b] << " vs " << expected[b];
      }
    }
  }
}

}  // namespace
}  // namespace sensorgate
