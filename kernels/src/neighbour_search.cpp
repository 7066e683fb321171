#include "sensorgate/kernels/neighbour_search.hpp"

#include "sensorgate/kernels/block_stats.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace sensorgate::kernels {
namespace {

/// Distances computed per query block: bounds the scratch matrix to about 16 MB.
constexpr Eigen::Index kBlockDistances = Eigen::Index{4} << 20;

}  // namespace

void check_points(const Eigen::Ref<const RowMatrixXf>& points) {
  if (points.rows() == 0 || points.cols() == 0) throw std::invalid_argument("NeighbourSearch: no points");
  if (!points.allFinite()) throw std::invalid_argument("NeighbourSearch: points have non-finite values");
}

void check_search(const NeighbourSearch& search, const Eigen::Ref<const RowMatrixXf>& queries, std::size_t k,
                  bool exclude_self) {
  if (search.points() == 0) throw std::logic_error("NeighbourSearch: set_points() first");
  if (static_cast<std::size_t>(queries.cols()) != search.dim()) {
    throw std::invalid_argument("NeighbourSearch: queries have " + std::to_string(queries.cols()) +
                                " dimensions, points " + std::to_string(search.dim()));
  }
  if (exclude_self && static_cast<std::size_t>(queries.rows()) != search.points()) {
    throw std::invalid_argument("NeighbourSearch: exclude_self needs the points as queries");
  }
  const std::size_t available = search.points() - (exclude_self ? 1 : 0);
  if (k == 0 || k > available || k > search.max_k()) {
    throw std::invalid_argument("NeighbourSearch: k = " + std::to_string(k) + " with " + std::to_string(available) +
                                " points available and a limit of " + std::to_string(search.max_k()));
  }
}

void CpuNeighbourSearch::set_points(const Eigen::Ref<const RowMatrixXf>& points) {
  check_points(points);
  points_ = points;
  norm2_ = points_.rowwise().squaredNorm();
}

Neighbours CpuNeighbourSearch::search(const Eigen::Ref<const RowMatrixXf>& queries, std::size_t k, bool exclude_self) {
  check_search(*this, queries, k, exclude_self);
  const Eigen::Index n = points_.rows();
  const Eigen::Index q = queries.rows();
  const auto kk = static_cast<Eigen::Index>(k);
  Neighbours out{Eigen::MatrixXf(q, kk), Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic>(q, kk)};
  const Eigen::Index block = std::max<Eigen::Index>(1, kBlockDistances / n);
  dist2_.resize(n, std::min(block, q));  // column j: query j of the block
  for (Eigen::Index b0 = 0; b0 < q; b0 += block) {
    const Eigen::Index nb = std::min(block, q - b0);
    const auto qb = queries.middleRows(b0, nb);
    auto d2 = dist2_.leftCols(nb);
    d2.noalias() = points_ * qb.transpose();
    const Eigen::VectorXf qn = qb.rowwise().squaredNorm();
    for (Eigen::Index j = 0; j < nb; ++j) {
      // ||p||^2 + ||q||^2 − 2 p·q; rounding can make it slightly negative.
      d2.col(j) = ((norm2_.array() + qn[j]) - 2.0F * d2.col(j).array()).cwiseMax(0.0F);
      if (exclude_self) d2(b0 + j, j) = std::numeric_limits<float>::infinity();
      const float* col = d2.col(j).data();
      // The k-th smallest distance by nth_element on a copy of the floats (contiguous,
      // several times faster than selecting indices through the distances), then the
      // indices at or below it, sorted by distance and index so ties come out as the CPU
      // and GPU both define them.
      kth_scratch_.assign(col, col + n);
      std::nth_element(kth_scratch_.begin(), kth_scratch_.begin() + (kk - 1), kth_scratch_.end());
      const float kth = kth_scratch_[static_cast<std::size_t>(kk - 1)];
      candidates_.clear();
      for (Eigen::Index i = 0; i < n; ++i) {
        if (col[i] <= kth) candidates_.push_back(static_cast<std::int32_t>(i));
      }
      std::sort(candidates_.begin(), candidates_.end(),
                [col](std::int32_t a, std::int32_t c) { return col[a] < col[c] || (col[a] == col[c] && a < c); });
      for (Eigen::Index t = 0; t < kk; ++t) {
        const auto r = candidates_[static_cast<std::size_t>(t)];
        out.dist2(b0 + j, t) = col[r];
        out.index(b0 + j, t) = r;
      }
    }
  }
  return out;
}

std::unique_ptr<NeighbourSearch> make_cpu_neighbour_search() {
  return std::make_unique<CpuNeighbourSearch>();
}

#if !SENSORGATE_HAVE_CUDA
std::unique_ptr<NeighbourSearch> make_cuda_neighbour_search() {
  throw std::runtime_error("this build of sensorgate has no CUDA backend (configure with SENSORGATE_CUDA=ON)");
}
#endif

FailoverNeighbourSearch::FailoverNeighbourSearch(PrimaryFactory make_primary, FailoverOptions options)
    : make_primary_(std::move(make_primary)),
      primary_(make_primary_()),
      primary_max_k_(primary_->max_k()),
      cpu_(std::make_unique<CpuNeighbourSearch>()),
      switch_("scoring", std::string(primary_->name()), options) {}

std::string_view FailoverNeighbourSearch::name() const {
  return primary_ != nullptr ? primary_->name() : std::string_view("cpu (failover)");
}

std::size_t FailoverNeighbourSearch::max_k() const {
  // What the primary takes, so that switching back never meets a k it cannot serve.
  return std::min(cpu_->max_k(), primary_max_k_);
}

void FailoverNeighbourSearch::set_points(const Eigen::Ref<const RowMatrixXf>& points) {
  cpu_->set_points(points);
  if (primary_ == nullptr) return;
  try {
    primary_->set_points(points);
  } catch (const std::runtime_error& error) {
    switch_.failed(error);
    primary_.reset();
  }
}

Neighbours FailoverNeighbourSearch::search(const Eigen::Ref<const RowMatrixXf>& queries, std::size_t k,
                                           bool exclude_self) {
  return switch_.call<NeighbourSearch, Neighbours>(
      primary_, make_primary_,
      [this](NeighbourSearch& fresh) {
        if (cpu_->points() > 0) fresh.set_points(cpu_->point_matrix());
      },
      [&](NeighbourSearch& primary) { return primary.search(queries, k, exclude_self); },
      [&] { return cpu_->search(queries, k, exclude_self); });
}

std::unique_ptr<NeighbourSearch> make_neighbour_search(std::string_view choice, const FailoverOptions& options) {
  FailoverNeighbourSearch::PrimaryFactory factory;
  if (choice == "cuda") {
    factory = make_cuda_neighbour_search;
  } else if (choice == "auto") {
    factory = [] { return cuda_backend_available() ? make_cuda_neighbour_search() : make_cpu_neighbour_search(); };
  } else if (choice == "cpu") {
    if (options.fail_primary_after == 0) return make_cpu_neighbour_search();
    factory = make_cpu_neighbour_search;
  } else {
    throw std::invalid_argument("unknown scoring backend \"" + std::string(choice) + "\" (cpu, cuda or auto)");
  }
  return std::make_unique<FailoverNeighbourSearch>(std::move(factory), options);
}

}  // namespace sensorgate::kernels
