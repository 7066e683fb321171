#include "sensorgate/kernels/anomaly_detector.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace sensorgate::kernels {

AnomalyDetector::AnomalyDetector(std::uint32_t device_index, Options options)
    : device_index_(device_index), options_(options) {
  if (!std::isfinite(options_.enter_threshold) || !std::isfinite(options_.exit_threshold)) {
    throw std::invalid_argument("AnomalyDetector: thresholds must be finite");
  }
  if (options_.exit_threshold > options_.enter_threshold) {
    throw std::invalid_argument("AnomalyDetector: exit_threshold must not exceed enter_threshold");
  }
  if (options_.min_duration_windows == 0)
    throw std::invalid_argument("AnomalyDetector: min_duration_windows must be >= 1");
  if (options_.features_per_channel == 0)
    throw std::invalid_argument("AnomalyDetector: features_per_channel must be >= 1");
}

std::vector<std::uint16_t> AnomalyDetector::top_channels(std::span<const float> contributions) const {
  const std::size_t fpc = options_.features_per_channel;
  const std::size_t channels = (contributions.size() + fpc - 1) / fpc;
  std::vector<double> per_channel(channels, 0.0);
  for (std::size_t f = 0; f < contributions.size(); ++f) {
    if (std::isfinite(contributions[f])) per_channel[f / fpc] += contributions[f];
  }
  std::vector<std::uint16_t> order(channels);
  std::iota(order.begin(), order.end(), std::uint16_t{0});
  // Largest first; ties by channel number so that the result is deterministic.
  std::stable_sort(order.begin(), order.end(),
                   [&per_channel](std::uint16_t a, std::uint16_t b) { return per_channel[a] > per_channel[b]; });
  std::vector<std::uint16_t> out;
  for (const std::uint16_t c : order) {
    if (out.size() >= options_.max_channels || per_channel[c] <= 0.0) break;
    out.push_back(c);
  }
  return out;
}

std::optional<AnomalyEvent> AnomalyDetector::push(const Window& window) {
  if (!std::isfinite(window.score)) {
    ++ignored_;
    return std::nullopt;
  }
  if (!open_) {
    if (window.score < options_.enter_threshold) return std::nullopt;
    open_ = true;
    confirmed_ = false;
    current_ = AnomalyEvent{};
    current_.device_index = device_index_;
    current_.start_ns = window.start_ns;
    current_.peak_score = window.score;
    current_.peak_window_start_ns = window.start_ns;
    current_.channels = top_channels(window.contributions);
  } else {
    if (window.score < options_.exit_threshold) return close();
    if (window.score > current_.peak_score) {
      current_.peak_score = window.score;
      current_.peak_window_start_ns = window.start_ns;
      current_.channels = top_channels(window.contributions);
    }
  }
  current_.end_ns = window.end_ns;
  ++current_.windows;
  if (!confirmed_ && current_.windows >= options_.min_duration_windows) {
    confirmed_ = true;
    AnomalyEvent event = current_;
    event.ongoing = true;
    return event;
  }
  return std::nullopt;
}

std::optional<AnomalyEvent> AnomalyDetector::close() {
  const bool was_confirmed = confirmed_;
  open_ = false;
  confirmed_ = false;
  if (!was_confirmed) return std::nullopt;
  AnomalyEvent event = std::move(current_);
  current_ = AnomalyEvent{};
  event.ongoing = false;
  return event;
}

std::optional<AnomalyEvent> AnomalyDetector::flush() {
  if (!open_) return std::nullopt;
  return close();
}

}  // namespace sensorgate::kernels
