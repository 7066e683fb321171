#pragma once
// Shared by the libFuzzer targets (docs/fuzzing.md): an invariant check that aborts, so
// libFuzzer records the input as a crash, and quiet logging, so millions of rejected
// inputs do not each print a warning.

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

/// Aborts with the failed condition when `cond` is false: a broken invariant is a finding,
/// the same as a sanitizer report.
#define FUZZ_CHECK(cond)                                                                      \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (false)

namespace sensorgate::fuzz {

/// Called from each target's LLVMFuzzerInitialize.
inline void quiet_logging() {
  spdlog::set_level(spdlog::level::off);
}

}  // namespace sensorgate::fuzz
