#include "sensorgate/gateway/live_view.hpp"

#include <algorithm>

namespace sensorgate {

LiveView::LiveView(std::size_t score_history, std::size_t event_history)
    : score_history_(score_history), event_history_(event_history) {}

void LiveView::publish(const uplink::WindowSummaryRecord& window) {
  const std::lock_guard lock(mutex_);
  auto it = devices_.find(window.device_id);
  if (it == devices_.end()) it = devices_.emplace(window.device_id, Device{}).first;
  auto& device = it->second;
  // A late correction (revision > 0) of an older window must not replace a newer one.
  if (window.window_end_ns >= device.latest.window_end_ns) device.latest = window;
  if (window.revision == 0) {
    device.scores.emplace_back(window.window_end_ns, window.anomaly_score);
    if (device.scores.size() > score_history_) device.scores.pop_front();
  }
}

void LiveView::publish(const uplink::AnomalyEventRecord& event) {
  const std::lock_guard lock(mutex_);
  // An event is reported when confirmed and again when it closes: keep one entry per event.
  const auto same = std::find_if(events_.begin(), events_.end(), [&](const auto& e) {
    return e.device_id == event.device_id && e.start_ns == event.start_ns;
  });
  if (same != events_.end()) events_.erase(same);
  events_.push_front(event);
  if (events_.size() > event_history_) events_.pop_back();
}

std::optional<uplink::WindowSummaryRecord> LiveView::latest_window(std::string_view device) const {
  const std::lock_guard lock(mutex_);
  const auto it = devices_.find(device);
  if (it == devices_.end()) return std::nullopt;
  return it->second.latest;
}

std::vector<std::pair<std::int64_t, float>> LiveView::scores(std::string_view device, std::size_t last) const {
  const std::lock_guard lock(mutex_);
  const auto it = devices_.find(device);
  if (it == devices_.end()) return {};
  const auto& s = it->second.scores;
  const auto n = std::min(last, s.size());
  return {s.end() - static_cast<std::ptrdiff_t>(n), s.end()};
}

std::vector<uplink::AnomalyEventRecord> LiveView::events(std::size_t last) const {
  const std::lock_guard lock(mutex_);
  const auto n = std::min(last, events_.size());
  return {events_.begin(), events_.begin() + static_cast<std::ptrdiff_t>(n)};
}

}  // namespace sensorgate
