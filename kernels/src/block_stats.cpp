#include "sensorgate/kernels/block_stats.hpp"

#include <algorithm>
#include <array>
#include <functional>
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
      std::uint32_t* counts = histogram.data() + job.out_offset * bins;
      std::fill_n(counts, job.channels * bins, 0U);
      block_histograms(job.samples, job.frames, job.channels, edges, counts);
    }
  }
};

}  // namespace

void block_histograms(const float* samples, std::size_t frames, std::size_t channels, std::span<const float> edges,
                      std::uint32_t* counts) {
  const std::size_t bins = histogram_bins(edges);
  // A sample's bin is the number of edges <= it (so x == edge falls in the bin above it).
  // Counting edge by edge across a frame's channels is branch-free and vectorises; a
  // binary search per sample mispredicts about every other branch on noisy EEG and was 5x
  // slower than the moments themselves (bench_pipeline).
  std::array<std::uint32_t, kMaxChannels> bin{};
  for (std::size_t f = 0; f < frames; ++f) {
    const float* row = samples + f * channels;
    std::fill_n(bin.begin(), channels, 0U);
    for (const float edge : edges) {
      for (std::size_t c = 0; c < channels; ++c) bin[c] += row[c] >= edge ? 1U : 0U;
    }
    for (std::size_t c = 0; c < channels; ++c) ++counts[c * bins + bin[c]];
  }
}

std::unique_ptr<BlockStatsBackend> make_cpu_backend() {
  return std::make_unique<CpuBackend>();
}

#if !SENSORGATE_HAVE_CUDA
bool cuda_backend_available() {
  return false;
}
std::optional<GpuDescription> describe_gpu() {
  return std::nullopt;
}
std::unique_ptr<BlockStatsBackend> make_cuda_backend() {
  throw std::runtime_error("this build of sensorgate has no CUDA backend (configure with SENSORGATE_CUDA=ON)");
}
#endif

namespace {

class FailoverBlockStats final : public BlockStatsBackend {
 public:
  FailoverBlockStats(std::function<std::unique_ptr<BlockStatsBackend>()> make_primary, const FailoverOptions& options)
      : make_primary_(std::move(make_primary)),
        primary_(make_primary_()),
        switch_("block statistics", std::string(primary_->name()), options) {}

  [[nodiscard]] std::string_view name() const override {
    return primary_ != nullptr ? primary_->name() : std::string_view("cpu (failover)");
  }
  [[nodiscard]] const FailoverCounters* failover_counters() const override { return &switch_.counters(); }
  [[nodiscard]] std::chrono::nanoseconds last_transfer_time() const override {
    return primary_ != nullptr ? primary_->last_transfer_time() : std::chrono::nanoseconds::zero();
  }

  void compute(std::span<const BlockJob> jobs, std::span<const float> edges, std::span<Moments> moments,
               std::span<std::uint32_t> histogram) override {
    // Stateless between calls: a new primary needs no re-seeding.
    switch_.call<BlockStatsBackend, bool>(
        primary_, make_primary_, {},
        [&](BlockStatsBackend& primary) {
          primary.compute(jobs, edges, moments, histogram);
          return true;
        },
        [&] {
          cpu_.compute(jobs, edges, moments, histogram);
          return true;
        });
  }

 private:
  std::function<std::unique_ptr<BlockStatsBackend>()> make_primary_;
  std::unique_ptr<BlockStatsBackend> primary_;
  CpuBackend cpu_;
  FailoverSwitch switch_;
};

}  // namespace

std::unique_ptr<BlockStatsBackend> make_failover_backend(std::string_view choice, const FailoverOptions& options) {
  if (choice == "cpu" && options.fail_primary_after == 0) return make_cpu_backend();
  const std::string name(choice);
  return std::make_unique<FailoverBlockStats>([name] { return make_backend(name); }, options);
}

std::unique_ptr<BlockStatsBackend> make_backend(std::string_view choice) {
  if (choice == "cpu") return make_cpu_backend();
  if (choice == "cuda") return make_cuda_backend();
  if (choice == "auto") return cuda_backend_available() ? make_cuda_backend() : make_cpu_backend();
  throw std::invalid_argument("unknown compute backend '" + std::string(choice) + "' (expected auto|cpu|cuda)");
}

}  // namespace sensorgate::kernels
