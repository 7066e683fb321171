#include "sensorgate/gateway/window_classifier.hpp"

#include "sensorgate/common/counter.hpp"
#include "sensorgate/uplink/summary_features.hpp"

namespace sensorgate {

void WindowClassifier::apply(uplink::WindowSummaryRecord& window) {
  if (labels_ != nullptr) {
    if (const auto label = labels_->majority(window.device_id, window.window_start_ns, window.window_end_ns)) {
      window.label = *label;
      bump(counters_.windows_labelled);
    }
  }
  const auto model = models_ != nullptr ? models_->current() : nullptr;
  if (!model) return;
  features_.resize(window.channels.size() * uplink::kSummaryFeaturesPerChannel);
  if (window.channels.size() != model->channels() || !uplink::summary_features(window, features_)) {
    bump(counters_.windows_unclassifiable);
    return;
  }
  window.prediction = model->predict(features_);
  window.model_version = model->version();
  bump(counters_.windows_classified);
  // Prequential: the prediction above was made before the label was looked at.
  if (window.label >= 0 && model->kind() != uplink::ModelKind::kKMeans) {
    window.prequential_accuracy = model->record_outcome(model->predicted_class(window.prediction) == window.label);
  }
}

}  // namespace sensorgate
