// Throughput of SpscRing between two threads pinned to different cores, for single floats
// and for 16-float frames, moved one at a time and in spans. Items per second is the
// figure to compare (Google Benchmark's items_per_second).
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <array>
#include <thread>
#include <vector>

#include "sensorgate/common/spsc_ring.hpp"

namespace {

using Frame16 = std::array<float, 16>;

void pin_to_core(int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core % static_cast<int>(std::thread::hardware_concurrency()), &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

template <typename T>
void BM_SpscRing_OneAtATime(benchmark::State& state) {
  constexpr std::size_t kItems = 1 << 20;
  sensorgate::SpscRing<T> ring(4096);
  pin_to_core(0);
  for (auto _ : state) {
    std::thread producer([&] {
      pin_to_core(1);
      T item{};
      for (std::size_t i = 0; i < kItems;) {
        if (ring.try_push(item)) ++i;
      }
    });
    T out{};
    for (std::size_t i = 0; i < kItems;) {
      if (ring.try_pop(out)) ++i;
    }
    benchmark::DoNotOptimize(out);
    producer.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kItems));
}

template <typename T>
void BM_SpscRing_Spans(benchmark::State& state) {
  constexpr std::size_t kItems = 1 << 20;
  const auto batch = static_cast<std::size_t>(state.range(0));
  sensorgate::SpscRing<T> ring(4096);
  pin_to_core(0);
  for (auto _ : state) {
    std::thread producer([&] {
      pin_to_core(1);
      std::vector<T> items(batch);
      for (std::size_t i = 0; i < kItems;)
        i += ring.push_span(std::span<const T>(items.data(), std::min(batch, kItems - i)));
    });
    std::vector<T> out(batch);
    for (std::size_t i = 0; i < kItems;) i += ring.pop_span(out);
    benchmark::DoNotOptimize(out.data());
    producer.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kItems));
}

BENCHMARK(BM_SpscRing_OneAtATime<float>)->UseRealTime();
BENCHMARK(BM_SpscRing_OneAtATime<Frame16>)->UseRealTime();
BENCHMARK(BM_SpscRing_Spans<float>)->Arg(64)->Arg(256)->UseRealTime();
BENCHMARK(BM_SpscRing_Spans<Frame16>)->Arg(16)->Arg(64)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
