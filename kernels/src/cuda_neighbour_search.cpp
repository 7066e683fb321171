// NeighbourSearch on a CUDA GPU (kernels/cuda/neighbour_search_device.cu).
#include <memory>
#include <stdexcept>
#include <string>

#include "../cuda/neighbour_search_device.cuh"
#include "sensorgate/kernels/block_stats.hpp"
#include "sensorgate/kernels/neighbour_search.hpp"

namespace sensorgate::kernels {
namespace {

class CudaNeighbourSearch final : public NeighbourSearch {
 public:
  [[nodiscard]] std::string_view name() const override { return "cuda"; }
  [[nodiscard]] std::size_t max_k() const override { return cuda::NeighbourSearchDevice::kMaxK; }

  void set_points(const Eigen::Ref<const RowMatrixXf>& points) override {
    check_points(points);
    if (static_cast<std::size_t>(points.cols()) > cuda::NeighbourSearchDevice::kMaxDim) {
      // A runtime error, not a caller's mistake: the CPU can search these, so failover does.
      throw std::runtime_error("the GPU search takes at most " + std::to_string(cuda::NeighbourSearchDevice::kMaxDim) +
                               " dimensions, not " + std::to_string(points.cols()));
    }
    points_ = 0;
    // An Eigen::Ref of a row-major matrix may still have an outer stride; copy when it does.
    const RowMatrixXf contiguous = points;
    device_.set_points(contiguous.data(), static_cast<std::size_t>(contiguous.rows()),
                       static_cast<std::size_t>(contiguous.cols()));
    points_ = static_cast<std::size_t>(points.rows());
    dim_ = static_cast<std::size_t>(points.cols());
  }

  [[nodiscard]] Neighbours search(const Eigen::Ref<const RowMatrixXf>& queries, std::size_t k,
                                  bool exclude_self) override {
    check_search(*this, queries, k, exclude_self);
    const RowMatrixXf contiguous = queries;
    const auto q = static_cast<std::size_t>(contiguous.rows());
    dist2_.resize(static_cast<Eigen::Index>(q), static_cast<Eigen::Index>(k));
    index_.resize(static_cast<Eigen::Index>(q), static_cast<Eigen::Index>(k));
    device_.search(contiguous.data(), q, k, exclude_self, dist2_.data(), index_.data());
    return Neighbours{dist2_, index_};
  }

  [[nodiscard]] std::size_t points() const override { return points_; }
  [[nodiscard]] std::size_t dim() const override { return dim_; }

 private:
  cuda::NeighbourSearchDevice device_;
  std::size_t points_ = 0;
  std::size_t dim_ = 0;
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> dist2_;
  Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> index_;
};

}  // namespace

std::unique_ptr<NeighbourSearch> make_cuda_neighbour_search() {
  if (!cuda_backend_available()) {
    throw std::runtime_error("CUDA scoring requested but no usable GPU/driver was found");
  }
  return std::make_unique<CudaNeighbourSearch>();
}

}  // namespace sensorgate::kernels
