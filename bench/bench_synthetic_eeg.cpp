// Cost of SyntheticEeg::generate() per sample: the load harness runs 1,500 synthetic
// headsets (16 ch x 256 Hz) in real time on 2 cores, ~6 M samples/s, so a sample must
// cost well under 1 us (docs/synthetic-eeg.md).
#include <benchmark/benchmark.h>

#include <vector>

#include "sensorgate/sim/anomaly_injector.hpp"
#include "sensorgate/sim/synthetic_eeg.hpp"

namespace {

void BM_SyntheticEegGenerate(benchmark::State& state) {
  sensorgate::sim::SyntheticEeg eeg(1, 0, sensorgate::sim::SignalShape{});
  std::vector<float> batch(std::size_t{32} * 16);
  for (auto _ : state) {
    eeg.generate(batch);
    benchmark::DoNotOptimize(batch.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch.size()));
}
BENCHMARK(BM_SyntheticEegGenerate);

void BM_SyntheticEegWithAnomalies(benchmark::State& state) {
  sensorgate::sim::SyntheticEeg eeg(1, 0, sensorgate::sim::SignalShape{});
  sensorgate::sim::AnomalyOptions options;
  options.rate_per_hour = 3600;
  sensorgate::sim::AnomalyInjector injector(options, 1, 0, 16, 256.0, nullptr);
  std::vector<float> batch(std::size_t{32} * 16);
  std::uint64_t frame = 0;
  for (auto _ : state) {
    eeg.generate(batch);
    injector.apply(batch, frame);
    frame += 32;
    benchmark::DoNotOptimize(batch.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch.size()));
}
BENCHMARK(BM_SyntheticEegWithAnomalies);

}  // namespace

BENCHMARK_MAIN();
