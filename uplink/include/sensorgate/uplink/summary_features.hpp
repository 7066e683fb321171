#pragma once
// Summary features: what models trained on stored windows see. The collector computes
// them from window rows read back from its store, the gateway from the summary it is about
// to uplink, with this one function, so training and live classification cannot disagree.
//
// Per channel, in channel order: log variance, log range (max - min), and the log of the
// five band powers (delta, theta, alpha, beta, gamma); each log is of (value + 1e-6) so a
// flat channel stays finite. The spec string names the layout and the channel count, and a
// gateway refuses a model whose spec is not the one its windows produce.

#include <cstddef>
#include <span>
#include <string>

#include "sensorgate/uplink/records.hpp"

namespace sensorgate::uplink {

inline constexpr std::size_t kSummaryFeaturesPerChannel = 7;

/// "summary-v1:<channels>ch:logvar,logrange,logband5".
std::string summary_feature_spec(std::size_t channels);

/// Writes channels * kSummaryFeaturesPerChannel features of `window` into `out` (which must
/// be that long). False when the window has no band powers or a feature is not finite.
bool summary_features(const WindowSummaryRecord& window, std::span<float> out);

}  // namespace sensorgate::uplink
