#pragma once
// MomentsBackend: the compute interface behind which the CPU and CUDA implementations sit.
// One compute() call takes every block of frames a worker drained in one tick (across all
// devices of its shard), so a GPU sees one large batch rather than many small ones.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "sensorgate/kernels/moments.hpp"

namespace sensorgate::kernels {

/// One block: `frames` frame-major frames of `channels` floats starting at `samples`.
/// Its results occupy `channels` consecutive entries of the output, starting at `out_offset`.
struct MomentsJob {
  const float* samples = nullptr;
  std::uint32_t frames = 0;
  std::uint16_t channels = 0;
  std::uint32_t out_offset = 0;
};

class MomentsBackend {
 public:
  virtual ~MomentsBackend() = default;
  MomentsBackend() = default;
  MomentsBackend(const MomentsBackend&) = delete;
  MomentsBackend& operator=(const MomentsBackend&) = delete;

  [[nodiscard]] virtual std::string_view name() const = 0;
  /// Computes block moments for every job into `out` (sized for the largest out_offset +
  /// channels). Throws std::runtime_error when the device fails.
  virtual void compute(std::span<const MomentsJob> jobs, std::span<Moments> out) = 0;
};

/// The CPU backend; always available.
std::unique_ptr<MomentsBackend> make_cpu_moments_backend();

/// True when this build has the CUDA backend and a usable GPU is present.
bool cuda_backend_available();

/// The CUDA backend; throws std::runtime_error when the build lacks it or no GPU is usable.
std::unique_ptr<MomentsBackend> make_cuda_moments_backend();

/// Picks a backend by name: "cpu", "cuda" (throws if unavailable) or "auto" (CUDA when
/// available, else CPU).
std::unique_ptr<MomentsBackend> make_moments_backend(std::string_view choice);

}  // namespace sensorgate::kernels
