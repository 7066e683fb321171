#include "sensorgate/collector/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <fstream>

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

TEST(SqliteStore, NewFile_MigratedToLatestSchema) {
  testing::TempDir dir;
  SqliteStore store(dir.path() / "a.sqlite");
  EXPECT_EQ(store.schema_version(), 3);
  EXPECT_EQ(store.count_window_rows(), 0U);
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
  EXPECT_EQ(again.schema_version(), 3);
  EXPECT_EQ(again.count_window_rows(), 2U);
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
