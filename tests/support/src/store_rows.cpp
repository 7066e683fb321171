// read_window_rows(store_url): separate from window_rows.cpp so that only the tests that
// use it link the collector's storage.
#include <exception>

#include "sensorgate/collector/store.hpp"
#include "sensorgate/testing/window_rows.hpp"

namespace sensorgate::testing {

std::map<WindowKey, WindowRow> read_window_rows(const std::string& store_url) {
  std::map<WindowKey, WindowRow> rows;
  const bool postgres = store_url.starts_with("postgresql://") || store_url.starts_with("postgres://");
  if (!postgres) {
    // open_store would create (and migrate) a missing SQLite file: a poll before the
    // collector starts must not.
    std::string_view path = store_url;
    if (path.starts_with("sqlite:")) {
      path.remove_prefix(7);
      if (path.starts_with("//")) path.remove_prefix(2);
    }
    if (!std::filesystem::exists(path)) return rows;
  }
  std::vector<collector::LabelledWindow> windows;
  try {
    windows = collector::open_store(store_url)->load_windows({});
  } catch (const std::exception&) {
    return rows;  // not there yet (a caller polls until it is)
  }
  for (const auto& [gateway_id, w, label] : windows) {
    for (const auto& c : w.channels) {
      rows[WindowKey{w.device_id, c.channel, w.window_start_ns}] =
          WindowRow{static_cast<std::int64_t>(c.count), c.min, c.max, c.mean, c.variance};
    }
  }
  return rows;
}

}  // namespace sensorgate::testing
