// A real recording (PhysioNet EEGMMIDB S001R03, EDF+, 16 of its 64 channels at 160 Hz)
// replayed by the simulator through a real broker, gateway and collector: every 1 s window
// of the 125 s run is stored, with the statistics of the recording's own samples.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <csignal>
#include <map>

#include "sensorgate/sim/recording.hpp"
#include "sensorgate/testing/processes.hpp"
#include "sensorgate/testing/reference_stats.hpp"

namespace sensorgate {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kStartNs = 1'700'000'000'000'000'000;
constexpr std::int64_t kSecondNs = 1'000'000'000;

TEST(Replay, EdfPlusRecording_EveryWindowStoredWithTheRecordingsStatistics) {
  const std::filesystem::path edf = SENSORGATE_SHARED_DATA_DIR "/physionet-eegmmidb-S001/S001R03.edf";
  if (!std::filesystem::exists(edf)) GTEST_SKIP() << "SKIPPED: " << edf << " not found (../shared/data missing)";

  testing::TempDir dir;
  testing::MosquittoBroker broker(dir.path());
  const auto db = dir.path() / "windows.sqlite";
  const std::string uplink = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());
  testing::ChildProcess collector({SENSORGATE_COLLECTOR_BIN, "--bind", uplink, "--db", db.string()},
                                  dir.path() / "collector.log");
  testing::ChildProcess gateway({SENSORGATE_GATEWAY_BIN, "--mqtt", broker.url(), "--uplink", uplink, "--gateway-id",
                                 "gw-replay", "--idle-timeout-ms", "500"},
                                dir.path() / "gateway.log");
  ASSERT_TRUE(testing::wait_until([&] { return gateway.log().find("subscribed to") != std::string::npos; }, 15s))
      << gateway.log();

  std::string sim_output;
  ASSERT_EQ(testing::run_program({SENSORGATE_SIM_BIN, "--mqtt", broker.url(), "--replay", edf.string(), "--channels",
                                  "0-15", "--devices", "1", "--device-id", "s001r03", "--speed", "max",
                                  "--start-time-ns", std::to_string(kStartNs)},
                                 sim_output, 60s),
            0)
      << sim_output;

  sim::ReadOptions options;
  options.channel_spec = "0-15";
  const auto recording = sim::read_recording(edf, options);
  ASSERT_EQ(recording.sample_rate_hz, 160.0);
  const auto seconds = static_cast<int>(recording.frames() / 160);
  ASSERT_EQ(seconds, 125);
  const int expected_rows = seconds * 16;

  auto count = [&] {
    sqlite3* handle = nullptr;
    int n = 0;
    if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* stmt = nullptr;
      sqlite3_prepare_v2(handle, "SELECT count(*) FROM windows", -1, &stmt, nullptr);
      if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int(stmt, 0);
      sqlite3_finalize(stmt);
    }
    sqlite3_close(handle);
    return n;
  };
  EXPECT_TRUE(testing::wait_until([&] { return count() >= expected_rows; }, 30s)) << count();
  gateway.signal(SIGTERM);
  ASSERT_EQ(gateway.wait(15s), 0) << gateway.log();
  collector.signal(SIGTERM);
  ASSERT_EQ(collector.wait(10s), 0) << collector.log();
  ASSERT_EQ(count(), expected_rows);

  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(handle,
                     "SELECT channel, window_start_ns, count, min, max, mean, variance FROM windows "
                     "WHERE device_id = 's001r03'",
                     -1, &stmt, nullptr);
  int checked = 0;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const int channel = sqlite3_column_int(stmt, 0);
    const auto second = (sqlite3_column_int64(stmt, 1) - kStartNs) / kSecondNs;
    ASSERT_GE(second, 0);
    ASSERT_LT(second, seconds);
    constexpr std::size_t kFloatsPerSecond = std::size_t{160} * 16;
    const std::span<const float> slice(recording.samples.data() + static_cast<std::size_t>(second) * kFloatsPerSecond,
                                       kFloatsPerSecond);
    const auto ref = testing::reference_stats(slice, 16, static_cast<std::size_t>(channel));
    EXPECT_EQ(sqlite3_column_int64(stmt, 2), 160);
    EXPECT_TRUE(testing::close(sqlite3_column_double(stmt, 3), ref.min, 1e-6));
    EXPECT_TRUE(testing::close(sqlite3_column_double(stmt, 4), ref.max, 1e-6));
    EXPECT_TRUE(testing::close(sqlite3_column_double(stmt, 5), ref.mean, 1e-5, 1e-9));
    EXPECT_TRUE(testing::close(sqlite3_column_double(stmt, 6), ref.variance, 1e-5));
    ++checked;
  }
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  EXPECT_EQ(checked, expected_rows);
}

}  // namespace
}  // namespace sensorgate
