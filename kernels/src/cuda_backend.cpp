// BlockStatsBackend on a CUDA GPU: stages every job of the tick into one buffer so the
// tick costs one host->device copy, one kernel launch and one device->host copy.
#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../cuda/block_stats_device.cuh"
#include "sensorgate/kernels/block_stats.hpp"

namespace sensorgate::kernels {
namespace {

class CudaBackend final : public BlockStatsBackend {
 public:
  [[nodiscard]] std::string_view name() const override { return "cuda"; }
  [[nodiscard]] std::chrono::nanoseconds last_transfer_time() const override {
    return std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(device_.last_transfer_ms()) * 1e6));
  }

  void compute(std::span<const BlockJob> jobs, std::span<const float> edges, std::span<Moments> moments,
               std::span<std::uint32_t> histogram) override {
    staged_.clear();
    slots_.clear();
    slot_out_.clear();
    for (const auto& job : jobs) {
      const std::uint64_t base = staged_.size();
      staged_.insert(staged_.end(), job.samples, job.samples + static_cast<std::size_t>(job.frames) * job.channels);
      for (std::uint16_t c = 0; c < job.channels; ++c) {
        slots_.push_back(cuda::Slot{base + c, job.frames, job.channels});
        slot_out_.push_back(job.out_offset + c);
      }
    }
    const std::size_t bins = histogram_bins(edges);
    results_.resize(slots_.size());
    counts_.resize(slots_.size() * bins);
    device_.run(staged_.data(), staged_.size(), slots_.data(), slots_.size(), edges.data(), edges.size(),
                results_.data(), counts_.data());
    for (std::size_t i = 0; i < results_.size(); ++i) {
      const auto& r = results_[i];
      moments[slot_out_[i]] = Moments{r.count, r.mean, r.m2, r.min, r.max};
      if (bins > 0) {
        std::copy_n(counts_.begin() + static_cast<std::ptrdiff_t>(i * bins), bins,
                    histogram.begin() + static_cast<std::ptrdiff_t>(slot_out_[i] * bins));
      }
    }
  }

 private:
  cuda::BlockStatsDevice device_;
  std::vector<float> staged_;
  std::vector<cuda::Slot> slots_;
  std::vector<std::uint32_t> slot_out_;
  std::vector<cuda::Result> results_;
  std::vector<std::uint32_t> counts_;
};

}  // namespace

bool cuda_backend_available() {
  return cuda::device_available();
}

std::optional<GpuDescription> describe_gpu() {
  std::array<char, 256> name{};
  int driver = 0;
  if (!cuda::describe_device(name.data(), name.size(), &driver)) return std::nullopt;
  return GpuDescription{name.data(), std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10)};
}

std::unique_ptr<BlockStatsBackend> make_cuda_backend() {
  if (!cuda_backend_available()) {
    throw std::runtime_error("CUDA backend requested but no usable GPU/driver was found");
  }
  return std::make_unique<CudaBackend>();
}

}  // namespace sensorgate::kernels
