#pragma once
// AnomalyDetector: turns one device's stream of window scores into anomaly events, with
// hysteresis and a minimum duration so that a noisy score does not flood the uplink.
//
// State machine, one window at a time (windows in event-time order):
//  - idle: a score >= enter_threshold opens a candidate event at that window;
//  - open: every window with score >= exit_threshold extends the event (a dip below the
//    enter threshold but not below the exit threshold keeps it alive); the first window
//    with score < exit_threshold closes it and does not belong to it;
//  - an event that has lasted min_duration_windows windows is confirmed: push() returns it
//    once then with `ongoing = true` (so an alarm goes out without waiting for the end),
//    and once more when it closes with `ongoing = false` and its final end; a consumer
//    upserts by (device, start). A candidate that closes before confirmation (a brief
//    spike) gives nothing.
// The event's peak is its highest score; its channels are those with the largest share
// of the score at the peak window, from the per-feature contributions the caller passes
// (e.g. StreamingKMeans::contributions), summed per channel: the feature vector is
// channel-major with `features_per_channel` features per channel. A window with a
// non-finite score is ignored (and counted): it neither extends nor closes an event.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace sensorgate::kernels {

struct AnomalyEvent {
  std::uint32_t device_index = 0;
  std::int64_t start_ns = 0;  ///< start of the first window of the event
  std::int64_t end_ns = 0;    ///< end of the last window so far (final when !ongoing)
  double peak_score = 0.0;
  std::int64_t peak_window_start_ns = 0;
  std::size_t windows = 0;  ///< windows in the event so far
  /// Channels most responsible at the peak, largest contribution first.
  std::vector<std::uint16_t> channels;
  bool ongoing = false;  ///< true: confirmed but not closed yet
};

class AnomalyDetector {
 public:
  struct Options {
    double enter_threshold = 3.0;
    double exit_threshold = 2.0;
    std::size_t min_duration_windows = 1;
    std::size_t features_per_channel = 1;
    std::size_t max_channels = 3;  ///< channels reported per event
  };

  /// One scored window.
  struct Window {
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
    double score = 0.0;
    /// Per-feature share of the score (may be empty: the event then names no channel).
    std::span<const float> contributions{};
  };

  /// Throws std::invalid_argument when exit_threshold > enter_threshold, a threshold is not
  /// finite, or min_duration_windows or features_per_channel is 0.
  AnomalyDetector(std::uint32_t device_index, Options options);

  /// Feeds the next window; returns an event when one is confirmed (ongoing) or closes.
  [[nodiscard]] std::optional<AnomalyEvent> push(const Window& window);

  /// Closes an open event at the end of the stream: returns it (ongoing = false) if it was
  /// confirmed or reaches min duration, nothing otherwise.
  [[nodiscard]] std::optional<AnomalyEvent> flush();

  [[nodiscard]] bool in_event() const { return open_; }
  [[nodiscard]] std::size_t ignored_windows() const { return ignored_; }

 private:
  [[nodiscard]] std::vector<std::uint16_t> top_channels(std::span<const float> contributions) const;
  [[nodiscard]] std::optional<AnomalyEvent> close();

  std::uint32_t device_index_;
  Options options_;
  bool open_ = false;
  bool confirmed_ = false;
  std::size_t ignored_ = 0;
  AnomalyEvent current_;
};

}  // namespace sensorgate::kernels
