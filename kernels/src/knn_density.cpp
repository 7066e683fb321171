#include "sensorgate/kernels/knn_density.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace sensorgate::kernels {

KnnDensityScorer::KnnDensityScorer(Options options, NeighbourSearch* search) : options_(options), search_(search) {
  if (options_.k == 0) throw std::invalid_argument("KnnDensityScorer: k must be at least 1");
  if (options_.score != Score::kKthDistance && options_.score != Score::kLof) {
    throw std::invalid_argument("KnnDensityScorer: unknown score");
  }
  if (search_ == nullptr) {
    own_search_ = make_cpu_neighbour_search();
    search_ = own_search_.get();
  }
  if (options_.k > search_->max_k()) {
    throw std::invalid_argument("KnnDensityScorer: k = " + std::to_string(options_.k) + " exceeds the " +
                                std::string(search_->name()) + " search's limit of " +
                                std::to_string(search_->max_k()));
  }
}

void KnnDensityScorer::fit(const Eigen::Ref<const RowMatrixXf>& reference) {
  const std::size_t need = options_.score == Score::kLof ? options_.k + 1 : options_.k;
  if (static_cast<std::size_t>(reference.rows()) < need) {
    throw std::invalid_argument("KnnDensityScorer: reference has " + std::to_string(reference.rows()) +
                                " vectors, k = " + std::to_string(options_.k) + " needs at least " +
                                std::to_string(need));
  }
  if (reference.cols() == 0) throw std::invalid_argument("KnnDensityScorer: reference vectors have no dimensions");
  if (!reference.allFinite()) throw std::invalid_argument("KnnDensityScorer: reference has non-finite values");
  reference_size_ = 0;
  k_distance_.resize(0);
  lrd_.resize(0);
  search_->set_points(reference);
  if (options_.score == Score::kLof) {
    const Neighbours nb = search_->search(reference, options_.k, true);
    k_distance_ = nb.dist2.col(static_cast<Eigen::Index>(options_.k) - 1).cwiseSqrt();
    lrd_ = lrd_of(nb);
  }
  reference_size_ = static_cast<std::size_t>(reference.rows());
  dim_ = static_cast<std::size_t>(reference.cols());
}

Neighbours KnnDensityScorer::neighbours(const Eigen::Ref<const RowMatrixXf>& queries) {
  if (!fitted()) throw std::logic_error("KnnDensityScorer: fit() first");
  if (static_cast<std::size_t>(queries.cols()) != dim_) {
    throw std::invalid_argument("KnnDensityScorer: queries have " + std::to_string(queries.cols()) +
                                " dimensions, the reference " + std::to_string(dim_));
  }
  return search_->search(queries, options_.k, false);
}

Eigen::VectorXf KnnDensityScorer::lrd_of(const Neighbours& nb) const {
  Eigen::VectorXf lrd(nb.dist2.rows());
  for (Eigen::Index i = 0; i < nb.dist2.rows(); ++i) {
    double reach = 0.0;
    for (Eigen::Index t = 0; t < nb.dist2.cols(); ++t) {
      reach += std::max<double>(k_distance_[nb.index(i, t)], std::sqrt(static_cast<double>(nb.dist2(i, t))));
    }
    lrd[i] = static_cast<float>(1.0 / (reach / static_cast<double>(nb.dist2.cols()) + 1e-10));
  }
  return lrd;
}

Eigen::VectorXf KnnDensityScorer::score_batch(const Eigen::Ref<const RowMatrixXf>& queries) {
  return score_neighbours(neighbours(queries));
}

Eigen::VectorXf KnnDensityScorer::score_neighbours(const Neighbours& nb) const {
  const auto k = static_cast<Eigen::Index>(options_.k);
  if (options_.score == Score::kKthDistance) return nb.dist2.col(k - 1).cwiseSqrt();
  const Eigen::VectorXf lrd_q = lrd_of(nb);
  Eigen::VectorXf lof(nb.dist2.rows());
  for (Eigen::Index i = 0; i < nb.dist2.rows(); ++i) {
    double sum = 0.0;
    for (Eigen::Index t = 0; t < k; ++t) sum += lrd_[nb.index(i, t)];
    lof[i] = static_cast<float>(sum / static_cast<double>(k) / lrd_q[i]);
  }
  return lof;
}

}  // namespace sensorgate::kernels
