#pragma once
// The CUDA side of the neighbour search, in C++17 for nvcc; kernels/src/cuda_neighbour_search.cpp
// wraps it in the C++20 NeighbourSearch interface.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sensorgate::kernels::cuda {

/// Points on the device and the buffers of a search, reused across calls.
class NeighbourSearchDevice {
 public:
  /// Neighbours per query: each thread of a block keeps its own k best in registers and
  /// the block merges them in shared memory (threads × k × 8 bytes).
  static constexpr std::size_t kMaxK = 32;
  /// Dimensions: the query is held in shared memory (4 bytes each).
  static constexpr std::size_t kMaxDim = 4096;

  NeighbourSearchDevice();  ///< throws std::runtime_error
  ~NeighbourSearchDevice();
  NeighbourSearchDevice(const NeighbourSearchDevice&) = delete;
  NeighbourSearchDevice& operator=(const NeighbourSearchDevice&) = delete;

  /// Copies `n` row-major points of `dim` floats to the device (stored feature-major, so
  /// the threads of a block read consecutive points in one coalesced load). Throws
  /// std::runtime_error on CUDA errors.
  void set_points(const float* points, std::size_t n, std::size_t dim);

  /// For each of `q` row-major queries the `k` nearest points, nearest first, ties by
  /// index: squared distances and indices into `dist2` and `index` (q × k, row-major).
  /// `exclude_self`: query i does not count point i. Throws std::runtime_error.
  void search(const float* queries, std::size_t q, std::size_t k, bool exclude_self, float* dist2, std::int32_t* index);

 private:
  void* stream_ = nullptr;
  float* d_points_ = nullptr;  ///< dim × n
  float* d_queries_ = nullptr;
  float* d_dist2_ = nullptr;
  std::int32_t* d_index_ = nullptr;
  std::size_t cap_points_ = 0;
  std::size_t cap_queries_ = 0;
  std::size_t cap_dist2_ = 0;
  std::size_t cap_index_ = 0;
  std::size_t n_ = 0;
  std::size_t dim_ = 0;
  std::vector<float> transposed_;
};

}  // namespace sensorgate::kernels::cuda
