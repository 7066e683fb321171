#include "sensorgate/kernels/anomaly_detector.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <vector>

namespace sensorgate::kernels {
namespace {

using Options = AnomalyDetector::Options;

constexpr std::int64_t kWindowNs = 250'000'000;

/// Feeds `scores` as consecutive 250 ms windows (window i starts at i·250 ms), then
/// flushes; returns every event push() and flush() gave.
std::vector<AnomalyEvent> run(AnomalyDetector& detector, const std::vector<double>& scores) {
  std::vector<AnomalyEvent> events;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const auto start = static_cast<std::int64_t>(i) * kWindowNs;
    if (auto e = detector.push({.start_ns = start, .end_ns = start + kWindowNs, .score = scores[i]})) {
      events.push_back(*e);
    }
  }
  if (auto e = detector.flush()) events.push_back(*e);
  return events;
}

std::vector<AnomalyEvent> finals(const std::vector<AnomalyEvent>& events) {
  std::vector<AnomalyEvent> out;
  for (const auto& e : events) {
    if (!e.ongoing) out.push_back(e);
  }
  return out;
}

TEST(AnomalyDetector, Push_BriefSpikeShorterThanMinDuration_NoEvent) {
  AnomalyDetector detector(1, Options{.enter_threshold = 3.0, .exit_threshold = 2.0, .min_duration_windows = 3});
  EXPECT_TRUE(run(detector, {0.5, 1.0, 9.0, 8.0, 1.0, 0.5, 1.0}).empty());
}

TEST(AnomalyDetector, Push_SustainedExcursion_EmitsOngoingThenFinalEvent) {
  AnomalyDetector detector(7, Options{.enter_threshold = 3.0, .exit_threshold = 2.0, .min_duration_windows = 3});
  const auto events = run(detector, {0.5, 4.0, 5.0, 6.0, 4.5, 1.0, 0.5});
  ASSERT_EQ(events.size(), 2U);
  // Confirmed on its third window (index 3), before it ends: the alarm goes out at once.
  EXPECT_TRUE(events[0].ongoing);
  EXPECT_EQ(events[0].start_ns, 1 * kWindowNs);
  EXPECT_EQ(events[0].end_ns, 4 * kWindowNs);
  EXPECT_EQ(events[0].windows, 3U);
  const AnomalyEvent& e = events[1];
  EXPECT_FALSE(e.ongoing);
  EXPECT_EQ(e.device_index, 7U);
  EXPECT_EQ(e.start_ns, 1 * kWindowNs);
  EXPECT_EQ(e.end_ns, 5 * kWindowNs);  // window 4 is the last one at or above the exit threshold
  EXPECT_EQ(e.windows, 4U);
  EXPECT_DOUBLE_EQ(e.peak_score, 6.0);
  EXPECT_EQ(e.peak_window_start_ns, 3 * kWindowNs);
}

TEST(AnomalyDetector, Push_DipAboveExitThreshold_KeepsOneEvent) {
  AnomalyDetector detector(1, Options{.enter_threshold = 3.0, .exit_threshold = 2.0, .min_duration_windows = 2});
  const auto events = finals(run(detector, {4.0, 5.0, 2.5, 2.1, 4.0, 3.5, 0.0}));
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].start_ns, 0);
  EXPECT_EQ(events[0].end_ns, 6 * kWindowNs);
  EXPECT_EQ(events[0].windows, 6U);
}

TEST(AnomalyDetector, Push_DipBelowExitThreshold_SplitsIntoTwoEvents) {
  AnomalyDetector detector(1, Options{.enter_threshold = 3.0, .exit_threshold = 2.0, .min_duration_windows = 2});
  const auto events = finals(run(detector, {4.0, 5.0, 1.9, 4.0, 3.5, 0.0}));
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].end_ns, 2 * kWindowNs);
  EXPECT_EQ(events[1].start_ns, 3 * kWindowNs);
}

TEST(AnomalyDetector, Push_ScoreBetweenThresholdsWhileIdle_OpensNothing) {
  AnomalyDetector detector(1, Options{.enter_threshold = 3.0, .exit_threshold = 2.0, .min_duration_windows = 1});
  EXPECT_TRUE(run(detector, {2.5, 2.9, 2.99, 2.5}).empty());
  EXPECT_FALSE(detector.in_event());
}

TEST(AnomalyDetector, Push_MinDurationOne_SingleWindowIsAnEvent) {
  AnomalyDetector detector(1, Options{.enter_threshold = 3.0, .exit_threshold = 3.0, .min_duration_windows = 1});
  const auto events = finals(run(detector, {0.0, 3.0, 0.0}));
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].windows, 1U);
}

TEST(AnomalyDetector, Push_Contributions_NameTheChannelsLargestAtThePeak) {
  // Two features per channel, four channels.
  AnomalyDetector detector(1, Options{.enter_threshold = 3.0,
                                      .exit_threshold = 2.0,
                                      .min_duration_windows = 1,
                                      .features_per_channel = 2,
                                      .max_channels = 2});
  // Before the peak channel 0 dominates; at the peak channel 1 (4 + 4) then channel 3 (1 + 5).
  const std::vector<float> early{9, 9, 0, 0, 0, 0, 0, 0};
  const std::vector<float> peak{0, 1, 4, 4, 0, 0, 1, 5};
  (void)detector.push({.start_ns = 0, .end_ns = 1, .score = 4.0, .contributions = early});
  (void)detector.push({.start_ns = 1, .end_ns = 2, .score = 7.0, .contributions = peak});
  const auto e = detector.push({.start_ns = 2, .end_ns = 3, .score = 0.0});
  ASSERT_TRUE(e.has_value());
  EXPECT_DOUBLE_EQ(e->peak_score, 7.0);
  EXPECT_EQ(e->channels, (std::vector<std::uint16_t>{1, 3}));
}

TEST(AnomalyDetector, Push_NonFiniteScore_IgnoredAndCounted) {
  AnomalyDetector detector(1, Options{.enter_threshold = 3.0, .exit_threshold = 2.0, .min_duration_windows = 2});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto events = finals(run(detector, {4.0, nan, 4.0, 0.0}));
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].windows, 2U);
  EXPECT_EQ(detector.ignored_windows(), 1U);
}

TEST(AnomalyDetector, Flush_OpenEvents_ClosesConfirmedDropsUnconfirmed) {
  AnomalyDetector confirmed(1, Options{.min_duration_windows = 2});
  (void)confirmed.push({.start_ns = 0, .end_ns = 10, .score = 5.0});
  (void)confirmed.push({.start_ns = 10, .end_ns = 20, .score = 5.0});
  const auto e = confirmed.flush();
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->ongoing);
  EXPECT_EQ(e->end_ns, 20);
  EXPECT_FALSE(confirmed.in_event());

  AnomalyDetector unconfirmed(1, Options{.min_duration_windows = 2});
  (void)unconfirmed.push({.start_ns = 0, .end_ns = 10, .score = 5.0});
  EXPECT_FALSE(unconfirmed.flush().has_value());
}

TEST(AnomalyDetector, Constructor_BadOptions_Throw) {
  EXPECT_THROW(AnomalyDetector(1, Options{.enter_threshold = 2.0, .exit_threshold = 3.0}), std::invalid_argument);
  EXPECT_THROW(AnomalyDetector(1, Options{.min_duration_windows = 0}), std::invalid_argument);
  EXPECT_THROW(AnomalyDetector(1, Options{.features_per_channel = 0}), std::invalid_argument);
  EXPECT_THROW(AnomalyDetector(1, Options{.enter_threshold = std::nan("")}), std::invalid_argument);
}

}  // namespace
}  // namespace sensorgate::kernels
