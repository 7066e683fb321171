#pragma once
// BlockStatsBackend: the compute interface behind which the CPU and CUDA implementations
// sit. One compute() call takes every block of frames a worker drained in one tick (across
// all devices of its shard), so a GPU sees one large batch rather than many small ones.
// Per block and channel it produces the Moments and, when histogram edges are given, the
// histogram counts.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sensorgate/kernels/failover.hpp"
#include "sensorgate/kernels/moments.hpp"

namespace sensorgate::kernels {

/// One block: `frames` frame-major frames of `channels` floats starting at `samples`.
/// Its results occupy `channels` consecutive output slots starting at `out_offset`.
struct BlockJob {
  const float* samples = nullptr;
  std::uint32_t frames = 0;
  std::uint16_t channels = 0;
  std::uint32_t out_offset = 0;
};

/// Histogram bins for ascending `edges` e0 < e1 < ... < ek: bin 0 counts x < e0
/// (underflow), bin i counts e(i-1) <= x < e(i), bin k+1 counts x >= ek (overflow).
inline std::size_t histogram_bins(std::span<const float> edges) {
  return edges.empty() ? 0 : edges.size() + 1;
}

/// Adds the histograms of every channel of `frames` frame-major frames to `counts`:
/// channels x histogram_bins(edges), channel-major. At most kMaxChannels channels.
void block_histograms(const float* samples, std::size_t frames, std::size_t channels, std::span<const float> edges,
                      std::uint32_t* counts);

class BlockStatsBackend {
 public:
  virtual ~BlockStatsBackend() = default;
  BlockStatsBackend() = default;
  BlockStatsBackend(const BlockStatsBackend&) = delete;
  BlockStatsBackend& operator=(const BlockStatsBackend&) = delete;
  BlockStatsBackend(BlockStatsBackend&&) = delete;
  BlockStatsBackend& operator=(BlockStatsBackend&&) = delete;

  [[nodiscard]] virtual std::string_view name() const = 0;
  /// The failover counters of a backend made by make_failover_backend(); null otherwise.
  [[nodiscard]] virtual const FailoverCounters* failover_counters() const { return nullptr; }
  /// Host<->device copy time of the last compute() (0 on the CPU): the stage metrics split
  /// a tick into compute and transfer with it.
  [[nodiscard]] virtual std::chrono::nanoseconds last_transfer_time() const { return {}; }

  /// For every job and channel: Moments into `moments[out_offset + c]` and, when `edges`
  /// is not empty, histogram counts into `histogram[(out_offset + c) * bins ...]`
  /// (overwritten, bins = histogram_bins(edges)). Throws std::runtime_error when the
  /// device fails.
  virtual void compute(std::span<const BlockJob> jobs, std::span<const float> edges, std::span<Moments> moments,
                       std::span<std::uint32_t> histogram) = 0;
};

/// The CPU backend; always available.
std::unique_ptr<BlockStatsBackend> make_cpu_backend();

/// True when this build has the CUDA backend and a usable GPU is present.
bool cuda_backend_available();

/// The GPU this process would use (CUDA builds with a usable GPU), for the environment report.
struct GpuDescription {
  std::string model;
  std::string driver;  ///< CUDA driver API version, e.g. "13.0"
};
std::optional<GpuDescription> describe_gpu();

/// The CUDA backend; throws std::runtime_error when the build lacks it or no GPU is usable.
std::unique_ptr<BlockStatsBackend> make_cuda_backend();

/// Picks a backend by name: "cpu", "cuda" (throws if unavailable) or "auto" (CUDA when
/// available, else CPU).
std::unique_ptr<BlockStatsBackend> make_backend(std::string_view choice);

/// make_backend(choice) as the primary of a FailoverSwitch (failover.hpp) with the CPU as
/// fallback: a GPU failure mid-stream redoes the batch on the CPU. "cpu" gives the plain
/// CPU backend, unless options inject failures (then a CPU primary is wrapped, to test the
/// switch without a GPU).
std::unique_ptr<BlockStatsBackend> make_failover_backend(std::string_view choice, const FailoverOptions& options);

}  // namespace sensorgate::kernels
