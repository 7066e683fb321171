#pragma once
// LiveView: what the HTTP API and the dashboard show of the stream itself: the latest
// window summary of every device, each device's recent anomaly scores, and the recent
// anomaly events. Workers publish each window and event as they emit it; that takes a
// mutex about once per device per window length (1/s at the default), far from the
// per-frame hot path, and readers copy under the same mutex.

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sensorgate/uplink/records.hpp"

namespace sensorgate {

class LiveView {
 public:
  /// Keeps `score_history` scores per device and `event_history` events in all.
  explicit LiveView(std::size_t score_history = 600, std::size_t event_history = 100);

  void publish(const uplink::WindowSummaryRecord& window);
  void publish(const uplink::AnomalyEventRecord& event);

  [[nodiscard]] std::optional<uplink::WindowSummaryRecord> latest_window(std::string_view device) const;
  /// (window end, score) of the device's last `last` windows, oldest first; NaN: unscored.
  [[nodiscard]] std::vector<std::pair<std::int64_t, float>> scores(std::string_view device, std::size_t last) const;
  /// The last `last` events, newest first (an ongoing event is replaced when it updates).
  [[nodiscard]] std::vector<uplink::AnomalyEventRecord> events(std::size_t last) const;

 private:
  struct Device {
    uplink::WindowSummaryRecord latest;
    std::deque<std::pair<std::int64_t, float>> scores;
  };
  std::size_t score_history_;
  std::size_t event_history_;
  mutable std::mutex mutex_;
  std::map<std::string, Device, std::less<>> devices_;
  std::deque<uplink::AnomalyEventRecord> events_;  // newest first
};

}  // namespace sensorgate
