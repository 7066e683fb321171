#include "sensorgate/common/stage_metrics.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sensorgate/common/prometheus_text.hpp"

namespace sensorgate {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(LatencyHistogram, Quantile_UniformInOneBucket_InterpolatesInsideIt) {
  LatencyHistogram h;
  for (int i = 0; i < 100; ++i) h.record(microseconds(150));  // bucket (100 µs, 200 µs]
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, 100U);
  EXPECT_NEAR(s.sum_seconds, 0.015, 1e-12);
  EXPECT_NEAR(s.mean(), 150e-6, 1e-12);
  EXPECT_GT(s.quantile(0.5), 100e-6);
  EXPECT_LE(s.quantile(0.99), 200e-6);
}

TEST(LatencyHistogram, Quantile_TwoPopulations_SeparatesMedianAndTail) {
  LatencyHistogram h;
  for (int i = 0; i < 98; ++i) h.record(microseconds(3));
  for (int i = 0; i < 2; ++i) h.record(milliseconds(300));
  const auto s = h.snapshot();
  EXPECT_LE(s.quantile(0.5), 5e-6);
  EXPECT_GT(s.quantile(0.99), 0.2);
  EXPECT_LE(s.quantile(0.99), 0.5);
}

TEST(LatencyHistogram, Record_BeyondLastBound_CountsInInfBucket) {
  LatencyHistogram h;
  h.record(std::chrono::seconds(60));
  h.record(std::chrono::nanoseconds(-5));  // a clock step backwards counts as zero
  const auto s = h.snapshot();
  EXPECT_EQ(s.counts.back(), 1U);
  EXPECT_EQ(s.counts.front(), 1U);
  EXPECT_EQ(s.quantile(1.0), 10.0);
  EXPECT_EQ(LatencyHistogram::Snapshot{}.quantile(0.5), 0.0);
}

TEST(StageMetrics, RecordBatch_WithTransfer_SplitsComputeAndTransfer) {
  StageMetrics stage("window_stats", "frames");
  stage.record_batch(milliseconds(10), 256, milliseconds(4));
  stage.record_batch(milliseconds(2), 128, milliseconds(5));  // transfer capped at the run time
  stage.add_io(2, 4096);
  stage.record_queue_wait(milliseconds(3));
  const auto s = stage.snapshot();
  EXPECT_EQ(s.batches, 2U);
  EXPECT_EQ(s.items, 384U);
  EXPECT_NEAR(s.compute_seconds, 0.006, 1e-9);
  EXPECT_NEAR(s.transfer_seconds, 0.006, 1e-9);
  EXPECT_NEAR(s.scheduling_delay_seconds(), 0.003, 1e-9);
  EXPECT_EQ(s.io_operations, 2U);
  EXPECT_EQ(s.io_bytes, 4096U);
}

TEST(StageMetrics, MergeStages_SameName_AddsCountersHistogramsAndDrops) {
  StageMetrics a("window_stats", "frames");
  StageMetrics b("window_stats", "frames");
  StageMetrics c("uplink", "messages");
  a.record_batch(milliseconds(1), 10);
  b.record_batch(milliseconds(1), 20);
  auto sa = a.snapshot();
  sa.drops = {{"late_frames", 1}};
  auto sb = b.snapshot();
  sb.drops = {{"late_frames", 2}, {"missing_frames", 3}};
  const auto merged = merge_stages({sa, c.snapshot(), sb});
  ASSERT_EQ(merged.size(), 2U);
  EXPECT_EQ(merged[0].name, "window_stats");
  EXPECT_EQ(merged[0].items, 30U);
  EXPECT_EQ(merged[0].run.count, 2U);
  ASSERT_EQ(merged[0].drops.size(), 2U);
  EXPECT_EQ(merged[0].drops[0].second, 3U);
  EXPECT_EQ(merged[0].drops[1].second, 3U);
  EXPECT_EQ(merged[1].name, "uplink");
}

TEST(StageMetrics, ToJson_Stage_HasTheDocumentedFields) {
  StageMetrics stage("store", "messages");
  stage.record_batch(microseconds(40), 7);
  const auto j = to_json(stage.snapshot());
  for (const auto* key : {"name", "item_unit", "batches", "items", "run_seconds", "run_histogram", "queue_wait_seconds",
                          "scheduling_delay_seconds_total", "compute_seconds_total", "transfer_seconds_total",
                          "io_operations", "io_bytes", "drops", "spill_bytes"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["run_histogram"]["le"].back(), "+Inf");
  EXPECT_EQ(j["run_histogram"]["counts"].back(), 1);  // cumulative: the last is the total
}

TEST(PrometheusText, Str_SamplesAddedInterleaved_GroupedByFamilyWithOneHelpAndType) {
  PrometheusText out("sensorgate_test_");
  out.counter("a_total", "first", 1, {{"device", "x"}});
  out.gauge("b", "second", 2);
  out.counter("a_total", "first", 3, {{"device", R"(y"z\)"}});
  const auto text = out.str();
  EXPECT_EQ(text,
            "# HELP sensorgate_test_a_total first\n# TYPE sensorgate_test_a_total counter\n"
            "sensorgate_test_a_total{device=\"x\"} 1\nsensorgate_test_a_total{device=\"y\\\"z\\\\\"} 3\n"
            "# HELP sensorgate_test_b second\n# TYPE sensorgate_test_b gauge\nsensorgate_test_b 2\n");
}

TEST(PrometheusText, Histogram_Cumulative_InfBucketEqualsCount) {
  LatencyHistogram h;
  h.record(microseconds(1));
  h.record(milliseconds(1));
  h.record(std::chrono::seconds(20));
  PrometheusText out("p_");
  out.histogram("run_seconds", "run", h.snapshot(), {{"stage", "s"}});
  const auto text = out.str();
  EXPECT_NE(text.find("p_run_seconds_bucket{stage=\"s\",le=\"1e-06\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("p_run_seconds_bucket{stage=\"s\",le=\"0.001\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("p_run_seconds_bucket{stage=\"s\",le=\"10\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("p_run_seconds_bucket{stage=\"s\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("p_run_seconds_count{stage=\"s\"} 3\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace sensorgate
