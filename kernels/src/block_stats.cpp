#include "sensorgate/kernels/block_stats.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace sensorgate::kernels {
namespace {

class CpuBackend final : public BlockStatsBackend {
 public:
  [[nodiscard]] std::string_view name() const override { return "cpu"; }
  void compute(std::span<const BlockJob> jobs, std::span<const float> edges, std::span<Moments> moments,
               std::span<std::uint32_t> histogram) override {
    const std::size_t bins = histogram_bins(edges);
    for (const auto& job : jobs) {
      block_moments(job.samples, job.frames, job.channels, moments.data() + job.out_offset);
      if (bins == 0) continue;
      for (std::uint16_t c = 0; c < job.channels; ++c) {
        std::uint32_t* counts = histogram.data() + (job.out_offset + c) * bins;
        std::fill_n(counts, bins, 0U);
        block_histogram(job.samples, job.frames, job.channels, c, edges, counts);
      }
    }
  }
};

}  // namespace

void block_histogram(const float* samples, std::size_t frames, std::size_t channels, std::size_t channel,
                     std::span<const float> edges, std::uint32_t* counts) {
  for (std::size_t f = 0; f < frames; ++f) {
    const float x = samples[f * channels + channel];
    // upper_bound: the first edge greater than x, so x == edge falls in the bin above it.
    const auto bin = std::upper_bound(edges.begin(), edges.end(), x) - edges.begin();
    ++counts[bin];
  }
}

std::unique_ptr<BlockStatsBackend> make_cpu_backend() {
  return std::make_unique<CpuBackend>();
}

#if !SENSORGATE_HAVE_CUDA
bool cuda_backend_available() {
  return false;
}
std::unique_ptr<BlockStatsBackend> make_cuda_backend() {
  throw std::runtime_error("this build of sensorgate has no CUDA backend (configure with SENSORGATE_CUDA=ON)");
}
#endif

std::unique_ptr<BlockStatsBackend> make_backend(std::string_view choice) {
  if (choice == "cpu") return make_cpu_backend();
  if (choice == "cuda") return make_cuda_backend();
  if (choice == "auto") return cuda_backend_available() ? make_cuda_backend() : make_cpu_backend();
  throw std::invalid_argument("unknown compute backend '" + std::string(choice) + "' (expected auto|cpu|cuda)");
}

}  // namespace sensorgate::kernels
