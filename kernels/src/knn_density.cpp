#include "sensorgate/kernels/knn_density.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace sensorgate::kernels {

namespace {

/// Distances computed per query block: bounds the scratch matrix to about 16 MB.
constexpr Eigen::Index kBlockDistances = Eigen::Index{4} << 20;

}  // namespace

KnnDensityScorer::KnnDensityScorer(Options options) : options_(options) {
  if (options_.k == 0) throw std::invalid_argument("KnnDensityScorer: k must be at least 1");
  if (options_.score != Score::kKthDistance && options_.score != Score::kLof) {
    throw std::invalid_argument("KnnDensityScorer: unknown score");
  }
}

void KnnDensityScorer::fit(const Eigen::Ref<const Eigen::MatrixXf>& reference) {
  const std::size_t need = options_.score == Score::kLof ? options_.k + 1 : options_.k;
  if (static_cast<std::size_t>(reference.rows()) < need) {
    throw std::invalid_argument("KnnDensityScorer: reference has " + std::to_string(reference.rows()) +
                                " vectors, k = " + std::to_string(options_.k) + " needs at least " +
                                std::to_string(need));
  }
  if (reference.cols() == 0) throw std::invalid_argument("KnnDensityScorer: reference vectors have no dimensions");
  if (!reference.allFinite()) throw std::invalid_argument("KnnDensityScorer: reference has non-finite values");
  reference_ = reference;
  reference_norm2_ = reference_.rowwise().squaredNorm();
  k_distance_.resize(0);
  lrd_.resize(0);
  if (options_.score == Score::kLof) {
    const Neighbours nb = search(reference_, true);
    k_distance_ = nb.dist2.col(static_cast<Eigen::Index>(options_.k) - 1).cwiseSqrt();
    lrd_ = lrd_of(nb);
  }
}

KnnDensityScorer::Neighbours KnnDensityScorer::neighbours(const Eigen::Ref<const Eigen::MatrixXf>& queries) const {
  if (!fitted()) throw std::logic_error("KnnDensityScorer: fit() first");
  if (queries.cols() != reference_.cols()) {
    throw std::invalid_argument("KnnDensityScorer: queries have " + std::to_string(queries.cols()) +
                                " dimensions, the reference " + std::to_string(reference_.cols()));
  }
  return search(queries, false);
}

KnnDensityScorer::Neighbours KnnDensityScorer::search(const Eigen::Ref<const Eigen::MatrixXf>& queries,
                                                      bool exclude_self) const {
  const Eigen::Index n = reference_.rows();
  const Eigen::Index q = queries.rows();
  const auto k = static_cast<Eigen::Index>(options_.k);
  Neighbours out{Eigen::MatrixXf(q, k), Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic>(q, k)};
  const Eigen::Index block = std::max<Eigen::Index>(1, kBlockDistances / n);
  Eigen::MatrixXf dist2(n, std::min(block, q));  // column j: query j of the block
  std::vector<std::int32_t> order(static_cast<std::size_t>(n));
  for (Eigen::Index b0 = 0; b0 < q; b0 += block) {
    const Eigen::Index nb = std::min(block, q - b0);
    const auto qb = queries.middleRows(b0, nb);
    auto d2 = dist2.leftCols(nb);
    d2.noalias() = reference_ * qb.transpose();
    const Eigen::VectorXf qn = qb.rowwise().squaredNorm();
    for (Eigen::Index j = 0; j < nb; ++j) {
      // ||r||^2 + ||q||^2 − 2 r·q; rounding can make it slightly negative.
      d2.col(j) = ((reference_norm2_.array() + qn[j]) - 2.0F * d2.col(j).array()).cwiseMax(0.0F);
      if (exclude_self) d2(b0 + j, j) = std::numeric_limits<float>::infinity();
      const float* col = d2.col(j).data();
      std::iota(order.begin(), order.end(), 0);
      // Ties by index, so results do not depend on the selection algorithm.
      const auto closer = [col](std::int32_t a, std::int32_t c) {
        return col[a] < col[c] || (col[a] == col[c] && a < c);
      };
      std::nth_element(order.begin(), order.begin() + (k - 1), order.end(), closer);
      std::sort(order.begin(), order.begin() + k, closer);
      for (Eigen::Index t = 0; t < k; ++t) {
        const auto r = order[static_cast<std::size_t>(t)];
        out.dist2(b0 + j, t) = col[r];
        out.index(b0 + j, t) = r;
      }
    }
  }
  return out;
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

Eigen::VectorXf KnnDensityScorer::score_batch(const Eigen::Ref<const Eigen::MatrixXf>& queries) const {
  const Neighbours nb = neighbours(queries);
  const auto k = static_cast<Eigen::Index>(options_.k);
  if (options_.score == Score::kKthDistance) return nb.dist2.col(k - 1).cwiseSqrt();
  const Eigen::VectorXf lrd_q = lrd_of(nb);
  Eigen::VectorXf lof(queries.rows());
  for (Eigen::Index i = 0; i < queries.rows(); ++i) {
    double sum = 0.0;
    for (Eigen::Index t = 0; t < k; ++t) sum += lrd_[nb.index(i, t)];
    lof[i] = static_cast<float>(sum / static_cast<double>(k) / lrd_q[i]);
  }
  return lof;
}

}  // namespace sensorgate::kernels
