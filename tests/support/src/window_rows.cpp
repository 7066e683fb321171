#include "sensorgate/testing/window_rows.hpp"

#include <sqlite3.h>

namespace sensorgate::testing {

std::map<WindowKey, WindowRow> read_window_rows(const std::filesystem::path& db) {
  std::map<WindowKey, WindowRow> rows;
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(handle,
                           "SELECT device_id, channel, window_start_ns, count, min, max, mean, variance FROM windows",
                           -1, &stmt, nullptr) == SQLITE_OK) {
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        rows[WindowKey{reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), sqlite3_column_int(stmt, 1),
                       sqlite3_column_int64(stmt, 2)}] =
            WindowRow{sqlite3_column_int64(stmt, 3), sqlite3_column_double(stmt, 4), sqlite3_column_double(stmt, 5),
                      sqlite3_column_double(stmt, 6), sqlite3_column_double(stmt, 7)};
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(handle);
  return rows;
}

}  // namespace sensorgate::testing
