#pragma once
// `sensorgate-gateway compare`: the same application on the same data across backends,
// worker counts, window lengths and machines (docs/compare.md). One input (a recording or
// synthetic EEG) is played by N devices through the gateway's in-process hot path
// (FrameBatchDecoder -> IngestSink -> ShardWorker threads -> UplinkRings, drained by one
// thread), once per combination ("run") and repetition, with a fresh pipeline each time.
// The result is a report (report.json, schema "sensorgate-compare/1", and a self-contained
// report.html); reports of several machines are merged into one.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sensorgate/gateway/gateway_config.hpp"

namespace sensorgate::compare {

/// The report's schema name; merge refuses files without it.
inline constexpr std::string_view kSchema = "sensorgate-compare/1";

struct CompareOptions {
  /// A recording (EDF, CSV, text) or "synthetic:SECONDS".
  std::string input = "synthetic:60";
  std::string channels;                ///< channel spec of a recording ("" = all)
  std::optional<double> file_rate_hz;  ///< rate of a recording that states none
  std::size_t devices = 16;            ///< each plays the input under its own id
  std::vector<std::string> backends{"cpu"};
  std::vector<std::size_t> workers{1};
  std::vector<std::int64_t> window_ms;  ///< empty: the configuration's window length
  std::size_t repeat = 3;
  std::string label;     ///< the machine's name in the report ("" = host name)
  bool progress = true;  ///< a progress bar on stderr when it is a terminal
  GatewayConfig config;  ///< windows, anomaly scoring, rings, failover
};

/// Runs every combination backend x workers x window length `repeat` times; returns the
/// report document with one machine. A "cuda" run without a usable GPU is recorded as
/// skipped. Throws std::runtime_error (unreadable input, bad options) and
/// sim::RecordingError.
nlohmann::json run_compare(const CompareOptions& options);

/// Concatenates the machines of several report.json files. Throws std::runtime_error
/// naming the file that cannot be read or is not a report.
nlohmann::json merge_reports(const std::vector<std::filesystem::path>& files);

/// report.html: `css` and `js` (the web bundle's report.css and report.js) with the report
/// inlined as window.SENSORGATE_REPORT; needs nothing else, works offline.
std::string render_html(const nlohmann::json& report, std::string_view css, std::string_view js);

/// Writes report.json into `out_dir` (created), then report.html from `web_root`'s
/// report.css and report.js. Throws std::runtime_error when those are missing (report.json
/// is written by then) or a file cannot be written.
void write_report(const nlohmann::json& report, const std::filesystem::path& out_dir,
                  const std::filesystem::path& web_root);

/// A plain-text table of every run: throughput, latency, windows, drops.
std::string format_table(const nlohmann::json& report);

}  // namespace sensorgate::compare
