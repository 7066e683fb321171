// Capture mode on real processes: with capture.raw_frames on, the collector's raw_frames
// table holds every frame the simulator sent exactly once (duplicates injected on the way
// are removed by the gateway, redeliveries by the store), and the stored samples are the
// ones the windows were computed from (per-window means agree).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "sensorgate/collector/store.hpp"
#include "sensorgate/testing/processes.hpp"
#include "sensorgate/testing/window_rows.hpp"

namespace sensorgate::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kDevices = 2;
constexpr int kSeconds = 3;
constexpr std::int64_t kStartNs = 1'700'000'000'000'000'000;

TEST(Capture, RawFramesOn_EveryFrameStoredOnceAndMatchesTheWindows) {
  TempDir dir;
  MosquittoBroker broker(dir.path());
  const auto db = dir.path() / "collector.sqlite";
  const std::string uplink = "tcp://127.0.0.1:" + std::to_string(free_tcp_port());
  ChildProcess collector({SENSORGATE_COLLECTOR_BIN, "--bind", uplink, "--db", db.string()},
                         dir.path() / "collector.log");
  std::ofstream(dir.path() / "gateway.toml") << "[capture]\nraw_frames = true\nframes_per_record = 100\n";
  const auto stats_path = dir.path() / "stats.json";
  ChildProcess gateway(
      {SENSORGATE_GATEWAY_BIN, "--config", (dir.path() / "gateway.toml").string(), "--mqtt", broker.url(), "--uplink",
       uplink, "--gateway-id", "gw-capture", "--idle-timeout-ms", "500", "--stats-json", stats_path.string()},
      dir.path() / "gateway.log");
  ASSERT_TRUE(wait_until([&] { return gateway.log().find("subscribed to") != std::string::npos; }, 20s))
      << gateway.log();
  std::string sim_output;
  ASSERT_EQ(run_program({SENSORGATE_SIM_BIN, "--mqtt", broker.url(), "--devices", std::to_string(kDevices),
                         "--duration", std::to_string(kSeconds), "--speed", "max", "--seed", "4", "--start-time-ns",
                         std::to_string(kStartNs), "--duplicate-rate", "0.1"},
                        sim_output, 60s),
            0)
      << sim_output;
  constexpr std::uint64_t kFrames = std::uint64_t{kDevices} * kSeconds * 256;
  const auto store = collector::open_store(db.string());
  EXPECT_TRUE(wait_until([&] { return store->count_raw_frames() >= kFrames; }, 20s)) << gateway.log();
  gateway.signal(SIGTERM);
  EXPECT_EQ(gateway.wait(20s), 0) << gateway.log();
  EXPECT_EQ(store->count_raw_frames(), kFrames);
  const auto stats = nlohmann::json::parse(read_file(stats_path));
  EXPECT_EQ(stats.value("raw_frames_captured", 0U), kFrames);
  EXPECT_GT(stats.value("duplicates", 0U), 0U) << "the simulator injected duplicates";

  // Mean of channel 3 per (device, window) from the raw samples, against the window rows.
  std::map<std::pair<std::string, std::int64_t>, std::pair<double, int>> sums;
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(handle,
                               "SELECT device_id, first_time_ns, sample_rate_hz, channels, frames, samples "
                               "FROM raw_frames ORDER BY device_id, first_seq",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const std::string device(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    const std::int64_t first_time = sqlite3_column_int64(stmt, 1);
    const double rate = sqlite3_column_double(stmt, 2);
    const int channels = sqlite3_column_int(stmt, 3);
    const int frames = sqlite3_column_int(stmt, 4);
    ASSERT_EQ(sqlite3_column_bytes(stmt, 5), frames * channels * static_cast<int>(sizeof(float)));
    std::vector<float> samples(static_cast<std::size_t>(frames) * static_cast<std::size_t>(channels));
    std::memcpy(samples.data(), sqlite3_column_blob(stmt, 5), samples.size() * sizeof(float));
    for (int f = 0; f < frames; ++f) {
      const auto t = first_time + static_cast<std::int64_t>(static_cast<double>(f) * 1e9 / rate);
      auto& [sum, n] = sums[{device, kStartNs + ((t - kStartNs) / 1'000'000'000) * 1'000'000'000}];
      sum += samples[static_cast<std::size_t>(f) * static_cast<std::size_t>(channels) + 3];
      ++n;
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  const auto rows = read_window_rows(db);
  ASSERT_EQ(rows.size(), std::size_t{kDevices} * kSeconds * 16);
  for (const auto& [key, sum] : sums) {
    const auto row = rows.find({key.first, 3, key.second});
    ASSERT_NE(row, rows.end()) << key.first << " " << key.second;
    EXPECT_EQ(sum.second, row->second.count);
    EXPECT_NEAR(sum.first / sum.second, row->second.mean, 1e-3 * (1.0 + std::abs(row->second.mean)));
  }
  collector.signal(SIGTERM);
  EXPECT_EQ(collector.wait(10s), 0);
}

}  // namespace
}  // namespace sensorgate::testing
