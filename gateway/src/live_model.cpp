#include "sensorgate/gateway/live_model.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

#include "sensorgate/kernels/moments.hpp"
#include "sensorgate/uplink/summary_features.hpp"

namespace sensorgate {
namespace {

/// The channel count of a summary-feature spec, or nullopt for any other spec: the spec
/// must be exactly what summary_feature_spec() writes for that count.
std::optional<std::size_t> spec_channels(const std::string& spec) {
  constexpr std::string_view kPrefix = "summary-v1:";
  if (!spec.starts_with(kPrefix)) return std::nullopt;
  std::size_t channels = 0;
  const char* first = spec.data() + kPrefix.size();
  const auto [end, ec] = std::from_chars(first, spec.data() + spec.size(), channels);
  if (ec != std::errc{} || end == first || channels == 0 || channels > kernels::kMaxChannels) return std::nullopt;
  if (uplink::summary_feature_spec(channels) != spec) return std::nullopt;
  return channels;
}

}  // namespace

std::shared_ptr<LiveModel> LiveModel::from_record(const uplink::ModelRecord& record, std::string& error) {
  const auto channels = spec_channels(record.feature_spec);
  if (!channels) {
    error = "feature spec '" + record.feature_spec + "' is not one this gateway computes (" +
            uplink::summary_feature_spec(16) + " for 16 channels)";
    return nullptr;
  }
  const std::size_t features = *channels * uplink::kSummaryFeaturesPerChannel;
  std::shared_ptr<LiveModel> model(new LiveModel());
  model->version_ = record.version;
  model->kind_ = record.kind;
  model->feature_spec_ = record.feature_spec;
  model->channels_ = *channels;
  std::size_t payload_features = 0;
  if (record.kind == uplink::ModelKind::kKMeans) {
    auto centroids = uplink::decode_centroid_model(record.payload, error);
    if (!centroids) return nullptr;
    payload_features = uplink::feature_count(*centroids);
    model->model_ = std::move(*centroids);
  } else {
    auto linear = uplink::decode_linear_model(record.payload, error);
    if (!linear) return nullptr;
    payload_features = uplink::feature_count(*linear);
    model->model_ = std::move(*linear);
  }
  if (payload_features != features) {
    error = "payload has " + std::to_string(payload_features) + " features, its spec says " + std::to_string(features);
    return nullptr;
  }
  return model;
}

float LiveModel::predict(std::span<const float> features) const {
  if (const auto* centroids = std::get_if<uplink::CentroidModel>(&model_)) {
    return static_cast<float>(uplink::nearest_centroid(*centroids, features));
  }
  const auto& linear = std::get<uplink::LinearModel>(model_);
  return kind_ == uplink::ModelKind::kLogisticRegression ? uplink::predict_logistic(linear, features)
                                                         : uplink::predict_linear(linear, features);
}

std::int32_t LiveModel::predicted_class(float prediction) const {
  if (kind_ == uplink::ModelKind::kLogisticRegression) return prediction >= 0.5F ? 1 : 0;
  return static_cast<std::int32_t>(std::lround(prediction));
}

float LiveModel::record_outcome(bool correct) const {
  const auto correct_now = correct_.fetch_add(correct ? 1 : 0, std::memory_order_relaxed) + (correct ? 1 : 0);
  const auto labelled_now = labelled_.fetch_add(1, std::memory_order_relaxed) + 1;
  return static_cast<float>(static_cast<double>(correct_now) / static_cast<double>(labelled_now));
}

void ModelSlot::install(std::shared_ptr<const LiveModel> model) {
  previous_ = current_.exchange(std::move(model), std::memory_order_acq_rel);
}

bool ModelSlot::rollback() {
  if (!previous_) return false;
  previous_ = current_.exchange(std::move(previous_), std::memory_order_acq_rel);
  return true;
}

}  // namespace sensorgate
