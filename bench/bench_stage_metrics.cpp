// What the stage instrumentation costs per recording (docs/observability.md#overhead): one
// timed batch (StageTimer: two steady_clock reads, a histogram bucket, five counters) and
// one queue-wait recording, on one thread as in the pipeline. The ingest stage records one
// batch per MQTT message (32 frames x 16 channels by default) and the worker one per tick,
// so the per-sample cost is these figures divided by hundreds of samples.
#include <benchmark/benchmark.h>

#include <chrono>

#include "sensorgate/common/stage_metrics.hpp"

namespace {

void BM_StageTimerBatch(benchmark::State& state) {
  sensorgate::StageMetrics stage("ingest_decode", "frames");
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): Google Benchmark's loop idiom
    sensorgate::StageTimer timer(stage);
    timer.finish(32);
    stage.add_io(1, 2100);
  }
  benchmark::DoNotOptimize(stage.snapshot().batches);
}
BENCHMARK(BM_StageTimerBatch);

void BM_QueueWait(benchmark::State& state) {
  sensorgate::StageMetrics stage("ring_handoff", "chunks");
  std::int64_t wait_ns = 1;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): Google Benchmark's loop idiom
    stage.record_queue_wait(std::chrono::nanoseconds(wait_ns));
    stage.add_items(2);
    wait_ns = (wait_ns * 7) % 100'000'007;  // spread over the buckets
  }
  benchmark::DoNotOptimize(stage.snapshot().items);
}
BENCHMARK(BM_QueueWait);

}  // namespace

BENCHMARK_MAIN();
