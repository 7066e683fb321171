#pragma once
// LiveModel: a verified, decoded model that the workers apply to window summaries, with
// its prequential (predict first, then compare with the label) accuracy. Immutable after
// construction except for the accuracy counters, which every worker updates atomically, so
// one instance is shared by all workers through ModelSlot.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "sensorgate/uplink/model_envelope.hpp"
#include "sensorgate/uplink/model_payload.hpp"

namespace sensorgate {

class LiveModel {
 public:
  /// Decodes `record`'s payload and checks it against its feature spec (summary features
  /// of some channel count). Null with the reason in `error` when anything is wrong.
  static std::shared_ptr<LiveModel> from_record(const uplink::ModelRecord& record, std::string& error);

  [[nodiscard]] std::uint32_t version() const { return version_; }
  [[nodiscard]] uplink::ModelKind kind() const { return kind_; }
  [[nodiscard]] const std::string& feature_spec() const { return feature_spec_; }
  /// Channels a window must have for this model (from the feature spec).
  [[nodiscard]] std::size_t channels() const { return channels_; }

  /// P(class 1), the regression value, or the nearest centroid's index, for features of
  /// the right length (channels() x uplink::kSummaryFeaturesPerChannel).
  [[nodiscard]] float predict(std::span<const float> features) const;
  /// The class a prediction stands for (p >= 0.5, the rounded value, the centroid).
  [[nodiscard]] std::int32_t predicted_class(float prediction) const;

  /// Counts one labelled window and returns the running accuracy including it.
  float record_outcome(bool correct) const;
  [[nodiscard]] std::uint64_t labelled() const { return labelled_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t correct() const { return correct_.load(std::memory_order_relaxed); }

 private:
  LiveModel() = default;

  std::uint32_t version_ = 0;
  uplink::ModelKind kind_ = uplink::ModelKind::kLogisticRegression;
  std::string feature_spec_;
  std::size_t channels_ = 0;
  std::variant<uplink::LinearModel, uplink::CentroidModel> model_;
  mutable std::atomic<std::uint64_t> labelled_{0};
  mutable std::atomic<std::uint64_t> correct_{0};
};

/// The live model and the one before it. install() and rollback() come from the uplink
/// thread, current() from every worker for every window, without blocking ingest: readers
/// take a shared_ptr copy, so a swap never waits for a window being classified.
class ModelSlot {
 public:
  [[nodiscard]] std::shared_ptr<const LiveModel> current() const { return current_.load(std::memory_order_acquire); }
  /// Makes `model` live; the one it replaces becomes the rollback target.
  void install(std::shared_ptr<const LiveModel> model);
  /// Makes the previous model live again (and the current one the rollback target); false
  /// when there is none.
  bool rollback();

 private:
  std::atomic<std::shared_ptr<const LiveModel>> current_;
  std::shared_ptr<const LiveModel> previous_;  // only the uplink thread touches it
};

}  // namespace sensorgate
