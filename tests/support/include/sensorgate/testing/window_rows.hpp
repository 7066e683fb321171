#pragma once
// The collector's stored windows, read back for checks against reference statistics:
// straight from a SQLite file, or from either backend through the collector's Store.

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

/// The same from any collector store: `store_url` as `sensorgate-collector --db` takes it
/// (a SQLite path, sqlite:PATH, or postgresql://...), read with Store::load_windows (so
/// also what that reassembles is checked). Empty when the store cannot be opened (yet): a
/// SQLite file that does not exist is not created, a database not reachable is no error.
std::map<WindowKey, WindowRow> read_window_rows(const std::string& store_url);
/// (A string literal is a store URL; without this overload it would be ambiguous.)
inline std::map<WindowKey, WindowRow> read_window_rows(const char* store_url) {
  return read_window_rows(std::string(store_url));
}

}  // namespace sensorgate::testing
