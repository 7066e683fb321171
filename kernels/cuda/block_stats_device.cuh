#pragma once
// The CUDA side of the block statistics backend, in C++17 so nvcc (via CMake 3.25) can
// compile it; kernels/src/cuda_backend.cpp wraps it in the C++20 BlockStatsBackend.

#include <cstddef>
#include <cstdint>

namespace sensorgate::kernels::cuda {

/// Where one output's column lives in the staged samples.
struct Slot {
  std::uint64_t first_sample;  ///< index of frame 0 of this channel in the staged samples
  std::uint32_t frames;
  std::uint32_t stride;  ///< channels of the block
};

struct Result {
  unsigned long long count;
  double mean;
  double m2;
  float min;
  float max;
};

/// True when a CUDA driver and at least one GPU are usable.
bool device_available();

/// The first GPU's name and the driver version ("13.0"); false without a usable GPU.
bool describe_device(char* name, std::size_t name_size, int* driver_version);

/// Device buffers and a stream, reused across calls; grows as needed.
class BlockStatsDevice {
 public:
  BlockStatsDevice();  ///< throws std::runtime_error
  ~BlockStatsDevice();
  BlockStatsDevice(const BlockStatsDevice&) = delete;
  BlockStatsDevice& operator=(const BlockStatsDevice&) = delete;

  /// One Result per slot and, when n_edges > 0, (n_edges + 1) histogram counts per slot:
  /// copies samples, slots and edges in, runs one thread per slot and copies the results
  /// out. Throws std::runtime_error on CUDA errors.
  void run(const float* samples, std::size_t n_samples, const Slot* slots, std::size_t n_slots, const float* edges,
           std::size_t n_edges, Result* out, std::uint32_t* histogram);

  /// Milliseconds the last run() spent copying host->device and device->host, from CUDA
  /// events around the copies (the stage metrics' transfer time).
  [[nodiscard]] float last_transfer_ms() const { return last_transfer_ms_; }

 private:
  void* stream_ = nullptr;
  void* events_[4] = {nullptr, nullptr, nullptr, nullptr};  // before/after uploads, before/after downloads
  float last_transfer_ms_ = 0;
  float* d_samples_ = nullptr;
  Slot* d_slots_ = nullptr;
  Result* d_out_ = nullptr;
  float* d_edges_ = nullptr;
  std::uint32_t* d_histogram_ = nullptr;
  std::size_t cap_samples_ = 0;
  std::size_t cap_slots_ = 0;
  std::size_t cap_out_ = 0;
  std::size_t cap_edges_ = 0;
  std::size_t cap_histogram_ = 0;
};

}  // namespace sensorgate::kernels::cuda
