#pragma once
// The collector's stored windows, read back for checks against reference statistics.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>

namespace sensorgate::testing {

struct WindowRow {
  std::int64_t count = 0;
  double min = 0;
  double max = 0;
  double mean = 0;
  double variance = 0;
};

using WindowKey = std::tuple<std::string, int, std::int64_t>;  ///< device, channel, window start (ns)

/// Every row of the `windows` table of the collector database `db`; empty when the file
/// cannot be opened (yet).
std::map<WindowKey, WindowRow> read_window_rows(const std::filesystem::path& db);

}  // namespace sensorgate::testing
