#include "sensorgate/collector/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "sensorgate/testing/processes.hpp"

namespace sensorgate::collector {
namespace {

StoredWindow window(const std::string& gw, const std::string& dev, std::int64_t start, std::uint16_t channels) {
  StoredWindow w{gw, {dev, start, start + 1000, {}}};
  for (std::uint16_t c = 0; c < channels; ++c) w.window.channels.push_back({c, 256, -1, 1, 0.5, 0.25});
  return w;
}

TEST(SqliteStore, NewFile_MigratedToLatestSchema) {
  testing::TempDir dir;
  SqliteStore store(dir.path() / "a.sqlite");
  EXPECT_EQ(store.schema_version(), 1);
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

TEST(SqliteStore, Reopen_KeepsRowsAndSchema) {
  testing::TempDir dir;
  const auto path = dir.path() / "a.sqlite";
  {
    SqliteStore store(path);
    const std::vector<StoredWindow> batch{window("gw", "d1", 0, 2)};
    store.store(batch);
  }
  SqliteStore again(path);
  EXPECT_EQ(again.schema_version(), 1);
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
