#include "sensorgate/collector/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sensorgate/testing/processes.hpp"

namespace sensorgate::collector {
namespace {

StoredWindow window(const std::string& gw, const std::string& dev, std::int64_t start, std::uint16_t channels) {
  StoredWindow w{gw, {}};
  w.window.device_id = dev;
  w.window.window_start_ns = start;
  w.window.window_end_ns = start + 1000;
  for (std::uint16_t c = 0; c < channels; ++c) w.window.channels.push_back({c, 256, -1, 1, 0.5, 0.25});
  return w;
}

/// Event of device d1 from gateway gw starting at 1000, one window per 1000 ns.
StoredEvent event(std::int64_t end, bool ongoing) {
  StoredEvent e{"gw", {}};
  e.event.device_id = "d1";
  e.event.start_ns = 1000;
  e.event.end_ns = end;
  e.event.peak_score = 4.5;
  e.event.peak_window_start_ns = 2000;
  e.event.windows = static_cast<std::uint32_t>((end - 1000) / 1000);
  e.event.channels = {3, 0, 7};
  e.event.ongoing = ongoing;
  return e;
}

/// The columns of the first row `sql` returns from the database at `path`, as text ("NULL"
/// for NULL); empty when there is no row.
std::vector<std::string> first_row(const std::filesystem::path& path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::vector<std::string> row;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const auto* text = sqlite3_column_text(stmt, i);
      row.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "NULL");
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return row;
}

TEST(SqliteStore, NewFile_MigratedToLatestSchema) {
  testing::TempDir dir;
  SqliteStore store(dir.path() / "a.sqlite");
  EXPECT_EQ(store.schema_version(), 4);
  EXPECT_EQ(store.count_window_rows(), 0U);
  EXPECT_EQ(store.count_event_rows(), 0U);
}

TEST(SqliteStore, Store_OneRowPerChannel) {
  testing::TempDir dir;
  SqliteStore store(dir.path() / "a.sqlite");
  const std::vector<StoredWindow> batch{window("gw", "d1", 0, 16), window("gw", "d2", 0, 16)};
  EXPECT_EQ(store.store(batch), 32U);
  EXPECT_EQ(store.count_window_rows(), 32U);
}

TEST(SqliteStore, SameWindowTwice_StoredOnce) {
  testing::TempDir dir;
  SqliteStore store(dir.path() / "a.sqlite");
  const std::vector<StoredWindow> batch{window("gw", "d1", 0, 4)};
  EXPECT_EQ(store.store(batch), 4U);
  EXPECT_EQ(store.store(batch), 0U);
  // Same device and start from another gateway is a different row.
  const std::vector<StoredWindow> other{window("gw2", "d1", 0, 4)};
  EXPECT_EQ(store.store(other), 4U);
  EXPECT_EQ(store.count_window_rows(), 8U);
}

TEST(SqliteStore, HigherRevision_ReplacesRow_LowerOrEqualDoesNot) {
  testing::TempDir dir;
  SqliteStore store(dir.path() / "a.sqlite");
  auto original = window("gw", "d1", 0, 1);
  EXPECT_EQ(store.store(std::vector{original}), 1U);
  auto corrected = original;
  corrected.window.revision = 1;
  corrected.window.channels[0].count = 300;
  EXPECT_EQ(store.store(std::vector{corrected}), 1U);
  EXPECT_EQ(store.store(std::vector{original}), 0U) << "a late redelivery of revision 0 must not undo the correction";
  EXPECT_EQ(store.store(std::vector{corrected}), 0U);
  EXPECT_EQ(store.count_window_rows(), 1U);
}

TEST(SqliteStore, HistogramAndBands_StoredPerChannel) {
  testing::TempDir dir;
  const auto path = dir.path() / "a.sqlite";
  {
    SqliteStore store(path);
    auto w = window("gw", "d1", 0, 2);
    w.window.histogram_edges = {-1.5F, 0.0F, 1.5F};
    w.window.histogram_counts = {1, 2, 3, 4, 5, 6, 7, 8};
    w.window.band_powers = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    store.store(std::vector{w});
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT histogram, band_delta, band_gamma FROM windows WHERE channel = 1", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
               R"({"edges":[-1.5,0,1.5],"counts":[5,6,7,8]})");
  EXPECT_EQ(sqlite3_column_double(stmt, 1), 6.0);
  EXPECT_EQ(sqlite3_column_double(stmt, 2), 10.0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(SqliteStore, Store_StoredNsIsTheCollectorsWallClockAtCommit) {
  testing::TempDir dir;
  const auto path = dir.path() / "a.sqlite";
  const auto now_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const std::int64_t before = now_ns();
  {
    SqliteStore store(path);
    store.store(std::vector{window("gw", "d1", 0, 1)});
  }
  const std::int64_t after = now_ns();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT stored_ns FROM windows", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  const std::int64_t stored = sqlite3_column_int64(stmt, 0);
  EXPECT_GE(stored, before);
  EXPECT_LE(stored, after);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(SqliteStore, Reopen_KeepsRowsAndSchema) {
  testing::TempDir dir;
  const auto path = dir.path() / "a.sqlite";
  {
    SqliteStore store(path);
    const std::vector<StoredWindow> batch{window("gw", "d1", 0, 2)};
    store.store(batch);
  }
  SqliteStore again(path);
  EXPECT_EQ(again.schema_version(), 4);
  EXPECT_EQ(again.count_window_rows(), 2U);
}

TEST(SqliteStore, AnomalyScore_StoredOnEveryChannelRow_NullWhenNotScored) {
  testing::TempDir dir;
  const auto path = dir.path() / "a.sqlite";
  {
    SqliteStore store(path);
    auto scored = window("gw", "d1", 0, 2);
    scored.window.anomaly_score = 2.5F;
    store.store(std::vector{scored, window("gw", "d1", 1000, 2)});
  }
  const char* sql = "SELECT count(*), min(anomaly_score), max(anomaly_score) FROM windows WHERE window_start_ns = ";
  EXPECT_EQ(first_row(path, (std::string(sql) + "0").c_str()), (std::vector<std::string>{"2", "2.5", "2.5"}));
  EXPECT_EQ(first_row(path, (std::string(sql) + "1000").c_str()), (std::vector<std::string>{"2", "NULL", "NULL"}));
}

TEST(SqliteStore, StoreEvents_OneRowPerEvent_AllFieldsStored) {
  testing::TempDir dir;
  const auto path = dir.path() / "a.sqlite";
  {
    SqliteStore store(path);
    auto other_device = event(3000, false);
    other_device.event.device_id = "d2";
    EXPECT_EQ(store.store_events(std::vector{event(3000, true), other_device}), 2U);
    EXPECT_EQ(store.count_event_rows(), 2U);
  }
  EXPECT_EQ(first_row(path,
                      "SELECT gateway_id, device_id, start_ns, end_ns, peak_score, peak_window_start_ns, windows, "
                      "channels, ongoing FROM anomaly_events WHERE device_id = 'd1'"),
            (std::vector<std::string>{"gw", "d1", "1000", "3000", "4.5", "2000", "2", "3,0,7", "1"}));
}

TEST(SqliteStore, StoreEvents_SameEventTwice_StoredOnce) {
  testing::TempDir dir;
  SqliteStore store(dir.path() / "a.sqlite");
  for (const bool ongoing : {true, false}) {
    auto e = event(3000, ongoing);
    e.event.device_id = ongoing ? "ongoing" : "closed";
    EXPECT_EQ(store.store_events(std::vector{e}), 1U);
    EXPECT_EQ(store.store_events(std::vector{e}), 0U);
  }
  // Same device and start from another gateway is a different event.
  auto other = event(3000, true);
  other.gateway_id = "gw2";
  EXPECT_EQ(store.store_events(std::vector{other}), 1U);
  EXPECT_EQ(store.count_event_rows(), 3U);
}

TEST(SqliteStore, StoreEvents_FinalAfterOngoing_ReplacesRow) {
  testing::TempDir dir;
  const auto path = dir.path() / "a.sqlite";
  {
    SqliteStore store(path);
    EXPECT_EQ(store.store_events(std::vector{event(3000, true)}), 1U);
    EXPECT_EQ(store.store_events(std::vector{event(4000, true)}), 1U) << "a longer ongoing report replaces the row";
    auto final_report = event(6000, false);
    final_report.event.peak_score = 9.0;
    final_report.event.channels = {1};
    EXPECT_EQ(store.store_events(std::vector{final_report}), 1U);
    EXPECT_EQ(store.count_event_rows(), 1U);
  }
  EXPECT_EQ(first_row(path, "SELECT end_ns, peak_score, windows, channels, ongoing FROM anomaly_events"),
            (std::vector<std::string>{"6000", "9.0", "5", "1", "0"}));
}

TEST(SqliteStore, StoreEvents_StaleOngoingAfterFinal_DoesNotReplaceRow) {
  testing::TempDir dir;
  const auto path = dir.path() / "a.sqlite";
  {
    SqliteStore store(path);
    EXPECT_EQ(store.store_events(std::vector{event(3000, true), event(5000, false)}), 2U);
    EXPECT_EQ(store.store_events(std::vector{event(3000, true)}), 0U) << "a resent ongoing report after the final one";
    EXPECT_EQ(store.store_events(std::vector{event(9000, true)}), 0U) << "nothing reopens a closed event";
    auto shorter = event(4000, true);
    shorter.event.device_id = "d2";
    EXPECT_EQ(store.store_events(std::vector{event(5000, true), shorter}), 1U);
    shorter.event.end_ns = 2000;
    EXPECT_EQ(store.store_events(std::vector{shorter}), 0U) << "an older ongoing report after a newer one";
  }
  EXPECT_EQ(first_row(path, "SELECT end_ns, ongoing FROM anomaly_events WHERE device_id = 'd1'"),
            (std::vector<std::string>{"5000", "0"}));
  EXPECT_EQ(first_row(path, "SELECT end_ns, ongoing FROM anomaly_events WHERE device_id = 'd2'"),
            (std::vector<std::string>{"4000", "1"}));
}

TEST(SqliteStore, OpenVersion3_MigratesToLatest_KeepsRows) {
  testing::TempDir dir;
  const auto path = dir.path() / "a.sqlite";
  {
    // A database as the collector left it at schema version 3 (migrations 1 to 3).
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, R"sql(
CREATE TABLE windows (
  gateway_id TEXT NOT NULL, device_id TEXT NOT NULL, channel INTEGER NOT NULL,
  window_start_ns INTEGER NOT NULL, window_end_ns INTEGER NOT NULL, count INTEGER NOT NULL,
  min REAL NOT NULL, max REAL NOT NULL, mean REAL NOT NULL, variance REAL NOT NULL,
  revision INTEGER NOT NULL DEFAULT 0, histogram TEXT, band_delta REAL, band_theta REAL,
  band_alpha REAL, band_beta REAL, band_gamma REAL, stored_ns INTEGER,
  PRIMARY KEY (gateway_id, device_id, channel, window_start_ns)
) WITHOUT ROWID;
INSERT INTO windows VALUES ('gw', 'd1', 0, 0, 1000, 256, -1, 1, 0.5, 0.25, 0, NULL, 1, 2, 3, 4, 5, 42);
PRAGMA user_version = 3;
)sql",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  {
    SqliteStore store(path);
    EXPECT_EQ(store.schema_version(), 4);
    EXPECT_EQ(store.count_window_rows(), 1U);
    EXPECT_EQ(store.store(std::vector{window("gw", "d1", 0, 1)}), 0U) << "the old row still keys the window";
    EXPECT_EQ(store.store_events(std::vector{event(3000, false)}), 1U);
  }
  EXPECT_EQ(first_row(path, "SELECT count, band_gamma, stored_ns, anomaly_score FROM windows"),
            (std::vector<std::string>{"256", "5.0", "42", "NULL"}));
}

TEST(SqliteStore, NotADatabase_ThrowsWithPath) {
  testing::TempDir dir;
  const auto path = dir.path() / "garbage.sqlite";
  std::ofstream(path) << std::string(4096, 'x');
  try {
    SqliteStore store(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("garbage.sqlite"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sensorgate::collector
