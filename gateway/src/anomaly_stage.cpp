#include "sensorgate/gateway/anomaly_stage.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sensorgate/kernels/window_features.hpp"

namespace sensorgate {
namespace {

/// Windows over which the score scale (mean normal raw score) is averaged, once full.
constexpr double kScaleWindows = 1000.0;

kernels::KnnDensityScorer::Score knn_score(ScoreMethod method) {
  return method == ScoreMethod::kLof ? kernels::KnnDensityScorer::Score::kLof
                                     : kernels::KnnDensityScorer::Score::kKthDistance;
}

}  // namespace

AnomalyStage::AnomalyStage(AnomalyOptions options)
    : options_(std::move(options)), search_(kernels::make_neighbour_search(options_.backend, options_.failover)) {
  if (options_.clusters == 0) throw std::invalid_argument("anomaly: clusters must be at least 1");
  if (options_.neighbours == 0 || options_.neighbours > search_->max_k()) {
    throw std::invalid_argument("anomaly: neighbours must be 1.." + std::to_string(search_->max_k()) + " for the " +
                                std::string(search_->name()) + " backend");
  }
  if (options_.max_reference <= options_.neighbours) {
    throw std::invalid_argument("anomaly: max_reference must exceed neighbours");
  }
  if (!(options_.kmeans_half_life_windows > 0)) {
    throw std::invalid_argument("anomaly: kmeans_half_life_windows must be positive");
  }
  // The detector checks its own options; make one now so a bad threshold fails at start-up.
  (void)kernels::AnomalyDetector(
      0, kernels::AnomalyDetector::Options{options_.enter_threshold, options_.exit_threshold,
                                           options_.min_duration_windows, kernels::kFeaturesPerChannel,
                                           options_.max_channels});
  if (options_.method != ScoreMethod::kKMeans) {
    knn_.emplace(kernels::KnnDensityScorer::Options{options_.neighbours, knn_score(options_.method)}, search_.get());
  }
}

AnomalyStage::DeviceModel& AnomalyStage::device(std::uint32_t index, std::size_t dim) {
  auto it = devices_.find(index);
  if (it == devices_.end()) {
    kernels::RunningZScore::Options z;
    z.half_life_points = options_.zscore_half_life_windows;
    it = devices_
             .emplace(index,
                      DeviceModel{kernels::RunningZScore(dim, z),
                                  kernels::AnomalyDetector(index,
                                                           kernels::AnomalyDetector::Options{
                                                               options_.enter_threshold, options_.exit_threshold,
                                                               options_.min_duration_windows,
                                                               kernels::kFeaturesPerChannel, options_.max_channels})})
             .first;
  }
  return it->second;
}

void AnomalyStage::process(std::span<const ScoringInput> windows, std::span<float> scores,
                           std::vector<kernels::AnomalyEvent>& events) {
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  std::fill(scores.begin(), scores.end(), kNaN);
  if (dim_ == 0 && !windows.empty()) dim_ = windows.front().window->channels.size() * kernels::kFeaturesPerChannel;
  const auto n = static_cast<Eigen::Index>(windows.size());
  const auto dim = static_cast<Eigen::Index>(dim_);
  features_.setConstant(n, dim, kNaN);
  raw_features_.setConstant(n, dim, kNaN);
  std::vector<Eigen::Index> with_features;
  std::vector<bool> training(windows.size(), false);
  std::vector<bool> model_input(windows.size(), false);
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto& input = windows[static_cast<std::size_t>(i)];
    const ClosedWindow& w = *input.window;
    if (w.revision > 0) continue;  // scored when first emitted
    if (w.bands.size() != w.channels.size() || w.line_length.size() != w.channels.size() ||
        w.channels.size() * kernels::kFeaturesPerChannel != dim_) {
      // No band powers, or a device whose channel count differs from the model's.
      counters_.unscorable.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    kernels::window_features(w.channels, w.bands, w.line_length, std::span<float>(raw_features_.row(i).data(), dim_));
    if (!raw_features_.row(i).allFinite()) {
      counters_.unscorable.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    DeviceModel& model = device(input.device_index, dim_);
    const bool warming_up = model.windows < options_.warmup_windows;
    const bool train = warming_up || w.end_ns <= options_.train_until_ns;
    ++model.windows;
    // A training window joins the z-score before it is normalised, so the first windows
    // are normalised by statistics that include them (as a batch z-score would be).
    if (train) model.zscore.update(raw_features_.row(i).transpose());
    features_.row(i) = model.zscore.normalize(raw_features_.row(i).transpose()).transpose();
    training[static_cast<std::size_t>(i)] = train;
    // Warm-up windows only shape the z-score: normalised by a handful of windows, their
    // features would be outliers in the model.
    model_input[static_cast<std::size_t>(i)] = !warming_up;
    with_features.push_back(i);
  }
  if (with_features.empty()) return;

  score_rows(with_features, raw_, nearest_);
  for (std::size_t j = 0; j < with_features.size(); ++j) {
    if (training[static_cast<std::size_t>(with_features[j])]) update_scale(raw_[j]);
  }
  // The first scores of a stage without training windows only seed the scale.
  const bool seeding = scale_n_ == 0;
  std::vector<Eigen::Index> normal;
  for (std::size_t j = 0; j < with_features.size(); ++j) {
    const Eigen::Index i = with_features[j];
    const auto& input = windows[static_cast<std::size_t>(i)];
    const float raw = raw_[j];
    if (training[static_cast<std::size_t>(i)]) {
      if (model_input[static_cast<std::size_t>(i)]) normal.push_back(i);
      continue;
    }
    if (!std::isfinite(raw) || seeding) {
      // No model or no scale yet: learn the window (online learning or not), score nothing.
      counters_.unscorable.fetch_add(1, std::memory_order_relaxed);
      update_scale(raw);
      normal.push_back(i);
      continue;
    }
    const double score = raw / scale_;
    scores[static_cast<std::size_t>(i)] = static_cast<float>(score);
    counters_.scored.fetch_add(1, std::memory_order_relaxed);
    const Eigen::VectorXf contrib = contributions(i, nearest_[j]);
    const ClosedWindow& w = *input.window;
    auto event =
        devices_.at(input.device_index)
            .detector.push({w.start_ns, w.end_ns, score, std::span<const float>(contrib.data(), contrib.size())});
    if (event) {
      if (event->ongoing) counters_.events.fetch_add(1, std::memory_order_relaxed);
      events.push_back(std::move(*event));
    }
    if (options_.learn_online && score < options_.enter_threshold) normal.push_back(i);
  }
  // The scale follows the raw scores of normal windows: scored ones below the threshold,
  // and training ones (counted first, so a batch holding the end of the reference and the
  // start of the input scores the input).
  for (std::size_t j = 0; j < with_features.size() && options_.learn_online; ++j) {
    const Eigen::Index i = with_features[j];
    if (training[static_cast<std::size_t>(i)]) continue;
    if (const float score = scores[static_cast<std::size_t>(i)];
        std::isfinite(score) && score < options_.enter_threshold) {
      update_scale(raw_[j]);
    }
  }
  for (const Eigen::Index i : normal) {
    if (training[static_cast<std::size_t>(i)]) continue;  // already in its z-score
    devices_.at(windows[static_cast<std::size_t>(i)].device_index).zscore.update(raw_features_.row(i).transpose());
  }
  learn(normal);
}

void AnomalyStage::update_scale(float raw) {
  if (!std::isfinite(raw)) return;
  ++scale_n_;
  scale_ += (raw - scale_) / std::min(static_cast<double>(scale_n_), kScaleWindows);
}

void AnomalyStage::score_rows(std::span<const Eigen::Index> rows, std::vector<float>& raw,
                              std::vector<std::int32_t>& nearest) {
  raw.assign(rows.size(), std::numeric_limits<float>::quiet_NaN());
  nearest.assign(rows.size(), -1);
  kernels::RowMatrixXf queries(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(dim_));
  for (std::size_t j = 0; j < rows.size(); ++j) queries.row(static_cast<Eigen::Index>(j)) = features_.row(rows[j]);
  kernels::Neighbours nb;
  Eigen::VectorXf s;
  if (options_.method == ScoreMethod::kKMeans) {
    if (!kmeans_ || !kmeans_->ready()) return;
    centroids_ = kmeans_->centroids().topRows(static_cast<Eigen::Index>(kmeans_->seeded())).cast<float>();
    search_->set_points(centroids_);
    nb = search_->search(queries, 1, false);
    s = nb.dist2.col(0).cwiseSqrt();
  } else {
    refit_if_grown();
    if (!knn_->fitted()) return;
    nb = knn_->neighbours(queries);
    s = knn_->score_neighbours(nb);
  }
  for (std::size_t j = 0; j < rows.size(); ++j) {
    raw[j] = s[static_cast<Eigen::Index>(j)];
    nearest[j] = nb.index(static_cast<Eigen::Index>(j), 0);
  }
}

Eigen::VectorXf AnomalyStage::contributions(Eigen::Index row, std::int32_t nearest) const {
  const auto& points = options_.method == ScoreMethod::kKMeans ? centroids_ : fitted_reference_;
  if (nearest < 0 || nearest >= points.rows()) return {};
  return (features_.row(row) - points.row(nearest)).array().square().transpose();
}

void AnomalyStage::learn(std::span<const Eigen::Index> rows) {
  if (rows.empty()) return;
  counters_.learned.fetch_add(rows.size(), std::memory_order_relaxed);
  if (options_.method == ScoreMethod::kKMeans) {
    if (!kmeans_) {
      kmeans_.emplace(kernels::StreamingKMeans::Options{
          options_.clusters, dim_, kernels::StreamingKMeans::decay_for_half_life(options_.kmeans_half_life_windows),
          kernels::StreamingKMeans::TimeUnit::kPoints});
    }
    Eigen::MatrixXf batch(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(dim_));
    for (std::size_t j = 0; j < rows.size(); ++j) batch.row(static_cast<Eigen::Index>(j)) = features_.row(rows[j]);
    kmeans_->update(batch);
    return;
  }
  const std::size_t have = reference_.size() / dim_;
  if (have >= options_.max_reference) return;
  for (const Eigen::Index i : rows) {
    if (reference_.size() / dim_ >= options_.max_reference) break;
    reference_.insert(reference_.end(), features_.row(i).data(), features_.row(i).data() + dim_);
  }
}

void AnomalyStage::refit_if_grown() {
  const auto size = static_cast<Eigen::Index>(reference_.size() / dim_);
  const auto fitted = fitted_reference_.rows();
  // Refit once the set has grown by a tenth: LOF's fit is O(n^2), so refitting on every
  // learned window would cost far more than the scoring; a tenth bounds the total refit
  // work to a few times that of the final fit.
  const bool due = fitted == 0 ? static_cast<std::size_t>(size) > options_.neighbours
                               : size >= fitted + std::max<Eigen::Index>(1, fitted / 10);
  if (!due) return;
  fitted_reference_ = Eigen::Map<const kernels::RowMatrixXf>(reference_.data(), size, static_cast<Eigen::Index>(dim_));
  knn_->fit(fitted_reference_);
}

void AnomalyStage::flush(std::vector<kernels::AnomalyEvent>& events) {
  for (auto& [index, model] : devices_) {
    if (auto event = model.detector.flush()) events.push_back(std::move(*event));
  }
}

}  // namespace sensorgate
