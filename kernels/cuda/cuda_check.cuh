#pragma once
// Error checking and growable device buffers shared by the CUDA kernels' host code.
#include <cuda_runtime.h>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace sensorgate::kernels::cuda {

/// Throws std::runtime_error naming `what` when `err` is not cudaSuccess.
inline void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("CUDA ") + what + ": " + cudaGetErrorString(err));
  }
}

/// Makes `ptr` hold at least `count` elements, reallocating (contents lost) when it is smaller.
template <typename T>
void reserve(T*& ptr, std::size_t& capacity, std::size_t count) {
  if (count <= capacity) return;
  if (ptr != nullptr) check(cudaFree(ptr), "cudaFree");
  ptr = nullptr;
  capacity = 0;
  check(cudaMalloc(reinterpret_cast<void**>(&ptr), count * sizeof(T)), "cudaMalloc");
  capacity = count;
}

}  // namespace sensorgate::kernels::cuda
