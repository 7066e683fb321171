#pragma once
// NeighbourSearch: the compute backend of anomaly scoring. Every score the gateway computes
// is a brute-force k-nearest-neighbour search of the feature vectors of one tick's closed
// windows (all devices of a worker at once) against a set of points: the k-means centroids
// (k = 1: distance to the nearest centroid) or a kNN/LOF reference of up to 100,000
// vectors. That search is the O(queries × points × dim) part; what follows (k-distances,
// LOF) is O(queries × k) and runs on the host for both backends, so they share it.
//
// Backends: CPU (Eigen GEMM + partial sort, see knn_density.hpp for the method) and CUDA
// (one thread block per query, see kernels/cuda/neighbour_search_device.cu). Results agree
// within float rounding: the CPU expands ||p − q||² as ||p||² + ||q||² − 2·p·q, the GPU sums
// squared differences; neighbours at (nearly) equal distances may come in another order.
// FailoverNeighbourSearch wraps a primary (the GPU) and the CPU: a failing search is redone
// on the CPU, counted and logged, and the primary is tried again later.

#include <Eigen/Core>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sensorgate/kernels/failover.hpp"

namespace sensorgate::kernels {

/// Row-major float matrix: one vector per row, contiguous, as the GPU copies it.
using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Squared distances and point indices of the k nearest points of every query, nearest
/// first (ties by index): row i of each q × k matrix belongs to query i.
struct Neighbours {
  Eigen::MatrixXf dist2;
  Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic> index;
};

class NeighbourSearch {
 public:
  NeighbourSearch() = default;
  virtual ~NeighbourSearch() = default;
  NeighbourSearch(const NeighbourSearch&) = delete;
  NeighbourSearch& operator=(const NeighbourSearch&) = delete;
  NeighbourSearch(NeighbourSearch&&) = delete;
  NeighbourSearch& operator=(NeighbourSearch&&) = delete;

  [[nodiscard]] virtual std::string_view name() const = 0;
  /// The most neighbours one search can return (the GPU keeps them in shared memory).
  [[nodiscard]] virtual std::size_t max_k() const = 0;

  /// The points searched from now on, one per row (n × d, n ≥ 1, finite). Throws
  /// std::invalid_argument for an empty or non-finite set, std::runtime_error when the
  /// device fails.
  virtual void set_points(const Eigen::Ref<const RowMatrixXf>& points) = 0;

  /// The k nearest points of every query row (q × d). `exclude_self`: query i is point i
  /// (a search of the points among themselves) and does not count as its own neighbour.
  /// Throws std::invalid_argument when k is 0, above max_k() or above the points available,
  /// or d differs; std::logic_error before set_points(); std::runtime_error when the
  /// device fails.
  [[nodiscard]] virtual Neighbours search(const Eigen::Ref<const RowMatrixXf>& queries, std::size_t k,
                                          bool exclude_self) = 0;

  [[nodiscard]] virtual std::size_t points() const = 0;
  [[nodiscard]] virtual std::size_t dim() const = 0;
  /// The failover counters of a search made by make_neighbour_search(); null otherwise.
  [[nodiscard]] virtual const FailoverCounters* failover_counters() const { return nullptr; }
};

/// Argument checks every backend makes (the exceptions documented above).
void check_points(const Eigen::Ref<const RowMatrixXf>& points);
void check_search(const NeighbourSearch& search, const Eigen::Ref<const RowMatrixXf>& queries, std::size_t k,
                  bool exclude_self);

/// Eigen on the CPU; always available. For a block of queries Q the squared distances to
/// the points P are ||p||² + ||q||² − 2·P·Qᵀ (one float GEMM, clamped at 0), then
/// std::nth_element finds the k-th smallest per query and the points at or below it are
/// sorted; queries go in blocks of about 4 M
/// distances (16 MB of scratch). The GEMM loses about 1e-6·(||q||² + ||p||²) of a squared
/// distance, harmless for z-scored features.
class CpuNeighbourSearch final : public NeighbourSearch {
 public:
  [[nodiscard]] std::string_view name() const override { return "cpu"; }
  [[nodiscard]] std::size_t max_k() const override { return 1U << 20U; }
  void set_points(const Eigen::Ref<const RowMatrixXf>& points) override;
  [[nodiscard]] Neighbours search(const Eigen::Ref<const RowMatrixXf>& queries, std::size_t k,
                                  bool exclude_self) override;
  [[nodiscard]] std::size_t points() const override { return static_cast<std::size_t>(points_.rows()); }
  [[nodiscard]] std::size_t dim() const override { return static_cast<std::size_t>(points_.cols()); }
  [[nodiscard]] const RowMatrixXf& point_matrix() const { return points_; }

 private:
  RowMatrixXf points_;
  Eigen::VectorXf norm2_;  ///< ||p||² per point
  Eigen::MatrixXf dist2_;  ///< scratch: points × block
  std::vector<float> kth_scratch_;
  std::vector<std::int32_t> candidates_;
};

std::unique_ptr<NeighbourSearch> make_cpu_neighbour_search();

/// The CUDA search; throws std::runtime_error when the build lacks CUDA or no GPU is usable.
std::unique_ptr<NeighbourSearch> make_cuda_neighbour_search();

/// Searches on a primary backend with the CPU as fallback (FailoverSwitch, failover.hpp).
/// The CPU search always holds the points too, so a failed search is redone at once and a
/// new primary is re-seeded from them (memory: twice the points on the host).
class FailoverNeighbourSearch final : public NeighbourSearch {
 public:
  using PrimaryFactory = std::function<std::unique_ptr<NeighbourSearch>()>;

  /// Throws what `make_primary` throws the first time (so "cuda" fails at start-up
  /// when no GPU is usable); later failures only switch to the CPU.
  FailoverNeighbourSearch(PrimaryFactory make_primary, FailoverOptions options);

  [[nodiscard]] std::string_view name() const override;
  [[nodiscard]] std::size_t max_k() const override;
  void set_points(const Eigen::Ref<const RowMatrixXf>& points) override;
  [[nodiscard]] Neighbours search(const Eigen::Ref<const RowMatrixXf>& queries, std::size_t k,
                                  bool exclude_self) override;
  [[nodiscard]] std::size_t points() const override { return cpu_->points(); }
  [[nodiscard]] std::size_t dim() const override { return cpu_->dim(); }

  [[nodiscard]] const FailoverCounters* failover_counters() const override { return &switch_.counters(); }

  [[nodiscard]] bool on_primary() const { return primary_ != nullptr; }
  [[nodiscard]] const FailoverCounters& counters() const { return switch_.counters(); }

 private:
  PrimaryFactory make_primary_;
  std::unique_ptr<NeighbourSearch> primary_;  ///< null while on the CPU
  std::size_t primary_max_k_ = 0;
  std::unique_ptr<CpuNeighbourSearch> cpu_;  ///< always holds the current points
  FailoverSwitch switch_;
};

/// Picks the scoring backend by name, as make_failover_backend() does for the block
/// statistics: "cpu", "cuda" (throws when unavailable) or "auto" (CUDA when available, else
/// CPU) as the primary of a FailoverNeighbourSearch. "cpu" gives the plain CPU search,
/// unless options inject failures (then a CPU primary is wrapped, so the switch is tested
/// on a machine without a GPU). Throws std::invalid_argument for another name.
std::unique_ptr<NeighbourSearch> make_neighbour_search(std::string_view choice, const FailoverOptions& options);

}  // namespace sensorgate::kernels
