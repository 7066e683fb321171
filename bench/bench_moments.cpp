// Samples per second through block_moments (the per-chunk statistics kernel on the
// gateway's hot path) for 16 frames x 16 channels chunks, as the gateway sees them.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "sensorgate/kernels/moments.hpp"

namespace {

void BM_BlockMoments(benchmark::State& state) {
  const auto channels = static_cast<std::size_t>(state.range(0));
  const std::size_t frames = 256 / channels;
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(0.0F, 20.0F);
  std::vector<float> samples(frames * channels * 1024);
  for (auto& x : samples) x = noise(rng);
  std::vector<sensorgate::kernels::Moments> out(channels);
  std::size_t block = 0;
  for (auto _ : state) {
    sensorgate::kernels::block_moments(samples.data() + (block % 1024) * frames * channels, frames, channels,
                                       out.data());
    benchmark::DoNotOptimize(out.data());
    ++block;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * frames * channels));
}

BENCHMARK(BM_BlockMoments)->Arg(8)->Arg(16)->Arg(64);

}  // namespace

BENCHMARK_MAIN();
