#pragma once
// Plain records carried by the uplink, independent of FlatBuffers: the gateway produces
// them, the codec turns them into wire messages, the collector stores them.

#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

namespace sensorgate::uplink {

struct ChannelStatsRecord {
  std::uint16_t channel = 0;
  std::uint64_t count = 0;
  float min = 0;
  float max = 0;
  double mean = 0;
  double variance = 0;  ///< population variance
};

struct WindowSummaryRecord {
  std::string device_id;
  std::int64_t window_start_ns = 0;
  std::int64_t window_end_ns = 0;
  /// 0 when first sent; n for the nth correction of the same window (late data, policy update).
  std::uint32_t revision = 0;
  std::vector<ChannelStatsRecord> channels;
  /// Ascending bin edges; empty when histograms are off.
  std::vector<float> histogram_edges;
  /// channels x (edges + 1) counts, channel-major: underflow, inner bins, overflow.
  std::vector<std::uint32_t> histogram_counts;
  /// channels x 5 band powers (delta, theta, alpha, beta, gamma), channel-major; empty when off.
  std::vector<float> band_powers;
  float anomaly_score = std::numeric_limits<float>::quiet_NaN();  ///< NaN: not scored
  /// Ground truth from labelled input (the most frequent label of the window's frames);
  /// -1: unlabelled. The collector copies it into its labels table.
  std::int32_t label = -1;
  /// The live model's output: P(class 1) for logistic regression, the value for linear
  /// regression, the nearest centroid for k-means; NaN: no model applied.
  float prediction = std::numeric_limits<float>::quiet_NaN();
  std::uint32_t model_version = 0;  ///< version of the model that made `prediction`; 0: none
  /// Running (prequential: predict first, then learn the label) accuracy of
  /// `model_version` over the labelled windows this gateway has classified with it,
  /// this one included; NaN when none was labelled yet.
  float prequential_accuracy = std::numeric_limits<float>::quiet_NaN();
};

/// An anomaly over consecutive windows of one device, reported when it is confirmed
/// (ongoing) and again when it closes.
struct AnomalyEventRecord {
  std::string device_id;
  std::int64_t start_ns = 0;  ///< start of the first window of the event
  std::int64_t end_ns = 0;    ///< end of the last window so far (final when !ongoing)
  double peak_score = 0;
  std::int64_t peak_window_start_ns = 0;
  std::uint32_t windows = 0;            ///< windows in the event so far
  std::vector<std::uint16_t> channels;  ///< most responsible first
  bool ongoing = false;                 ///< true: confirmed, not closed yet; a consumer upserts by (device, start)
};

/// A gateway's answer to a model push or rollback: which version is live now.
struct ModelStatusRecord {
  std::uint32_t version = 0;         ///< the version pushed (or rolled back from)
  bool accepted = false;             ///< false: refused (bad signature, feature spec, payload)
  std::uint32_t active_version = 0;  ///< the version scoring windows after this step; 0: none
  std::string detail;                ///< the refusal's reason, or "rolled back"
};

/// Consecutive accepted frames of one device (capture mode).
struct RawFramesRecord {
  std::string device_id;
  std::uint64_t first_seq = 0;
  std::int64_t first_time_ns = 0;
  double sample_rate_hz = 0;
  std::uint16_t channels = 0;
  std::vector<float> samples;  ///< frame-major

  [[nodiscard]] std::size_t frames() const { return channels == 0 ? 0 : samples.size() / channels; }
};

/// What the workers (and the model inbox) hand to the uplink.
using UplinkRecord = std::variant<WindowSummaryRecord, AnomalyEventRecord, ModelStatusRecord, RawFramesRecord>;

}  // namespace sensorgate::uplink
