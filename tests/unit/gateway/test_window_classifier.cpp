#include "sensorgate/gateway/window_classifier.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "sensorgate/uplink/model_payload.hpp"
#include "sensorgate/uplink/summary_features.hpp"

namespace sensorgate {
namespace {

constexpr std::size_t kChannels = 2;
constexpr std::size_t kFeatures = kChannels * uplink::kSummaryFeaturesPerChannel;

/// A window whose channel 0 variance is `variance` (log variance is feature 0).
uplink::WindowSummaryRecord window(double variance, std::size_t channels = kChannels) {
  uplink::WindowSummaryRecord w;
  w.device_id = "d";
  w.window_start_ns = 1000;
  w.window_end_ns = 2000;
  for (std::size_t c = 0; c < channels; ++c) {
    w.channels.push_back({static_cast<std::uint16_t>(c), 256, -1.0F, 1.0F, 0.0, c == 0 ? variance : 1.0});
  }
  w.band_powers.assign(channels * 5, 1.0F);
  return w;
}

/// P(1) = sigmoid(log variance of channel 0): above 0.5 exactly when variance > 1.
std::shared_ptr<LiveModel> variance_model(std::uint32_t version) {
  uplink::LinearModel linear;
  linear.mean.assign(kFeatures, 0.0F);
  linear.scale.assign(kFeatures, 1.0F);
  linear.weights.assign(kFeatures, 0.0F);
  linear.weights[0] = 1.0F;
  uplink::ModelRecord record;
  record.kind = uplink::ModelKind::kLogisticRegression;
  record.version = version;
  record.feature_spec = uplink::summary_feature_spec(kChannels);
  record.payload = uplink::encode_linear_model(linear);
  std::string error;
  auto model = LiveModel::from_record(record, error);
  EXPECT_NE(model, nullptr) << error;
  return model;
}

TEST(WindowClassifier, Apply_NoModelNoLabels_WindowUntouched) {
  WindowClassifier classifier(nullptr, nullptr);
  auto w = window(4.0);
  classifier.apply(w);
  EXPECT_TRUE(std::isnan(w.prediction));
  EXPECT_EQ(w.model_version, 0U);
  EXPECT_EQ(w.label, -1);
}

TEST(WindowClassifier, Apply_ModelAndLabels_PredictionAndPrequentialAccuracy) {
  ModelSlot slot;
  slot.install(variance_model(7));
  LabelBook labels;
  WindowClassifier classifier(&slot, &labels);

  labels.add({"d", 1000, 2000, 1});
  auto w = window(std::exp(2.0));  // log variance 2: P(1) = sigmoid(2)
  classifier.apply(w);
  EXPECT_EQ(w.model_version, 7U);
  EXPECT_NEAR(w.prediction, 1.0 / (1.0 + std::exp(-2.0)), 1e-5);
  EXPECT_EQ(w.label, 1);
  EXPECT_FLOAT_EQ(w.prequential_accuracy, 1.0F);

  labels.add({"d", 1000, 2000, 1});  // same window, now predicted 0 (variance < 1): wrong
  auto low = window(0.5);
  classifier.apply(low);
  EXPECT_FLOAT_EQ(low.prequential_accuracy, 0.5F);
  EXPECT_EQ(classifier.counters().windows_classified.load(), 2U);
  EXPECT_EQ(classifier.counters().windows_labelled.load(), 2U);
  EXPECT_EQ(slot.current()->labelled(), 2U);
  EXPECT_EQ(slot.current()->correct(), 1U);
}

TEST(WindowClassifier, Apply_OtherChannelCountOrNoBands_Unclassifiable) {
  ModelSlot slot;
  slot.install(variance_model(1));
  WindowClassifier classifier(&slot, nullptr);
  auto wide = window(2.0, kChannels + 1);
  classifier.apply(wide);
  auto no_bands = window(2.0);
  no_bands.band_powers.clear();
  classifier.apply(no_bands);
  EXPECT_TRUE(std::isnan(wide.prediction));
  EXPECT_TRUE(std::isnan(no_bands.prediction));
  EXPECT_EQ(classifier.counters().windows_unclassifiable.load(), 2U);
}

TEST(ModelSlot, InstallAndRollback_SwapsCurrentAndPrevious) {
  ModelSlot slot;
  EXPECT_FALSE(slot.rollback());
  slot.install(variance_model(1));
  slot.install(variance_model(2));
  ASSERT_TRUE(slot.rollback());
  EXPECT_EQ(slot.current()->version(), 1U);
  ASSERT_TRUE(slot.rollback());  // and forward again
  EXPECT_EQ(slot.current()->version(), 2U);
}

}  // namespace
}  // namespace sensorgate
