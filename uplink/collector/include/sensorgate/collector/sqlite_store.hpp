#pragma once
// SqliteStore: the collector's default storage, one SQLite file in WAL mode. Windows are
// keyed by (gateway_id, device_id, channel, window_start_ns), so a message delivered twice
// (at-least-once uplink) is stored once. Schema changes are numbered migrations applied
// in order and recorded in PRAGMA user_version.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "sensorgate/uplink/records.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace sensorgate::collector {

struct StoredWindow {
  std::string gateway_id;
  uplink::WindowSummaryRecord window;
};

class SqliteStore {
 public:
  /// Opens (creating if needed) and migrates the database; throws std::runtime_error.
  explicit SqliteStore(const std::filesystem::path& path);
  ~SqliteStore();
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  /// Stores the windows in one transaction; returns how many channel rows were new
  /// (the rest were already stored). Throws std::runtime_error and rolls back on failure.
  std::uint64_t store(std::span<const StoredWindow> windows);

  [[nodiscard]] std::uint64_t count_window_rows();
  [[nodiscard]] int schema_version();

 private:
  void exec(const char* sql);
  void migrate();

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_window_ = nullptr;
  std::string path_;
};

}  // namespace sensorgate::collector
