// The gateway's in-process hot path, end to end without the network: FlatBuffers verify and
// decode (FrameBatchDecoder) -> IngestSink -> per-device SpscRing -> ShardWorker (sequence
// tracking, event time, panes, CPU backend block statistics, window close with histograms
// and band powers) -> summaries in the uplink ring. The benchmark thread is the ingest
// thread; the worker runs on its own thread, as in the gateway. Each iteration pushes a
// prepared stream (16 headsets x 16 channels x 256 Hz x 8 s, batches of 32 frames) through
// a fresh pipeline and waits until the worker has closed every window.
// items_per_second counts samples; the two threads are busy at once, so per core is about
// half of it when both are saturated (docs/benchmarks.md).
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "sensorgate/gateway/frame_batch_decoder.hpp"
#include "sensorgate/gateway/ingest_sink.hpp"
#include "sensorgate/gateway/shard_worker.hpp"
#include "sensorgate/kernels/block_stats.hpp"
#include "sensorgate/uplink/codec.hpp"

namespace {

constexpr int kDevices = 16;
constexpr std::uint16_t kChannels = 16;
constexpr double kRate = 256.0;
constexpr std::uint32_t kBatchFrames = 32;
constexpr int kSeconds = 8;
constexpr std::int64_t kStartNs = 1'700'000'000'000'000'000;

/// Encoded FrameBatch payloads, device-interleaved as they would arrive.
const std::vector<std::vector<std::uint8_t>>& payloads() {
  static const auto encoded = [] {
    std::vector<std::vector<std::uint8_t>> out;
    std::mt19937 rng(7);
    std::normal_distribution<float> eeg(0.0F, 20.0F);
    std::vector<float> samples(static_cast<std::size_t>(kBatchFrames) * kChannels);
    const auto batches = static_cast<std::uint32_t>(kSeconds * kRate) / kBatchFrames;
    for (std::uint32_t b = 0; b < batches; ++b) {
      for (int d = 0; d < kDevices; ++d) {
        for (auto& x : samples) x = eeg(rng);
        const std::uint64_t seq = std::uint64_t{b} * kBatchFrames;
        out.push_back(sensorgate::uplink::encode_frame_batch("bench-" + std::to_string(d), seq,
                                                             kStartNs + static_cast<std::int64_t>(seq) * 3'906'250,
                                                             kRate, kChannels, samples));
      }
    }
    return out;
  }();
  return encoded;
}

void BM_DecodeRingStats(benchmark::State& state) {
  const bool histograms = state.range(0) != 0;
  const bool bands = state.range(1) != 0;
  const auto& stream = payloads();
  std::uint64_t windows = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): Google Benchmark's loop idiom
    sensorgate::DeviceRegistry registry(256, kDevices);
    std::atomic<bool> stopping{false};
    sensorgate::IngestSink sink(registry, sensorgate::FullPolicy::kBlock, stopping, "bench");
    sensorgate::uplink::UplinkRing summaries(8192);
    sensorgate::WorkerOptions options;
    options.windows.band_powers = bands;
    if (histograms) options.windows.histogram_edges = {-100, -50, -20, -10, 0, 10, 20, 50, 100};
    sensorgate::ShardWorker worker(0, 1, registry, options, sensorgate::kernels::make_cpu_backend(), summaries);
    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> deadline{INT64_MAX};
    std::thread thread([&] { worker.run(stop, deadline); });

    sensorgate::FrameBatchDecoder decoder;
    sensorgate::DecodedBatch batch;
    for (const auto& payload : stream) {
      if (decoder.decode(payload, batch) != sensorgate::DecodeError::kNone) state.SkipWithError("decode failed");
      sink.push(batch);
    }
    stop = true;  // the worker drains the rings and closes every window before it returns
    thread.join();
    windows += summaries.size();
  }
  const auto samples_per_iteration = static_cast<std::int64_t>(kDevices * kSeconds * kRate) * kChannels;
  state.SetItemsProcessed(state.iterations() * samples_per_iteration);
  state.counters["windows_per_iteration"] = static_cast<double>(windows) / static_cast<double>(state.iterations());
}

BENCHMARK(BM_DecodeRingStats)
    ->ArgNames({"histograms", "bands"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({1, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);  // no "new device" line per iteration
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
