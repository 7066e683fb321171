// Throughput of sensorgate::SpscRing against three peer SPSC queues, in one binary:
// boost::lockfree::spsc_queue, moodycamel::ReaderWriterQueue and atomic_queue. One producer
// thread pinned to core 1 and one consumer (the benchmark thread) pinned to core 0 move
// single floats and 16-float frames (std::array<float, 16>), one at a time and in batches.
// Items per second (Google Benchmark's items_per_second, over real time) is the figure to
// compare; docs/ring-buffer.md has the command and the numbers.
//
// Fairness rules, the same for every queue:
// - capacity 4096 items (moodycamel rounds up to whole blocks: it holds at least 4096);
// - each iteration moves kItemsPerRound items; the producer thread lives for the whole
//   benchmark and is released once per iteration, so no thread start is timed;
// - a few untimed rounds first (warm caches, faulted-in pages, both threads spinning);
// - the producer pushes copies of one prepared item and retries a failed push at once; the
//   consumer retries a failed pop at once and folds every byte of every item it gets into a
//   checksum (so no copy can be optimized away, and every byte is read once);
// - batches: the producer offers at most `batch` items per call and the consumer takes at
//   most `batch`; only SpscRing and boost have a batch API.
// - zero copy (SpscRing only): the producer writes the item straight into the slots it got
//   from acquire_write() and the consumer folds the slots from acquire_read() in place, with
//   the same `batch` cap.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

// The peers: header-only, from Debian packages (see bench/CMakeLists.txt).
#include <atomic_queue/atomic_queue.h>
#include <readerwriterqueue/readerwriterqueue.h>
#include <boost/lockfree/spsc_queue.hpp>

#include "sensorgate/common/spsc_ring.hpp"

namespace {

using Frame16 = std::array<float, 16>;

constexpr std::size_t kCapacity = 4096;
constexpr std::size_t kItemsPerRound = std::size_t{1} << 20;
constexpr int kWarmUpRounds = 3;
constexpr int kConsumerCore = 0;
constexpr int kProducerCore = 1;

void pin_to_core(int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core % static_cast<int>(std::thread::hardware_concurrency()), &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

template <typename T>
T make_item() {
  if constexpr (std::is_same_v<T, float>) {
    return 1.0F;  // not 0.0F: AtomicQFloat's NIL is the all-zero bit pattern
  } else {
    T item{};
    item.fill(1.0F);
    return item;
  }
}

// The consumer's work on each item, identical for every queue.
template <typename T>
std::byte fold(const T* items, std::size_t n, std::byte acc) {
  for (const std::byte b : std::as_bytes(std::span<const T>(items, n))) acc ^= b;
  return acc;
}

// How the two threads talk outside the measured transfers; each atomic on its own line.
struct Control {
  alignas(sensorgate::kCacheLine) std::atomic<std::int64_t> round{0};  // > 0: produce; < 0: exit
  alignas(sensorgate::kCacheLine) std::atomic<std::int64_t> ping{0};   // odd: the producer answers +1
};

// One-way core-to-core latency (half a round trip through one cache line), in ns. On this
// kind of virtual machine it changes by about 5x when the host moves the two vCPUs between
// cores that share a cache and cores that do not, and queue throughput follows it; each
// repetition reports it as the counter c2c_ns so that results can be read per placement.
double core_to_core_ns(Control& control) {
  constexpr int kRoundTrips = 20000;
  const auto start = std::chrono::steady_clock::now();
  std::int64_t p = control.ping.load(std::memory_order_relaxed);
  for (int i = 0; i < kRoundTrips; ++i) {
    control.ping.store(p + 1, std::memory_order_release);
    while (control.ping.load(std::memory_order_acquire) != p + 2) {
    }
    p += 2;
  }
  const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
  return elapsed.count() / (2.0 * kRoundTrips);
}

// Runs produce(kItemsPerRound) on a thread pinned to kProducerCore and
// consume(kItemsPerRound) on this thread, pinned to kConsumerCore, once per iteration. An
// iteration ends when the consumer has taken every item, so it covers the whole transfer.
// Each side works on its own copy of its lambda (captures by value: a queue pointer, the
// item), so neither reads data that sits on a cache line the other side writes.
template <typename Produce, typename Consume>
void run_pair(benchmark::State& state, const Produce& produce_fn, const Consume& consume_fn) {
  Control control;
  std::thread producer([&control, &produce_fn] {
    pin_to_core(kProducerCore);
    Produce produce = produce_fn;  // NOLINT(performance-unnecessary-copy-initialization): on this thread's stack
    std::int64_t seen = 0;
    for (;;) {
      const std::int64_t now = control.round.load(std::memory_order_acquire);
      if (now == seen) {
        const std::int64_t p = control.ping.load(std::memory_order_acquire);
        if (p % 2 == 1) control.ping.store(p + 1, std::memory_order_release);
        continue;
      }
      if (now < 0) return;
      seen = now;
      produce(kItemsPerRound);
    }
  });
  pin_to_core(kConsumerCore);
  Consume consume = consume_fn;  // NOLINT(performance-unnecessary-copy-initialization): see above
  std::int64_t next = 0;
  for (int i = 0; i < kWarmUpRounds; ++i) {
    control.round.store(++next, std::memory_order_release);
    consume(kItemsPerRound);
  }
  const double c2c_before = core_to_core_ns(control);
  for (auto _ : state) {
    control.round.store(++next, std::memory_order_release);
    consume(kItemsPerRound);
  }
  const double c2c_after = core_to_core_ns(control);  // the timed loop is over: not timed
  control.round.store(-1, std::memory_order_release);
  producer.join();
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kItemsPerRound));
  state.counters["c2c_ns"] = (c2c_before + c2c_after) / 2.0;
}

// ---- one adapter per queue: push/pop one item, push_n/pop_n a batch where there is one ---

template <typename T>
struct Ring {
  using value_type = T;
  sensorgate::SpscRing<T> q{kCapacity};
  bool push(const T& v) { return q.try_push(v); }
  bool pop(T& v) { return q.try_pop(v); }
  std::size_t push_n(const T* p, std::size_t n) { return q.push_span(std::span<const T>(p, n)); }
  std::size_t pop_n(T* p, std::size_t n) { return q.pop_span(std::span<T>(p, n)); }
};

// Run-time sized (like SpscRing): holds exactly kCapacity items (it allocates one more slot).
template <typename T>
struct Boost {
  using value_type = T;
  boost::lockfree::spsc_queue<T> q{kCapacity};
  bool push(const T& v) { return q.push(v); }
  bool pop(T& v) { return q.pop(v); }
  std::size_t push_n(const T* p, std::size_t n) { return q.push(p, n); }
  std::size_t pop_n(T* p, std::size_t n) { return q.pop(p, n); }
};

// try_enqueue never allocates, so the queue stays bounded at its initial blocks.
template <typename T>
struct Moody {
  using value_type = T;
  moodycamel::ReaderWriterQueue<T> q{kCapacity};
  bool push(const T& v) { return q.try_enqueue(v); }
  bool pop(T& v) { return q.try_dequeue(v); }
};

// atomic_queue, SPSC configuration: AtomicQueue2<T, SIZE, MINIMIZE_CONTENTION = true,
// MAXIMIZE_THROUGHPUT = true, TOTAL_ORDER = false, SPSC = true>. AtomicQueue2 is the variant
// for non-atomic element types (a state byte per slot next to the element); SPSC = true
// replaces its compare-exchange loops with plain loads and stores. The other options are the
// library's defaults. Compile-time size: the library's fastest form.
template <typename T>
struct AtomicQ2 {
  using value_type = T;
  atomic_queue::AtomicQueue2<T, kCapacity, true, true, false, true> q;  // the adapter is on the heap
  bool push(const T& v) { return q.try_push(v); }
  bool pop(T& v) { return q.try_pop(v); }
};

// For float, also atomic_queue's variant for atomic element types, where the slot itself is
// the atomic and a NIL value marks it empty: AtomicQueue<std::uint32_t, SIZE, NIL = 0,
// MINIMIZE_CONTENTION = true, MAXIMIZE_THROUGHPUT = true, TOTAL_ORDER = false, SPSC = true>
// carrying the float's bits (clang 14, which runs clang-tidy here, rejects a float template
// argument; the bits of the item 1.0F are never all zero).
struct AtomicQFloat {
  using value_type = float;
  atomic_queue::AtomicQueue<std::uint32_t, kCapacity, 0U, true, true, false, true> q;
  bool push(float v) { return q.try_push(std::bit_cast<std::uint32_t>(v)); }
  bool pop(float& v) {
    std::uint32_t bits = 0;
    if (!q.try_pop(bits)) return false;
    v = std::bit_cast<float>(bits);
    return true;
  }
};

// ---- the three loop shapes ---------------------------------------------------------------

template <typename Q>
void bm_single(benchmark::State& state) {
  using T = typename Q::value_type;
  auto owner = std::make_unique<Q>();
  Q* q = owner.get();
  run_pair(
      state,
      [q, item = make_item<T>()](std::size_t n) {
        for (std::size_t i = 0; i < n;) {
          if (q->push(item)) ++i;
        }
      },
      [q](std::size_t n) {
        T out{};
        std::byte acc{};
        for (std::size_t i = 0; i < n;) {
          if (q->pop(out)) {
            acc = fold(&out, 1, acc);
            ++i;
          }
        }
        benchmark::DoNotOptimize(acc);
      });
}

template <typename Q>
void bm_batch(benchmark::State& state) {
  using T = typename Q::value_type;
  const auto batch = static_cast<std::size_t>(state.range(0));
  auto owner = std::make_unique<Q>();
  Q* q = owner.get();
  run_pair(
      state,
      [q, batch, src = std::vector<T>(batch, make_item<T>())](std::size_t n) {
        for (std::size_t i = 0; i < n;) i += q->push_n(src.data(), std::min(batch, n - i));
      },
      [q, batch, out = std::vector<T>(batch)](std::size_t n) mutable {
        std::byte acc{};
        for (std::size_t i = 0; i < n;) {
          const std::size_t k = q->pop_n(out.data(), batch);
          acc = fold(out.data(), k, acc);
          i += k;
        }
        benchmark::DoNotOptimize(acc);
      });
}

template <typename T>
void bm_ring_zero_copy(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  auto owner = std::make_unique<sensorgate::SpscRing<T>>(kCapacity);
  sensorgate::SpscRing<T>* ring = owner.get();
  run_pair(
      state,
      [ring, batch, item = make_item<T>()](std::size_t n) {
        for (std::size_t i = 0; i < n;) {
          const auto span = ring->acquire_write();
          const std::size_t k = std::min({span.size(), batch, n - i});
          std::fill_n(span.begin(), k, item);
          ring->commit_write(k);
          i += k;
        }
      },
      [ring, batch](std::size_t n) {
        std::byte acc{};
        for (std::size_t i = 0; i < n;) {
          const auto span = ring->acquire_read();
          const std::size_t k = std::min(span.size(), batch);
          acc = fold(span.data(), k, acc);
          ring->release_read(k);
          i += k;
        }
        benchmark::DoNotOptimize(acc);
      });
}

// ---- registration: <element>/<mode>/<queue>, batch size as the argument -----------------

template <typename Fn>
void add(const std::string& name, Fn fn, std::int64_t batch = 0) {
  auto* b = benchmark::RegisterBenchmark(name.c_str(), fn);
  if (batch > 0) b->Arg(batch);
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}

template <typename T>
void register_element(const std::string& element, std::initializer_list<std::int64_t> batches) {
  add(element + "/single/SpscRing", bm_single<Ring<T>>);
  add(element + "/single/boost_spsc_queue", bm_single<Boost<T>>);
  add(element + "/single/moodycamel_RWQ", bm_single<Moody<T>>);
  add(element + "/single/atomic_queue_AQ2", bm_single<AtomicQ2<T>>);
  if constexpr (std::is_same_v<T, float>) add(element + "/single/atomic_queue_AQ", bm_single<AtomicQFloat>);
  for (const std::int64_t batch : batches) {
    add(element + "/batch/SpscRing_span", bm_batch<Ring<T>>, batch);
    add(element + "/batch/SpscRing_zero_copy", bm_ring_zero_copy<T>, batch);
    add(element + "/batch/boost_spsc_queue", bm_batch<Boost<T>>, batch);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_element<float>("float", {64, 256});
  register_element<Frame16>("frame16", {16, 64});
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
