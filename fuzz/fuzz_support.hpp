#pragma once
// Shared by the libFuzzer targets (docs/fuzzing.md): an invariant check that aborts, so
// libFuzzer records the input as a crash; quiet logging, so millions of rejected inputs do
// not each print a warning; a scratch directory for the parsers that read files; and the
// chunked-stream layout of the byte-stream decoders' targets.

#include <spdlog/spdlog.h>
#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>
#include <system_error>
#include <vector>

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

namespace detail {
inline std::filesystem::path& scratch_path() {
  static std::filesystem::path path;
  return path;
}
inline void remove_scratch_directory() {
  std::error_code ec;
  std::filesystem::remove_all(scratch_path(), ec);
}
}  // namespace detail

/// Makes the target's private directory `sensorgate-fuzz-<target>-XXXXXX` under $TMPDIR
/// (scripts/fuzz.sh points it at /dev/shm), removed at exit; from LLVMFuzzerInitialize.
inline void make_scratch_directory(const std::string& target) {
  std::string pattern = (std::filesystem::temp_directory_path() / ("sensorgate-fuzz-" + target + "-XXXXXX")).string();
  FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr);
  detail::scratch_path() = pattern;
  std::atexit(detail::remove_scratch_directory);
}

/// The directory make_scratch_directory made.
inline const std::filesystem::path& scratch_directory() {
  return detail::scratch_path();
}

/// The input layout of the byte-stream decoders' targets: byte 0 is the target's own,
/// byte 1 the number k (0-7) of chunk sizes, the next k bytes the sizes (1-256, used in
/// turn), the rest the stream. Without sizes the stream is one chunk.
struct ChunkedStream {
  std::vector<std::size_t> chunk_sizes;
  std::span<const std::uint8_t> stream;

  /// `size` must be at least 2.
  ChunkedStream(const std::uint8_t* data, std::size_t size) {
    const std::size_t splits = std::min<std::size_t>(data[1] % 8, size - 2);
    for (std::size_t i = 0; i < splits; ++i) chunk_sizes.push_back(std::size_t{data[2 + i]} + 1);
    if (chunk_sizes.empty()) chunk_sizes.push_back(size);
    stream = std::span<const std::uint8_t>(data + 2 + splits, size - 2 - splits);
  }

  /// Calls feed(chunk) for consecutive chunks of the stream, of the sizes in turn.
  template <typename Feed>
  void feed_in_chunks(Feed&& feed) const {
    for (std::size_t offset = 0, i = 0; offset < stream.size(); ++i) {
      const std::size_t n = std::min(chunk_sizes[i % chunk_sizes.size()], stream.size() - offset);
      feed(stream.subspan(offset, n));
      offset += n;
    }
  }
};

}  // namespace sensorgate::fuzz
