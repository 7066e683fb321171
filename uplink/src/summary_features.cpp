#include "sensorgate/uplink/summary_features.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace sensorgate::uplink {
namespace {

constexpr std::size_t kBands = 5;
constexpr double kFloor = 1e-6;

}  // namespace

std::string summary_feature_spec(std::size_t channels) {
  return fmt::format("summary-v1:{}ch:logvar,logrange,logband5", channels);
}

bool summary_features(const WindowSummaryRecord& window, std::span<float> out) {
  const std::size_t channels = window.channels.size();
  if (out.size() != channels * kSummaryFeaturesPerChannel || window.band_powers.size() != channels * kBands) {
    return false;
  }
  for (std::size_t c = 0; c < channels; ++c) {
    const auto& stats = window.channels[c];
    auto* f = &out[c * kSummaryFeaturesPerChannel];
    f[0] = static_cast<float>(std::log(stats.variance + kFloor));
    f[1] = static_cast<float>(std::log(static_cast<double>(stats.max) - static_cast<double>(stats.min) + kFloor));
    for (std::size_t b = 0; b < kBands; ++b) {
      f[2 + b] = static_cast<float>(std::log(static_cast<double>(window.band_powers[(c * kBands) + b]) + kFloor));
    }
  }
  return std::ranges::all_of(out, [](float v) { return std::isfinite(v); });
}

}  // namespace sensorgate::uplink
