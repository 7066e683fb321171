#include "sensorgate/kernels/window_features.hpp"

#include <cmath>
#include <stdexcept>

namespace sensorgate::kernels {
namespace {

constexpr double kEpsilon = 0.01;

}  // namespace

std::string feature_spec(std::size_t channels) {
  std::string spec;
  for (std::size_t c = 0; c < channels; ++c) {
    for (const auto name : kChannelFeatureNames) {
      if (!spec.empty()) spec += ',';
      spec += 'c' + std::to_string(c) + '.' + std::string(name);
    }
  }
  return spec;
}

void window_features(std::span<const Moments> moments, std::span<const BandPowers> bands,
                     std::span<const float> line_length, std::span<float> out) {
  const std::size_t channels = moments.size();
  if (bands.size() != channels || line_length.size() != channels || out.size() != channels * kFeaturesPerChannel) {
    throw std::invalid_argument("window_features: " + std::to_string(channels) + " channels of moments, " +
                                std::to_string(bands.size()) + " of band powers, " +
                                std::to_string(line_length.size()) + " of line length, room for " +
                                std::to_string(out.size()) + " features");
  }
  for (std::size_t c = 0; c < channels; ++c) {
    const Moments& m = moments[c];
    float* f = out.data() + c * kFeaturesPerChannel;
    f[0] = static_cast<float>(std::log(std::sqrt(m.variance()) + kEpsilon));
    f[1] = static_cast<float>(std::log(static_cast<double>(line_length[c]) + kEpsilon));
    const double range = m.count == 0 ? 0.0 : static_cast<double>(m.max) - static_cast<double>(m.min);
    f[2] = static_cast<float>(std::log(range + kEpsilon));
    for (std::size_t b = 0; b < bands[c].size(); ++b) {
      f[3 + b] = static_cast<float>(std::log(static_cast<double>(bands[c][b]) + kEpsilon * kEpsilon));
    }
  }
}

}  // namespace sensorgate::kernels
