#pragma once
// The CUDA side of the moments backend, in C++17 so nvcc (via CMake 3.25) can compile it;
// kernels/src/cuda_moments_backend.cpp wraps it in the C++20 MomentsBackend interface.

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

/// Device buffers and a stream, reused across calls; grows as needed.
class MomentsDevice {
 public:
  MomentsDevice();  ///< throws std::runtime_error
  ~MomentsDevice();
  MomentsDevice(const MomentsDevice&) = delete;
  MomentsDevice& operator=(const MomentsDevice&) = delete;

  /// Computes one Result per slot: copies the samples and slots in, runs one thread per
  /// slot (two passes over its column) and copies the results out. Throws on CUDA errors.
  void run(const float* samples, std::size_t n_samples, const Slot* slots, std::size_t n_slots, Result* out);

 private:
  void* stream_ = nullptr;
  float* d_samples_ = nullptr;
  Slot* d_slots_ = nullptr;
  Result* d_out_ = nullptr;
  std::size_t cap_samples_ = 0;
  std::size_t cap_slots_ = 0;
};

}  // namespace sensorgate::kernels::cuda
