#pragma once
// SqliteStore: the collector's default storage, one SQLite file in WAL mode. Windows are
// keyed by (gateway_id, device_id, channel, window_start_ns) and anomaly events by
// (gateway_id, device_id, start_ns), so a message delivered twice (at-least-once uplink)
// is stored once. Schema changes are numbered migrations applied in order and recorded in
// PRAGMA user_version.

#include <cstdint>
#include <filesystem>
#include <memory>
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

struct StoredEvent {
  std::string gateway_id;
  uplink::AnomalyEventRecord event;
};

class SqliteStore {
 public:
  /// Opens (creating if needed) and migrates the database; throws std::runtime_error.
  explicit SqliteStore(const std::filesystem::path& path);

  /// Stores the windows in one transaction; returns how many channel rows were written:
  /// new, or replaced by a higher revision (the rest were already stored). Throws
  /// std::runtime_error and rolls back on failure.
  std::uint64_t store(std::span<const StoredWindow> windows);

  /// Stores the events in one transaction; returns how many rows were written: new, or
  /// replacing an ongoing report by the final one or by a longer ongoing one (a report
  /// never replaces a closed event). Throws std::runtime_error and rolls back on failure.
  std::uint64_t store_events(std::span<const StoredEvent> events);

  [[nodiscard]] std::uint64_t count_window_rows();
  [[nodiscard]] std::uint64_t count_event_rows();
  [[nodiscard]] int schema_version();

 private:
  void exec(const char* sql);
  void migrate();

  // Handles close themselves, also when the constructor throws half way.
  struct CloseDb {
    void operator()(sqlite3* db) const;
  };
  struct FinalizeStmt {
    void operator()(sqlite3_stmt* stmt) const;
  };
  std::string path_;
  std::unique_ptr<sqlite3, CloseDb> db_;
  std::unique_ptr<sqlite3_stmt, FinalizeStmt> insert_window_;
  std::unique_ptr<sqlite3_stmt, FinalizeStmt> upsert_event_;
};

}  // namespace sensorgate::collector
