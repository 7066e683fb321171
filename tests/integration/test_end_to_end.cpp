// The whole pipeline as a user runs it: a real mosquitto on a free loopback port, the
// collector, the gateway and the simulator as separate processes, then the SQLite file is
// checked against statistics recomputed from the simulator's seed.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <tuple>

#include "sensorgate/kernels/spectrum.hpp"
#include "sensorgate/sim/simulator.hpp"
#include "sensorgate/sim/synthetic_eeg.hpp"
#include "sensorgate/testing/processes.hpp"
#include "sensorgate/testing/reference_stats.hpp"

namespace sensorgate {
namespace {

using namespace std::chrono_literals;

constexpr int kDevices = 4;
constexpr int kSeconds = 10;
constexpr int kChannels = 16;
constexpr int kRate = 256;
constexpr std::int64_t kStartNs = 1'700'000'000'000'000'000;
constexpr std::int64_t kSecondNs = 1'000'000'000;
constexpr std::uint64_t kSeed = 20261123;

struct Row {
  std::int64_t end_ns = 0;
  std::int64_t count = 0;
  double min = 0, max = 0, mean = 0, variance = 0;
  std::string histogram;  // JSON: {"edges":[...],"counts":[...]}
  double alpha = 0;
  double total_band_power = 0;
};
using Key = std::tuple<std::string, int, std::int64_t>;  // device, channel, window start

std::map<Key, Row> read_rows(const std::filesystem::path& db, std::string& gateway_ids, std::int64_t& total) {
  sqlite3* handle = nullptr;
  std::map<Key, Row> rows;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return rows;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(handle,
                     "SELECT gateway_id, device_id, channel, window_start_ns, window_end_ns, count, min, max, mean, "
                     "variance, histogram, band_alpha, band_delta + band_theta + band_alpha + band_beta + band_gamma "
                     "FROM windows",
                     -1, &stmt, nullptr);
  total = 0;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    ++total;
    gateway_ids = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    Key key{reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)), sqlite3_column_int(stmt, 2),
            sqlite3_column_int64(stmt, 3)};
    const auto* histogram = sqlite3_column_text(stmt, 10);
    rows[key] = Row{sqlite3_column_int64(stmt, 4),
                    sqlite3_column_int64(stmt, 5),
                    sqlite3_column_double(stmt, 6),
                    sqlite3_column_double(stmt, 7),
                    sqlite3_column_double(stmt, 8),
                    sqlite3_column_double(stmt, 9),
                    histogram != nullptr ? reinterpret_cast<const char*>(histogram) : "",
                    sqlite3_column_double(stmt, 11),
                    sqlite3_column_double(stmt, 12)};
  }
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return rows;
}

/// Sum of the "counts" array of a histogram JSON object.
std::int64_t histogram_total(const std::string& json) {
  const auto open = json.find("\"counts\":[");
  if (open == std::string::npos) return -1;
  std::int64_t total = 0;
  std::istringstream in(json.substr(open + 10));
  std::int64_t value = 0;
  char separator = 0;
  while (in >> value) {
    total += value;
    if (!(in >> separator) || separator != ',') break;
  }
  return total;
}

std::int64_t count_rows(const std::filesystem::path& db) {
  std::string ignored;
  std::int64_t total = 0;
  read_rows(db, ignored, total);
  return total;
}

TEST(EndToEnd, FourHeadsetsTenSecondsAtMaxSpeed_EveryWindowOnceWithReferenceStatistics) {
  testing::TempDir dir;
  testing::MosquittoBroker broker(dir.path());
  const auto db = dir.path() / "windows.sqlite";
  const std::string uplink = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());

  testing::ChildProcess collector({SENSORGATE_COLLECTOR_BIN, "--bind", uplink, "--db", db.string()},
                                  dir.path() / "collector.log");
  testing::ChildProcess gateway({SENSORGATE_GATEWAY_BIN, "--mqtt", broker.url(), "--uplink", uplink, "--gateway-id",
                                 "gw-e2e", "--idle-timeout-ms", "500"},
                                dir.path() / "gateway.log");
  ASSERT_TRUE(testing::wait_until([&] { return gateway.log().find("subscribed to") != std::string::npos; }, 15s))
      << gateway.log();

  std::string sim_output;
  const int sim_status =
      testing::run_program({SENSORGATE_SIM_BIN, "--mqtt", broker.url(), "--devices", std::to_string(kDevices),
                            "--duration", std::to_string(kSeconds), "--speed", "max", "--seed", std::to_string(kSeed),
                            "--start-time-ns", std::to_string(kStartNs)},
                           sim_output, 60s);
  ASSERT_EQ(sim_status, 0) << sim_output;

  // The last window of each device closes by the idle timeout; wait for all of them.
  constexpr std::int64_t kExpectedRows = std::int64_t{kDevices} * kChannels * kSeconds;
  EXPECT_TRUE(testing::wait_until([&] { return count_rows(db) >= kExpectedRows; }, 30s))
      << "rows: " << count_rows(db) << "\n"
      << gateway.log();

  gateway.signal(SIGTERM);
  EXPECT_EQ(gateway.wait(15s), 0) << gateway.log();
  collector.signal(SIGTERM);
  EXPECT_EQ(collector.wait(10s), 0) << collector.log();

  std::string gateway_id;
  std::int64_t total = 0;
  const auto rows = read_rows(db, gateway_id, total);
  ASSERT_EQ(total, kExpectedRows) << "every (device, channel, window) exactly once";
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(kExpectedRows));
  EXPECT_EQ(gateway_id, "gw-e2e");

  // Recompute every window from the seed with the naive two-pass formulas.
  kernels::BandPowerCalculator band_calculator;
  for (int d = 0; d < kDevices; ++d) {
    sim::SyntheticEeg eeg(kSeed, static_cast<std::uint32_t>(d), sim::SignalShape{});
    std::vector<float> second(static_cast<std::size_t>(kRate) * kChannels);
    const std::string device = sim::simulated_device_id("sim", static_cast<std::uint32_t>(d));
    for (int s = 0; s < kSeconds; ++s) {
      eeg.generate(second);
      const std::int64_t start = kStartNs + s * kSecondNs;
      for (int c = 0; c < kChannels; ++c) {
        const auto it = rows.find(Key{device, c, start});
        ASSERT_NE(it, rows.end()) << device << " channel " << c << " second " << s;
        const Row& row = it->second;
        const auto ref = testing::reference_stats(second, kChannels, static_cast<std::size_t>(c));
        EXPECT_EQ(row.end_ns, start + kSecondNs);
        EXPECT_EQ(row.count, kRate);
        EXPECT_TRUE(testing::close(row.min, ref.min, 1e-5)) << row.min << " vs " << ref.min;
        EXPECT_TRUE(testing::close(row.max, ref.max, 1e-5)) << row.max << " vs " << ref.max;
        EXPECT_TRUE(testing::close(row.mean, ref.mean, 1e-5, 1e-9)) << row.mean << " vs " << ref.mean;
        EXPECT_TRUE(testing::close(row.variance, ref.variance, 1e-5)) << row.variance << " vs " << ref.variance;
        // The default histogram (config/gateway.toml's edges) counts every sample once.
        EXPECT_EQ(histogram_total(row.histogram), kRate) << row.histogram;
        // Band powers equal those of the same samples through the same calculation.
        std::vector<float> channel(kRate);
        for (int f = 0; f < kRate; ++f)
          channel[f] = second[static_cast<std::size_t>(f) * kChannels + static_cast<std::size_t>(c)];
        const auto bands = band_calculator.compute(channel, kRate);
        double total_bands = 0;
        for (float b : bands) total_bands += b;
        EXPECT_TRUE(testing::close(row.alpha, bands[2], 1e-5)) << row.alpha << " vs " << bands[2];
        EXPECT_TRUE(testing::close(row.total_band_power, total_bands, 1e-5));
      }
    }
  }
}

// Issue #4: a seizure-like burst in a live stream becomes an anomaly event that the
// gateway uplinks and the collector stores, with the window scores beside the statistics.
TEST(EndToEnd, ScheduledSeizureInLiveStream_AnomalyEventStoredByCollector) {
  testing::TempDir dir;
  testing::MosquittoBroker broker(dir.path());
  const auto db = dir.path() / "windows.sqlite";
  const auto config = dir.path() / "gateway.toml";
  std::ofstream(config) << "[anomaly]\nwarmup_windows = 20\n";
  const std::string uplink = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());
  testing::ChildProcess collector({SENSORGATE_COLLECTOR_BIN, "--bind", uplink, "--db", db.string()},
                                  dir.path() / "collector.log");
  testing::ChildProcess gateway({SENSORGATE_GATEWAY_BIN, "--config", config.string(), "--mqtt", broker.url(),
                                 "--uplink", uplink, "--gateway-id", "gw-anomaly", "--idle-timeout-ms", "500"},
                                dir.path() / "gateway.log");
  ASSERT_TRUE(testing::wait_until([&] { return gateway.log().find("subscribed to") != std::string::npos; }, 15s))
      << gateway.log();
  constexpr int kLiveSeconds = 60;
  std::string sim_output;
  ASSERT_EQ(testing::run_program({SENSORGATE_SIM_BIN, "--mqtt", broker.url(), "--devices", "1", "--duration",
                                  std::to_string(kLiveSeconds), "--speed", "max", "--seed", std::to_string(kSeed),
                                  "--start-time-ns", std::to_string(kStartNs), "--anomaly-schedule", "0:seizure:40:6"},
                                 sim_output, 60s),
            0)
      << sim_output;
  EXPECT_TRUE(testing::wait_until([&] { return count_rows(db) >= std::int64_t{kLiveSeconds} * kChannels; }, 30s))
      << gateway.log();
  gateway.signal(SIGTERM);
  EXPECT_EQ(gateway.wait(15s), 0) << gateway.log();
  collector.signal(SIGTERM);
  EXPECT_EQ(collector.wait(10s), 0) << collector.log();

  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  const std::unique_ptr<sqlite3, int (*)(sqlite3*)> owner(handle, sqlite3_close);
  const auto query_int = [&](const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(handle, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    const std::int64_t value = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    return value;
  };
  const std::int64_t seizure_start = kStartNs + 40 * kSecondNs;
  const std::int64_t seizure_end = seizure_start + 6 * kSecondNs;
  // One final (closed) event overlapping the seizure, naming the channels responsible.
  EXPECT_EQ(query_int("SELECT COUNT(*) FROM anomaly_events WHERE gateway_id = 'gw-anomaly' AND device_id = "
                      "'sim-0000' AND ongoing = 0 AND channels <> '' AND start_ns < " +
                      std::to_string(seizure_end) + " AND end_ns > " + std::to_string(seizure_start)),
            1)
      << gateway.log();
  // Alarm within 5 s of the seizure's start: the event starts no later than that.
  EXPECT_LE(query_int("SELECT MIN(start_ns) FROM anomaly_events WHERE end_ns > " + std::to_string(seizure_start)),
            seizure_start + 5 * kSecondNs);
  // Every window after the warm-up carries its score, repeated on each channel row.
  EXPECT_EQ(query_int("SELECT COUNT(*) FROM windows WHERE anomaly_score IS NOT NULL AND window_start_ns >= " +
                      std::to_string(kStartNs + 30 * kSecondNs)),
            std::int64_t{kLiveSeconds - 30} * kChannels);
}

}  // namespace
}  // namespace sensorgate
