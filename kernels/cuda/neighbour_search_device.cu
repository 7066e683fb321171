// Brute-force k nearest neighbours: one thread block per query. The query sits in shared
// memory; each thread walks every blockDim-th point (points are stored feature-major, so a
// warp reads 32 consecutive points per feature in one transaction), sums the squared
// differences and keeps its own k best in a sorted list. Then the block's lists are merged
// in shared memory. Per thread the points come in ascending index order and an equal
// distance never displaces an earlier point, and the merge breaks ties by index: the
// result is the CPU's order for equal distances.
#include <cuda_runtime.h>

#include <cfloat>
#include <climits>

#include "cuda_check.cuh"
#include "neighbour_search_device.cuh"

namespace sensorgate::kernels::cuda {
namespace {

constexpr unsigned kThreads = 128;

__device__ bool closer(float da, std::int32_t ia, float db, std::int32_t ib) {
  return da < db || (da == db && ia < ib);
}

__global__ void knn_kernel(const float* __restrict__ points, std::uint32_t n, std::uint32_t dim,
                           const float* __restrict__ queries, std::uint32_t k, bool exclude_self,
                           float* __restrict__ out_dist2, std::int32_t* __restrict__ out_index) {
  extern __shared__ float shared[];
  float* query = shared;                                                         // dim
  float* cand_dist = shared + dim;                                               // kThreads × k
  auto* cand_index = reinterpret_cast<std::int32_t*>(cand_dist + kThreads * k);  // kThreads × k
  const std::uint32_t qi = blockIdx.x;
  for (std::uint32_t f = threadIdx.x; f < dim; f += blockDim.x) {
    query[f] = queries[static_cast<std::uint64_t>(qi) * dim + f];
  }
  __syncthreads();

  float best_dist[NeighbourSearchDevice::kMaxK];
  std::int32_t best_index[NeighbourSearchDevice::kMaxK];
  for (std::uint32_t t = 0; t < k; ++t) {
    best_dist[t] = FLT_MAX;
    best_index[t] = INT_MAX;
  }
  for (std::uint32_t j = threadIdx.x; j < n; j += blockDim.x) {
    if (exclude_self && j == qi) continue;
    float d2 = 0.0F;
    for (std::uint32_t f = 0; f < dim; ++f) {
      const float diff = query[f] - points[static_cast<std::uint64_t>(f) * n + j];
      d2 = fmaf(diff, diff, d2);
    }
    if (!(d2 < best_dist[k - 1])) continue;
    // Insertion into the sorted list; strict < keeps the earlier (lower) index first.
    std::uint32_t pos = k - 1;
    while (pos > 0 && d2 < best_dist[pos - 1]) {
      best_dist[pos] = best_dist[pos - 1];
      best_index[pos] = best_index[pos - 1];
      --pos;
    }
    best_dist[pos] = d2;
    best_index[pos] = static_cast<std::int32_t>(j);
  }
  for (std::uint32_t t = 0; t < k; ++t) {
    cand_dist[threadIdx.x * k + t] = best_dist[t];
    cand_index[threadIdx.x * k + t] = best_index[t];
  }
  __syncthreads();

  if (threadIdx.x != 0) return;
  // k-way merge of the threads' sorted lists: k rounds, each taking the smallest head.
  std::uint32_t head[kThreads];
  for (unsigned t = 0; t < blockDim.x; ++t) head[t] = 0;
  for (std::uint32_t r = 0; r < k; ++r) {
    unsigned winner = 0;
    float wd = FLT_MAX;
    std::int32_t wi = INT_MAX;
    for (unsigned t = 0; t < blockDim.x; ++t) {
      if (head[t] >= k) continue;
      const float d = cand_dist[t * k + head[t]];
      const std::int32_t i = cand_index[t * k + head[t]];
      if (closer(d, i, wd, wi)) {
        winner = t;
        wd = d;
        wi = i;
      }
    }
    ++head[winner];
    out_dist2[static_cast<std::uint64_t>(qi) * k + r] = wd;
    out_index[static_cast<std::uint64_t>(qi) * k + r] = wi;
  }
}

}  // namespace

NeighbourSearchDevice::NeighbourSearchDevice() {
  cudaStream_t stream = nullptr;
  check(cudaStreamCreate(&stream), "cudaStreamCreate");
  stream_ = stream;
}

NeighbourSearchDevice::~NeighbourSearchDevice() {
  cudaFree(d_points_);
  cudaFree(d_queries_);
  cudaFree(d_dist2_);
  cudaFree(d_index_);
  cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
}

void NeighbourSearchDevice::set_points(const float* points, std::size_t n, std::size_t dim) {
  transposed_.resize(n * dim);
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t f = 0; f < dim; ++f) transposed_[f * n + j] = points[j * dim + f];
  }
  auto stream = static_cast<cudaStream_t>(stream_);
  n_ = 0;
  reserve(d_points_, cap_points_, n * dim);
  check(cudaMemcpyAsync(d_points_, transposed_.data(), n * dim * sizeof(float), cudaMemcpyHostToDevice, stream),
        "copy points to device");
  check(cudaStreamSynchronize(stream), "synchronize");
  n_ = n;
  dim_ = dim;
}

void NeighbourSearchDevice::search(const float* queries, std::size_t q, std::size_t k, bool exclude_self, float* dist2,
                                   std::int32_t* index) {
  if (q == 0) return;
  auto stream = static_cast<cudaStream_t>(stream_);
  reserve(d_queries_, cap_queries_, q * dim_);
  reserve(d_dist2_, cap_dist2_, q * k);
  reserve(d_index_, cap_index_, q * k);
  check(cudaMemcpyAsync(d_queries_, queries, q * dim_ * sizeof(float), cudaMemcpyHostToDevice, stream),
        "copy queries to device");
  const std::size_t shared_bytes = dim_ * sizeof(float) + kThreads * k * (sizeof(float) + sizeof(std::int32_t));
  knn_kernel<<<static_cast<unsigned>(q), kThreads, shared_bytes, stream>>>(
      d_points_, static_cast<std::uint32_t>(n_), static_cast<std::uint32_t>(dim_), d_queries_,
      static_cast<std::uint32_t>(k), exclude_self, d_dist2_, d_index_);
  check(cudaGetLastError(), "kernel launch");
  check(cudaMemcpyAsync(dist2, d_dist2_, q * k * sizeof(float), cudaMemcpyDeviceToHost, stream),
        "copy distances to host");
  check(cudaMemcpyAsync(index, d_index_, q * k * sizeof(std::int32_t), cudaMemcpyDeviceToHost, stream),
        "copy indices to host");
  check(cudaStreamSynchronize(stream), "synchronize");
}

}  // namespace sensorgate::kernels::cuda
