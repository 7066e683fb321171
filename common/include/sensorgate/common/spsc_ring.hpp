#pragma once
// SpscRing<T>: a bounded, lock-free, single-producer single-consumer ring buffer.
//
// Design (see docs/ring-buffer.md for the reasoning and measurements):
// - Capacity is a power of two, so an index maps to a slot with a mask, and the head and
//   tail are free-running 64-bit counters (they never wrap in practice), so "full" is
//   tail - head == capacity with no wasted slot.
// - The consumer's head and the producer's tail live on separate cache lines, and each
//   side keeps a private cached copy of the other side's index. A side reads the other's
//   atomic (a cache miss when the line is owned by the other core) only when its cached
//   copy says the ring looks full or empty. This is what makes batch transfer cheap.
// - The slots are allocated in whole cache lines from a cache-line boundary, so a 64-byte
//   item occupies one line, not two, and no other heap object shares the first or last line.
// - The batch API works on spans: acquire_write()/commit_write() and
//   acquire_read()/release_read() hand out the contiguous region up to the end of the
//   storage, so a producer can decode straight into ring slots and a consumer can process
//   slots in place (zero copy). push()/pop() and push_span()/pop_span() are built on them.
//
// Exactly one thread may call the producer functions and exactly one (other) thread the
// consumer functions. size() may be called from either side and is approximate.

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace sensorgate {

// Not std::hardware_destructive_interference_size: GCC warns that its value may differ
// between compilation units; 64 bytes is right for x86-64 and the Cortex-A cores we ship to.
inline constexpr std::size_t kCacheLine = 64;

namespace detail {

// Allocates whole cache lines, starting on a cache-line boundary: a slot then never straddles
// two lines more often than its size requires, and no other heap object shares a line with
// the first or last slot (which both sides write).
template <typename U>
struct CacheLineAllocator {
  using value_type = U;
  CacheLineAllocator() = default;
  template <typename V>
  CacheLineAllocator(const CacheLineAllocator<V>& /*other*/) {}  // NOLINT(google-explicit-constructor)
  static std::size_t bytes(std::size_t n) { return (n * sizeof(U) + kCacheLine - 1) / kCacheLine * kCacheLine; }
  U* allocate(std::size_t n) {
    return static_cast<U*>(::operator new (bytes(n), std::align_val_t{std::max(kCacheLine, alignof(U))}));
  }
  // Unsized: clang declares the sized aligned operator delete only with -fsized-deallocation.
  void deallocate(U* p, std::size_t /*n*/) noexcept {
    ::operator delete (p, std::align_val_t{std::max(kCacheLine, alignof(U))});
  }
  template <typename V>
  bool operator==(const CacheLineAllocator<V>& /*other*/) const {
    return true;
  }
};

}  // namespace detail

template <typename T>
class SpscRing {
  static_assert(std::is_default_constructible_v<T> && std::is_move_assignable_v<T>,
                "SpscRing slots are default-constructed up front and moved into");

 public:
  /// `capacity` must be a power of two and at least 2.
  explicit SpscRing(std::size_t capacity) : capacity_(capacity), mask_(capacity - 1), slots_(capacity) {
    if (capacity < 2 || !std::has_single_bit(capacity)) {
      throw std::invalid_argument("SpscRing capacity must be a power of two >= 2");
    }
  }

  ~SpscRing() = default;
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;
  SpscRing(SpscRing&&) = delete;
  SpscRing& operator=(SpscRing&&) = delete;

  [[nodiscard]] std::size_t capacity() const { return capacity_; }

  /// Number of items in the ring; exact when called by a side whose peer is idle.
  [[nodiscard]] std::size_t size() const {
    const auto tail = producer_.index.load(std::memory_order_acquire);
    const auto head = consumer_.index.load(std::memory_order_acquire);
    return static_cast<std::size_t>(tail - head);
  }

  // ---- producer side -------------------------------------------------------------------

  /// Contiguous free slots the producer may fill: every free slot up to the end of the
  /// storage (call again after commit_write() for the part that wraps). Empty when full.
  [[nodiscard]] std::span<T> acquire_write() { return write_region<true>(); }

  /// Publishes the first `n` slots of the last acquire_write() span to the consumer.
  void commit_write(std::size_t n) {
    producer_.index.store(producer_.index.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }

  /// Moves `item` in; false (item untouched) when the ring is full.
  bool try_push(T&& item) {
    auto span = write_region<false>();
    if (span.empty()) return false;
    span[0] = std::move(item);
    commit_write(1);
    return true;
  }
  bool try_push(const T& item) {
    auto span = write_region<false>();
    if (span.empty()) return false;
    span[0] = item;
    commit_write(1);
    return true;
  }

  /// Copies as many items of `items` as fit; returns how many were pushed.
  std::size_t push_span(std::span<const T> items) {
    std::size_t done = 0;
    while (done < items.size()) {
      auto span = acquire_write();
      if (span.empty()) break;
      const std::size_t n = std::min(span.size(), items.size() - done);
      std::copy_n(items.begin() + static_cast<std::ptrdiff_t>(done), n, span.begin());
      commit_write(n);
      done += n;
    }
    return done;
  }

  // ---- consumer side -------------------------------------------------------------------

  /// Contiguous filled slots the consumer may read in place: every filled slot up to the
  /// end of the storage (call again after release_read() for the part that wraps). Empty
  /// when the ring is empty.
  [[nodiscard]] std::span<T> acquire_read() { return read_region<true>(); }

  /// Frees the first `n` slots of the last acquire_read() span for the producer.
  void release_read(std::size_t n) {
    consumer_.index.store(consumer_.index.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }

  /// Moves the oldest item into `out`; false when empty.
  bool try_pop(T& out) {
    auto span = read_region<false>();
    if (span.empty()) return false;
    out = std::move(span[0]);
    release_read(1);
    return true;
  }

  /// Moves up to out.size() items into `out`; returns how many were popped.
  std::size_t pop_span(std::span<T> out) {
    std::size_t done = 0;
    while (done < out.size()) {
      auto span = acquire_read();
      if (span.empty()) break;
      const std::size_t n = std::min(span.size(), out.size() - done);
      std::move(span.begin(), span.begin() + static_cast<std::ptrdiff_t>(n),
                out.begin() + static_cast<std::ptrdiff_t>(done));
      release_read(n);
      done += n;
    }
    return done;
  }

 private:
  // The cached peer index is reloaded only when it cannot satisfy the request: for single
  // items when the ring looks full/empty; for spans (Greedy) also when more may have come
  // since, because a batch caller wants everything there is.
  template <bool Greedy>
  std::span<T> write_region() {
    const auto tail = producer_.index.load(std::memory_order_relaxed);
    const std::size_t offset = static_cast<std::size_t>(tail) & mask_;
    std::size_t free = capacity_ - static_cast<std::size_t>(tail - producer_.cached_peer);
    if (free == 0 || (Greedy && free < capacity_ - offset)) {
      producer_.cached_peer = consumer_.index.load(std::memory_order_acquire);
      free = capacity_ - static_cast<std::size_t>(tail - producer_.cached_peer);
    }
    return {slots_.data() + offset, std::min(free, capacity_ - offset)};
  }

  template <bool Greedy>
  std::span<T> read_region() {
    const auto head = consumer_.index.load(std::memory_order_relaxed);
    const std::size_t offset = static_cast<std::size_t>(head) & mask_;
    auto filled = static_cast<std::size_t>(consumer_.cached_peer - head);
    if (filled == 0 || (Greedy && filled < capacity_ - offset)) {
      consumer_.cached_peer = producer_.index.load(std::memory_order_acquire);
      filled = static_cast<std::size_t>(consumer_.cached_peer - head);
    }
    return {slots_.data() + offset, std::min(filled, capacity_ - offset)};
  }

  // One side's own index (written only by that side) and its cached copy of the peer's
  // index, on a cache line of its own.
  struct alignas(kCacheLine) Side {
    std::atomic<std::uint64_t> index{0};
    std::uint64_t cached_peer = 0;
  };

  const std::size_t capacity_;
  const std::size_t mask_;
  // Sized once and never resized, so slot addresses are stable.
  std::vector<T, detail::CacheLineAllocator<T>> slots_;
  Side producer_;  // tail: next slot to write
  Side consumer_;  // head: next slot to read
};

}  // namespace sensorgate
