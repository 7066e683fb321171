#pragma once
// Window features: the vector an anomaly model scores for one device and window, computed
// from what the window aggregator already has (per-channel moments, band powers and line
// length), so feature extraction costs a few logarithms per channel.
//
// Per channel, in this order (channel-major: channel 0's features first):
//   log_std          log(σ + ε)              amplitude; flat line and disconnect stand out
//   log_line_length  log(mean |x[i]−x[i−1]| + ε)   spikes, pops, muscle (sharp activity)
//   log_range        log(max − min + ε)       single large excursions (electrode pop)
//   log_delta … log_gamma   log(band power + ε²)   spectral shape (3 Hz spike-and-wave
//                                                    raises delta, EMG raises gamma)
// Logarithms because EEG amplitudes and powers are roughly log-normal and an anomaly is a
// ratio ("ten times the usual power"), which the later z-scoring turns into a distance.
// ε = 0.01 (µV) keeps a flat channel finite (log ε ≈ −4.6, far below normal EEG).

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "sensorgate/kernels/moments.hpp"
#include "sensorgate/kernels/spectrum.hpp"

namespace sensorgate::kernels {

inline constexpr std::array<std::string_view, 8> kChannelFeatureNames{
    "log_std", "log_line_length", "log_range", "log_delta", "log_theta", "log_alpha", "log_beta", "log_gamma"};
inline constexpr std::size_t kFeaturesPerChannel = kChannelFeatureNames.size();

/// "c0.log_std,c0.log_line_length,...,c<channels-1>.log_gamma": the feature spec of a model.
std::string feature_spec(std::size_t channels);

/// Writes channels × kFeaturesPerChannel features into `out`. `line_length` is the mean
/// absolute difference of consecutive samples per channel. Throws std::invalid_argument
/// when the spans disagree on the channel count or `out` has the wrong size.
void window_features(std::span<const Moments> moments, std::span<const BandPowers> bands,
                     std::span<const float> line_length, std::span<float> out);

}  // namespace sensorgate::kernels
