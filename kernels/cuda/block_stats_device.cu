// One thread per (block, channel) output: the per-tick batches are many small blocks
// (16-frame chunks across hundreds of devices), so the parallelism is in the number of
// outputs, not in long reductions.
#include <cuda_runtime.h>
#include <cstdio>

#include "block_stats_device.cuh"
#include "cuda_check.cuh"

namespace sensorgate::kernels::cuda {
namespace {

__global__ void block_stats_kernel(const float* __restrict__ samples, const Slot* __restrict__ slots,
                                   Result* __restrict__ out, std::uint32_t n_slots, const float* __restrict__ edges,
                                   std::uint32_t n_edges, std::uint32_t* __restrict__ histogram) {
  const std::uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n_slots) return;
  const Slot s = slots[i];
  std::uint32_t* counts = histogram + static_cast<std::uint64_t>(i) * (n_edges + 1);
  if (n_edges > 0) {
    for (std::uint32_t b = 0; b <= n_edges; ++b) counts[b] = 0;
  }
  double sum = 0.0;
  float lo = INFINITY;
  float hi = -INFINITY;
  for (std::uint32_t f = 0; f < s.frames; ++f) {
    const float x = samples[s.first_sample + static_cast<std::uint64_t>(f) * s.stride];
    sum += x;
    lo = fminf(lo, x);
    hi = fmaxf(hi, x);
    if (n_edges > 0) {
      // Same rule as the CPU's upper_bound: the bin is the number of edges <= x.
      std::uint32_t lo_e = 0;
      std::uint32_t hi_e = n_edges;
      while (lo_e < hi_e) {
        const std::uint32_t mid = (lo_e + hi_e) / 2;
        if (x < edges[mid]) {
          hi_e = mid;
        } else {
          lo_e = mid + 1;
        }
      }
      ++counts[lo_e];
    }
  }
  const double mean = s.frames == 0 ? 0.0 : sum / s.frames;
  double m2 = 0.0;
  for (std::uint32_t f = 0; f < s.frames; ++f) {
    const double d = samples[s.first_sample + static_cast<std::uint64_t>(f) * s.stride] - mean;
    m2 += d * d;
  }
  out[i] = Result{s.frames, mean, m2, lo, hi};
}

}  // namespace

bool device_available() {
  // Without a driver cudaGetDeviceCount fails (35: insufficient driver, 100: no device) and
  // leaves the count untouched, hence the explicit 0.
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

bool describe_device(char* name, std::size_t name_size, int* driver_version) {
  cudaDeviceProp prop{};
  if (!device_available() || cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return false;
  std::snprintf(name, name_size, "%s", prop.name);
  *driver_version = 0;
  cudaDriverGetVersion(driver_version);
  return true;
}

BlockStatsDevice::BlockStatsDevice() {
  cudaStream_t stream = nullptr;
  check(cudaStreamCreate(&stream), "cudaStreamCreate");
  stream_ = stream;
  for (auto& e : events_) {
    cudaEvent_t event = nullptr;
    check(cudaEventCreate(&event), "cudaEventCreate");
    e = event;
  }
}

BlockStatsDevice::~BlockStatsDevice() {
  cudaFree(d_samples_);
  cudaFree(d_slots_);
  cudaFree(d_out_);
  cudaFree(d_edges_);
  cudaFree(d_histogram_);
  for (auto* e : events_) cudaEventDestroy(static_cast<cudaEvent_t>(e));
  cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
}

void BlockStatsDevice::run(const float* samples, std::size_t n_samples, const Slot* slots, std::size_t n_slots,
                           const float* edges, std::size_t n_edges, Result* out, std::uint32_t* histogram) {
  if (n_slots == 0) return;
  auto stream = static_cast<cudaStream_t>(stream_);
  const std::size_t n_counts = n_edges > 0 ? n_slots * (n_edges + 1) : 0;
  reserve(d_samples_, cap_samples_, n_samples);
  reserve(d_slots_, cap_slots_, n_slots);
  reserve(d_out_, cap_out_, n_slots);
  auto event = [this](int i) { return static_cast<cudaEvent_t>(events_[i]); };
  check(cudaEventRecord(event(0), stream), "record event");
  if (n_edges > 0) {
    reserve(d_edges_, cap_edges_, n_edges);
    reserve(d_histogram_, cap_histogram_, n_counts);
    check(cudaMemcpyAsync(d_edges_, edges, n_edges * sizeof(float), cudaMemcpyHostToDevice, stream),
          "copy edges to device");
  }
  check(cudaMemcpyAsync(d_samples_, samples, n_samples * sizeof(float), cudaMemcpyHostToDevice, stream),
        "copy samples to device");
  check(cudaMemcpyAsync(d_slots_, slots, n_slots * sizeof(Slot), cudaMemcpyHostToDevice, stream),
        "copy slots to device");
  check(cudaEventRecord(event(1), stream), "record event");
  constexpr std::uint32_t kThreads = 256;
  const auto n = static_cast<std::uint32_t>(n_slots);
  block_stats_kernel<<<(n + kThreads - 1) / kThreads, kThreads, 0, stream>>>(
      d_samples_, d_slots_, d_out_, n, d_edges_, static_cast<std::uint32_t>(n_edges), d_histogram_);
  check(cudaGetLastError(), "kernel launch");
  check(cudaEventRecord(event(2), stream), "record event");
  check(cudaMemcpyAsync(out, d_out_, n_slots * sizeof(Result), cudaMemcpyDeviceToHost, stream), "copy results to host");
  if (n_counts > 0) {
    check(cudaMemcpyAsync(histogram, d_histogram_, n_counts * sizeof(std::uint32_t), cudaMemcpyDeviceToHost, stream),
          "copy histogram to host");
  }
  check(cudaEventRecord(event(3), stream), "record event");
  check(cudaStreamSynchronize(stream), "synchronize");
  float upload_ms = 0;
  float download_ms = 0;
  check(cudaEventElapsedTime(&upload_ms, event(0), event(1)), "event time");
  check(cudaEventElapsedTime(&download_ms, event(2), event(3)), "event time");
  last_transfer_ms_ = upload_ms + download_ms;
}

}  // namespace sensorgate::kernels::cuda
