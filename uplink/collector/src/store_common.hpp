#pragma once
// What SqliteStore and PostgresStore share besides the schema: the text forms of model
// kinds, the encoding of a device list as a query parameter, and the reassembly of
// windows from their channel rows. Private to the collector library.

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sensorgate/collector/store.hpp"

namespace sensorgate::collector::detail {

inline constexpr std::size_t kBands = 5;

/// Stream labels in the labels table carry this source.
inline constexpr std::string_view kStreamSource = "stream";

inline std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// "kmeans", "logistic_regression", "linear_regression": the models.kind column.
std::string_view model_kind_name(uplink::ModelKind kind);
/// The inverse; throws std::runtime_error for anything else.
uplink::ModelKind parse_model_kind(std::string_view name);

/// A JSON array of strings: how both backends take a variable-length device list as one
/// parameter of a prepared statement (SQLite's json_each, PostgreSQL's jsonb functions).
std::string json_string_array(const std::vector<std::string>& values);

/// `url` with any password replaced by "***" (the user-info part and a password=
/// parameter), for messages and logs.
std::string redact_url(std::string_view url);

/// NULL in the database for the "none" values of a window record.
inline std::optional<double> nan_to_null(float value) {
  return std::isnan(value) ? std::nullopt : std::optional<double>(value);
}

/// One row of the windows table as load_windows reads it back.
struct WindowRow {
  std::string gateway_id;
  std::string device_id;
  std::int64_t window_start_ns = 0;
  std::int64_t window_end_ns = 0;
  std::uint32_t revision = 0;
  uplink::ChannelStatsRecord stats;
  std::array<std::optional<double>, kBands> bands;
  std::optional<double> anomaly_score;
  std::optional<std::int32_t> label;
  std::optional<double> prediction;
  std::optional<std::int64_t> model_version;
  std::optional<double> prequential_accuracy;
  std::optional<std::int32_t> interval_label;  ///< from the labels table
};

/// Groups rows ordered by (window_start_ns, gateway_id, device_id, channel) into windows.
class WindowAssembler {
 public:
  void add(WindowRow&& row);
  /// The windows; a window with any channel's band powers missing gets none.
  std::vector<LabelledWindow> finish() &&;

 private:
  std::vector<LabelledWindow> windows_;
  std::vector<bool> bands_complete_;
};

}  // namespace sensorgate::collector::detail
