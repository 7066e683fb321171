#pragma once
// Counters with one writer thread and any number of readers (the statistics line, the
// HTTP API): std::atomic for the readers, written with a relaxed load and store, which
// x86 does without the locked read-modify-write of fetch_add.

#include <atomic>
#include <cstdint>

namespace sensorgate {

/// Adds `by` to a counter that only the calling thread writes.
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

}  // namespace sensorgate
