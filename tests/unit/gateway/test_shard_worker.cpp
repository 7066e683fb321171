// IngestSink and ShardWorker together, on real threads: the ring-full policies.
#include "sensorgate/gateway/shard_worker.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <variant>

#include "sensorgate/gateway/ingest_sink.hpp"

namespace sensorgate {
namespace {

using namespace std::chrono_literals;

constexpr std::uint16_t kChannels = 16;
constexpr std::uint32_t kFramesPerBatch = 16;  // one FrameChunk per batch
constexpr std::uint32_t kBatches = 100;
constexpr std::int64_t kStart = 1'700'000'000'000'000'000;

/// The CPU backend, made slow so the producer outruns the worker (timing only; the
/// statistics are the real CPU ones).
class SlowCpuBackend final : public kernels::BlockStatsBackend {
 public:
  [[nodiscard]] std::string_view name() const override { return "slow-cpu"; }
  void compute(std::span<const kernels::BlockJob> jobs, std::span<const float> edges,
               std::span<kernels::Moments> moments, std::span<std::uint32_t> histogram) override {
    std::this_thread::sleep_for(3ms);
    cpu_->compute(jobs, edges, moments, histogram);
  }

 private:
  std::unique_ptr<kernels::BlockStatsBackend> cpu_ = kernels::make_cpu_backend();
};

struct Outcome {
  std::uint64_t windowed_frames = 0;
  std::int64_t newest_window_end = 0;
  std::uint64_t dropped = 0;
  std::uint64_t ring_full_waits = 0;
};

Outcome run(FullPolicy policy) {
  DeviceRegistry registry(4, 8);
  std::atomic<bool> ingest_stopping{false};
  IngestSink sink(registry, policy, ingest_stopping);
  uplink::UplinkRing output(1024);
  WorkerOptions options;
  options.windows.band_powers = false;
  ShardWorker worker(0, 1, registry, options, std::make_unique<SlowCpuBackend>(), output);
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> deadline{INT64_MAX};
  std::thread thread([&] { worker.run(stop, deadline); });

  std::vector<float> samples(static_cast<std::size_t>(kFramesPerBatch) * kChannels, 1.0F);
  for (std::uint32_t b = 0; b < kBatches; ++b) {
    DecodedBatch batch;
    batch.device_id = "dev";
    batch.first_seq = static_cast<std::uint64_t>(b) * kFramesPerBatch;
    batch.first_time_ns = kStart + static_cast<std::int64_t>(batch.first_seq) * 3'906'250;
    batch.sample_rate_hz = 256.0;
    batch.channels = kChannels;
    batch.samples = samples;
    sink.push(batch);
  }
  stop = true;
  thread.join();

  Outcome outcome;
  uplink::UplinkRecord item;
  while (output.try_pop(item)) {
    const auto& record = std::get<uplink::WindowSummaryRecord>(item);
    outcome.windowed_frames += record.channels[0].count;
    outcome.newest_window_end = std::max(outcome.newest_window_end, record.window_end_ns);
  }
  outcome.dropped = worker.counters().frames_dropped_oldest.load();
  outcome.ring_full_waits = sink.counters().ring_full_waits.load();
  return outcome;
}

TEST(ShardWorker, BlockPolicy_ProducerOutrunsWorker_EveryFrameWindowed) {
  const auto outcome = run(FullPolicy::kBlock);
  EXPECT_GT(outcome.ring_full_waits, 0U) << "the test must actually fill the ring";
  EXPECT_EQ(outcome.dropped, 0U);
  EXPECT_EQ(outcome.windowed_frames, std::uint64_t{kBatches} * kFramesPerBatch);
}

TEST(ShardWorker, DropOldestPolicy_ProducerOutrunsWorker_DroppedPlusWindowedIsEverythingAndNewestKept) {
  const auto outcome = run(FullPolicy::kDropOldest);
  EXPECT_GT(outcome.ring_full_waits, 0U);
  EXPECT_GT(outcome.dropped, 0U);
  EXPECT_EQ(outcome.windowed_frames + outcome.dropped, std::uint64_t{kBatches} * kFramesPerBatch);
  // The newest frames survive: the window holding the last frame was emitted.
  const std::int64_t last_frame_time = kStart + std::int64_t{kBatches * kFramesPerBatch - 1} * 3'906'250;
  EXPECT_GT(outcome.newest_window_end, last_frame_time);
}

}  // namespace
}  // namespace sensorgate
