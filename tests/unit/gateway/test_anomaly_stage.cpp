#include "sensorgate/gateway/anomaly_stage.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace sensorgate {
namespace {

constexpr std::uint16_t kChannels = 4;
constexpr std::int64_t kSecond = 1'000'000'000;

/// A window of plausible EEG statistics; `gain` scales every amplitude (an anomaly when
/// far from 1) on channel `channel` (every channel when negative).
ClosedWindow make_window(std::int64_t index, std::mt19937& rng, double gain = 1.0, int channel = -1) {
  std::normal_distribution<double> jitter(1.0, 0.05);
  ClosedWindow w;
  w.start_ns = index * kSecond;
  w.end_ns = w.start_ns + kSecond;
  for (int c = 0; c < kChannels; ++c) {
    const double g = (channel < 0 || channel == c) ? gain : 1.0;
    const double sd = 20.0 * g * jitter(rng);
    kernels::Moments m;
    m.count = 256;
    m.mean = 0.0;
    m.m2 = sd * sd * 256.0;
    m.min = static_cast<float>(-3.0 * sd);
    m.max = static_cast<float>(3.0 * sd);
    w.channels.push_back(m);
    kernels::BandPowers b{};
    for (std::size_t i = 0; i < b.size(); ++i)
      b[i] = static_cast<float>(g * g * 100.0 / (1.0 + static_cast<double>(i)) * jitter(rng));
    w.bands.push_back(b);
    w.line_length.push_back(static_cast<float>(5.0 * g * jitter(rng)));
  }
  return w;
}

struct StreamResult {
  std::vector<float> scores;
  std::vector<kernels::AnomalyEvent> events;
};

/// Streams 3 devices × 400 windows (anomalies: device 1 at windows 200-204, ×8 on channel
/// 2; device 2 at 300-301, every channel ×0.01), `per_batch` windows per device per call.
StreamResult stream(const AnomalyOptions& options, std::size_t per_batch) {
  AnomalyStage stage(options);
  std::mt19937 rng(42);
  std::vector<std::vector<ClosedWindow>> all(3);
  for (std::int64_t t = 0; t < 400; ++t) {
    for (std::uint32_t d = 0; d < 3; ++d) {
      double gain = 1.0;
      int channel = -1;
      if (d == 1 && t >= 200 && t < 205) {
        gain = 8.0;
        channel = 2;
      }
      if (d == 2 && (t == 300 || t == 301)) gain = 0.01;
      all[d].push_back(make_window(t, rng, gain, channel));
    }
  }
  StreamResult run;
  for (std::size_t t0 = 0; t0 < 400; t0 += per_batch) {
    std::vector<ScoringInput> batch;
    for (std::uint32_t d = 0; d < 3; ++d) {
      for (std::size_t t = t0; t < std::min<std::size_t>(400, t0 + per_batch); ++t) batch.push_back({d, &all[d][t]});
    }
    std::vector<float> scores(batch.size());
    stage.process(batch, scores, run.events);
    run.scores.insert(run.scores.end(), scores.begin(), scores.end());
  }
  stage.flush(run.events);
  return run;
}

AnomalyOptions options_for(ScoreMethod method) {
  AnomalyOptions o;
  o.enabled = true;
  o.method = method;
  o.clusters = 4;
  o.neighbours = 5;
  o.warmup_windows = 50;
  return o;
}

TEST(AnomalyStage, Process_PlantedAnomalies_EventsOnTheRightDevicesAndChannels) {
  for (const auto method : {ScoreMethod::kKMeans, ScoreMethod::kKthDistance, ScoreMethod::kLof}) {
    const StreamResult run = stream(options_for(method), 10);
    std::vector<const kernels::AnomalyEvent*> closed;
    for (const auto& e : run.events) {
      if (!e.ongoing) closed.push_back(&e);
    }
    ASSERT_EQ(closed.size(), 2U) << "method " << static_cast<int>(method);
    EXPECT_EQ(closed[0]->device_index, 1U);
    EXPECT_EQ(closed[0]->start_ns, 200 * kSecond);
    EXPECT_EQ(closed[0]->end_ns, 205 * kSecond);
    ASSERT_FALSE(closed[0]->channels.empty());
    EXPECT_EQ(closed[0]->channels.front(), 2U);
    EXPECT_EQ(closed[1]->device_index, 2U);
    EXPECT_EQ(closed[1]->start_ns, 300 * kSecond);
    EXPECT_EQ(closed[1]->end_ns, 302 * kSecond);
  }
}

TEST(AnomalyStage, Process_WarmupWindows_AreNotScored) {
  const StreamResult run = stream(options_for(ScoreMethod::kKMeans), 10);
  // Batch 0 holds windows 0-9 of each device: all within the 50-window warm-up.
  for (std::size_t i = 0; i < 30; ++i) EXPECT_TRUE(std::isnan(run.scores[i])) << i;
  std::size_t scored = 0;
  for (const float s : run.scores) scored += std::isfinite(s) ? 1 : 0;
  EXPECT_GT(scored, 3U * 300U);
}

// Issue #4 item 3: the primary backend fails mid-stream; every window is still scored, with
// the same scores, and every event is still reported.
TEST(AnomalyStage, Process_BackendFailsMidStream_NoWindowOrEventLost) {
  for (const auto method : {ScoreMethod::kKMeans, ScoreMethod::kLof}) {
    AnomalyOptions failing = options_for(method);
    failing.failover = kernels::FailoverOptions{.retry_after_searches = 5, .fail_primary_after = 12};
    const StreamResult expected = stream(options_for(method), 10);
    const StreamResult got = stream(failing, 10);
    ASSERT_EQ(got.scores.size(), expected.scores.size());
    for (std::size_t i = 0; i < got.scores.size(); ++i) {
      if (std::isnan(expected.scores[i])) {
        EXPECT_TRUE(std::isnan(got.scores[i])) << i;
      } else {
        EXPECT_EQ(got.scores[i], expected.scores[i]) << i;
      }
    }
    ASSERT_EQ(got.events.size(), expected.events.size());
    for (std::size_t i = 0; i < got.events.size(); ++i) {
      EXPECT_EQ(got.events[i].start_ns, expected.events[i].start_ns);
      EXPECT_EQ(got.events[i].end_ns, expected.events[i].end_ns);
      EXPECT_EQ(got.events[i].device_index, expected.events[i].device_index);
    }
  }
}

TEST(AnomalyStage, Construct_BadOptions_Throw) {
  AnomalyOptions o = options_for(ScoreMethod::kKMeans);
  o.exit_threshold = o.enter_threshold + 1;
  EXPECT_THROW(AnomalyStage{o}, std::invalid_argument);
  o = options_for(ScoreMethod::kLof);
  o.neighbours = 0;
  EXPECT_THROW(AnomalyStage{o}, std::invalid_argument);
  o = options_for(ScoreMethod::kKMeans);
  o.backend = "quantum";
  EXPECT_THROW(AnomalyStage{o}, std::invalid_argument);
}

TEST(AnomalyStage, Process_WindowWithoutBandPowers_CountedUnscorable) {
  AnomalyStage stage(options_for(ScoreMethod::kKMeans));
  std::mt19937 rng(1);
  ClosedWindow w = make_window(0, rng);
  w.bands.clear();
  std::vector<ScoringInput> batch{{0, &w}};
  std::vector<float> scores(1);
  std::vector<kernels::AnomalyEvent> events;
  stage.process(batch, scores, events);
  EXPECT_TRUE(std::isnan(scores[0]));
  EXPECT_EQ(stage.counters().unscorable.load(), 1U);
}

}  // namespace
}  // namespace sensorgate
