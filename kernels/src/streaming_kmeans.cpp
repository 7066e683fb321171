#include "sensorgate/kernels/streaming_kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace sensorgate::kernels {

namespace {

[[noreturn]] void reject(const std::string& why) {
  throw std::invalid_argument("StreamingKMeans: " + why);
}

void check_options(const StreamingKMeans::Options& o) {
  if (o.k == 0 || o.k > StreamingKMeans::kMaxK)
    reject("k must be in [1, " + std::to_string(StreamingKMeans::kMaxK) + "]");
  if (o.dim == 0 || o.dim > StreamingKMeans::kMaxDim) {
    reject("dim must be in [1, " + std::to_string(StreamingKMeans::kMaxDim) + "]");
  }
  if (!(o.decay_factor >= 0.0 && o.decay_factor <= 1.0)) reject("decay_factor must be in [0, 1]");
  if (o.time_unit != StreamingKMeans::TimeUnit::kBatches && o.time_unit != StreamingKMeans::TimeUnit::kPoints) {
    reject("unknown time unit");
  }
}

/// The value of a header field that must be a whole number in [lo, hi].
std::size_t whole(float v, std::size_t lo, std::size_t hi, const char* what) {
  if (!std::isfinite(v) || v != std::floor(v) || v < static_cast<float>(lo) || v > static_cast<float>(hi)) {
    reject(std::string("bad blob: ") + what + " = " + std::to_string(v) + " is not a whole number in [" +
           std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<std::size_t>(v);
}

}  // namespace

double StreamingKMeans::decay_for_half_life(double half_life) {
  if (!(half_life > 0.0)) reject("half_life must be > 0");
  return std::exp(std::log(0.5) / half_life);
}

StreamingKMeans::StreamingKMeans(Options options) : options_(options) {
  check_options(options_);
  const auto k = static_cast<Eigen::Index>(options_.k);
  centroids_ = Eigen::MatrixXd::Zero(k, static_cast<Eigen::Index>(options_.dim));
  weights_ = Eigen::VectorXd::Zero(k);
}

void StreamingKMeans::check_point(Eigen::Index size) const {
  if (static_cast<std::size_t>(size) != options_.dim) {
    reject("point has " + std::to_string(size) + " dimensions, expected " + std::to_string(options_.dim));
  }
}

void StreamingKMeans::set_centroids(const Eigen::Ref<const Eigen::MatrixXf>& centroids,
                                    std::span<const double> weights) {
  if (static_cast<std::size_t>(centroids.rows()) != options_.k ||
      static_cast<std::size_t>(centroids.cols()) != options_.dim) {
    reject("centroids are " + std::to_string(centroids.rows()) + " x " + std::to_string(centroids.cols()) +
           ", expected " + std::to_string(options_.k) + " x " + std::to_string(options_.dim));
  }
  if (!centroids.allFinite()) reject("centroids must be finite");
  if (!weights.empty() && weights.size() != options_.k) reject("need one weight per centroid");
  for (const double w : weights) {
    if (!std::isfinite(w) || w < 0.0) reject("weights must be finite and >= 0");
  }
  centroids_ = centroids.cast<double>();
  for (std::size_t i = 0; i < options_.k; ++i) {
    weights_[static_cast<Eigen::Index>(i)] = weights.empty() ? 1.0 : weights[i];
  }
  seeded_ = options_.k;
}

std::pair<std::size_t, double> StreamingKMeans::nearest(const Eigen::Ref<const Eigen::VectorXd>& x) const {
  std::size_t best = 0;
  double best_d2 = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < seeded_; ++i) {
    const double d2 = (centroids_.row(static_cast<Eigen::Index>(i)).transpose() - x).squaredNorm();
    if (d2 < best_d2) {
      best_d2 = d2;
      best = i;
    }
  }
  return {best, best_d2};
}

void StreamingKMeans::update(const Eigen::Ref<const Eigen::MatrixXf>& batch) {
  check_point(batch.cols());
  const auto dim = static_cast<Eigen::Index>(options_.dim);
  const auto k = static_cast<Eigen::Index>(options_.k);

  // Seed from the first distinct points until k centroids exist.
  for (Eigen::Index r = 0; r < batch.rows() && seeded_ < options_.k; ++r) {
    if (!batch.row(r).allFinite()) continue;
    const Eigen::VectorXd x = batch.row(r).transpose().cast<double>();
    if (seeded_ > 0 && nearest(x).second == 0.0) continue;
    centroids_.row(static_cast<Eigen::Index>(seeded_)) = x.transpose();
    weights_[static_cast<Eigen::Index>(seeded_)] = 0.0;
    ++seeded_;
  }
  if (seeded_ == 0) {
    skipped_points_ += static_cast<std::size_t>(batch.rows());
    return;
  }

  // Sums and counts per cluster, assigned with the centroids from before this batch.
  Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(k, dim);
  Eigen::VectorXd counts = Eigen::VectorXd::Zero(k);
  double total = 0.0;
  for (Eigen::Index r = 0; r < batch.rows(); ++r) {
    if (!batch.row(r).allFinite()) {
      ++skipped_points_;
      continue;
    }
    const Eigen::VectorXd x = batch.row(r).transpose().cast<double>();
    const auto label = static_cast<Eigen::Index>(nearest(x).first);
    sums.row(label) += x.transpose();
    counts[label] += 1.0;
    total += 1.0;
  }
  if (total == 0.0) return;

  const double discount =
      options_.time_unit == TimeUnit::kPoints ? std::pow(options_.decay_factor, total) : options_.decay_factor;
  weights_ *= discount;
  for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(seeded_); ++i) {
    const double m = counts[i];
    if (m == 0.0) continue;
    // c' = (c·n·a + x̄·m) / (n·a + m), written as Spark does: c·(1 − λ) + (sum / m)·λ.
    const double updated = weights_[i] + m;
    const double lambda = m / std::max(updated, 1e-16);
    weights_[i] = updated;
    centroids_.row(i) = centroids_.row(i) * (1.0 - lambda) + sums.row(i) * (lambda / m);
  }
  if (seeded_ == options_.k && options_.k > 1) split_dying_cluster();
}

void StreamingKMeans::split_dying_cluster() {
  Eigen::Index largest = 0;
  Eigen::Index smallest = 0;
  const double max_w = weights_.maxCoeff(&largest);
  const double min_w = weights_.minCoeff(&smallest);
  if (!(min_w < 1e-8 * max_w)) return;
  const double w = (max_w + min_w) / 2.0;
  weights_[largest] = w;
  weights_[smallest] = w;
  for (Eigen::Index j = 0; j < centroids_.cols(); ++j) {
    const double c = centroids_(largest, j);
    const double p = 1e-6 * std::max(std::abs(c), 1.0);
    centroids_(largest, j) = c + p;
    centroids_(smallest, j) = c - p;
  }
  ++splits_;
}

std::size_t StreamingKMeans::predict(const Eigen::Ref<const Eigen::VectorXf>& x) const {
  check_point(x.size());
  if (!ready()) throw std::logic_error("StreamingKMeans: no centroids yet");
  return nearest(x.cast<double>()).first;
}

double StreamingKMeans::score(const Eigen::Ref<const Eigen::VectorXf>& x) const {
  check_point(x.size());
  if (!ready()) throw std::logic_error("StreamingKMeans: no centroids yet");
  return std::sqrt(nearest(x.cast<double>()).second);
}

Eigen::VectorXf StreamingKMeans::contributions(const Eigen::Ref<const Eigen::VectorXf>& x) const {
  const auto label = static_cast<Eigen::Index>(predict(x));
  const Eigen::VectorXd diff = x.cast<double>() - centroids_.row(label).transpose();
  return diff.cwiseAbs2().cast<float>();
}

std::vector<float> StreamingKMeans::to_flat() const {
  const auto k = static_cast<Eigen::Index>(options_.k);
  const auto dim = static_cast<Eigen::Index>(options_.dim);
  std::vector<float> out;
  out.reserve(kFlatHeader + (options_.k * options_.dim) + options_.k);
  out.push_back(kFlatMagic);
  out.push_back(kFlatVersion);
  out.push_back(static_cast<float>(options_.k));
  out.push_back(static_cast<float>(options_.dim));
  out.push_back(static_cast<float>(seeded_));
  out.push_back(static_cast<float>(options_.decay_factor));
  out.push_back(static_cast<float>(static_cast<std::uint8_t>(options_.time_unit)));
  for (Eigen::Index i = 0; i < k; ++i) {
    for (Eigen::Index j = 0; j < dim; ++j) out.push_back(static_cast<float>(centroids_(i, j)));
  }
  for (Eigen::Index i = 0; i < k; ++i) out.push_back(static_cast<float>(weights_[i]));
  return out;
}

StreamingKMeans StreamingKMeans::from_flat(std::span<const float> blob, std::size_t expected_dim) {
  if (blob.size() < kFlatHeader) {
    reject("bad blob: " + std::to_string(blob.size()) + " floats, the header alone needs " +
           std::to_string(kFlatHeader));
  }
  if (blob[0] != kFlatMagic) reject("bad blob: wrong magic (not a streaming k-means model)");
  if (blob[1] != kFlatVersion) {
    reject("bad blob: unsupported version " + std::to_string(blob[1]) + " (this build reads version 1)");
  }
  Options o;
  o.k = whole(blob[2], 1, kMaxK, "k");
  o.dim = whole(blob[3], 1, kMaxDim, "dim");
  const std::size_t seeded = whole(blob[4], 0, o.k, "seeded");
  if (!(blob[5] >= 0.0F && blob[5] <= 1.0F)) reject("bad blob: decay_factor outside [0, 1]");
  o.decay_factor = blob[5];
  o.time_unit = static_cast<TimeUnit>(whole(blob[6], 0, 1, "time_unit"));
  if (expected_dim != 0 && o.dim != expected_dim) {
    reject("bad blob: model has " + std::to_string(o.dim) + " dimensions, the features have " +
           std::to_string(expected_dim));
  }
  // In 64 bits: k·dim can reach 2^32, which would wrap a 32-bit size_t (armhf).
  const std::uint64_t want = kFlatHeader + (std::uint64_t{o.k} * o.dim) + o.k;
  if (std::uint64_t{blob.size()} != want) {
    reject("bad blob: " + std::to_string(blob.size()) + " floats, k = " + std::to_string(o.k) +
           " and dim = " + std::to_string(o.dim) + " need " + std::to_string(want));
  }
  const auto values = blob.subspan(kFlatHeader);
  if (!std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); })) {
    reject("bad blob: non-finite centroid or weight");
  }
  StreamingKMeans model(o);
  const auto k = static_cast<Eigen::Index>(o.k);
  const auto dim = static_cast<Eigen::Index>(o.dim);
  std::size_t at = 0;
  for (Eigen::Index i = 0; i < k; ++i) {
    for (Eigen::Index j = 0; j < dim; ++j) model.centroids_(i, j) = values[at++];
  }
  for (Eigen::Index i = 0; i < k; ++i) {
    const float w = values[at++];
    if (w < 0.0F) reject("bad blob: negative cluster weight");
    model.weights_[i] = w;
  }
  model.seeded_ = seeded;
  return model;
}

}  // namespace sensorgate::kernels
