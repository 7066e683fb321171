#pragma once
// WindowClassifier: the live-model stage of a worker. For each window summary about to be
// uplinked it attaches the window's label (from the LabelBook, when labels come with the
// stream), applies the model live in the ModelSlot to the window's summary features, and,
// for a labelled window, updates and attaches that model's prequential accuracy.

#include <atomic>
#include <cstdint>
#include <vector>

#include "sensorgate/gateway/label_book.hpp"
#include "sensorgate/gateway/live_model.hpp"
#include "sensorgate/uplink/records.hpp"

namespace sensorgate {

/// Written by the owning worker, readable from any thread.
struct ClassifierCounters {
  std::atomic<std::uint64_t> windows_classified{0};
  std::atomic<std::uint64_t> windows_labelled{0};
  /// Windows the live model could not take: another channel count, no band powers, or a
  /// non-finite feature.
  std::atomic<std::uint64_t> windows_unclassifiable{0};
};

class WindowClassifier {
 public:
  /// Either may be null (no models pushed to this gateway / no labels expected).
  WindowClassifier(const ModelSlot* models, const LabelBook* labels) : models_(models), labels_(labels) {}

  void apply(uplink::WindowSummaryRecord& window);

  [[nodiscard]] const ClassifierCounters& counters() const { return counters_; }

 private:
  const ModelSlot* models_;
  const LabelBook* labels_;
  std::vector<float> features_;
  ClassifierCounters counters_;
};

}  // namespace sensorgate
