// The uplink's disk spool and the ingest journal against a real crash: the gateway windows
// a stream while the collector is down, is killed with SIGKILL, and a new gateway on the
// same spool delivers every window once the collector is up; a gateway killed mid-window
// replays its journal. Real mosquitto, real processes, SQLite and
// PostgreSQL (each test runs against both), loopback only.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "sensorgate/testing/processes.hpp"
#include "sensorgate/testing/store_backend_test.hpp"
#include "sensorgate/testing/window_rows.hpp"

namespace sensorgate::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kDevices = 2;
constexpr int kSeconds = 12;
constexpr int kChannels = 16;

nlohmann::json stats(const std::filesystem::path& path) {
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const std::exception&) {
    return nlohmann::json::object();  // not written yet
  }
}

std::uint64_t spooled_bytes(const std::filesystem::path& dir) {
  std::uint64_t bytes = 0;
  if (!std::filesystem::exists(dir)) return 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) bytes += std::filesystem::file_size(e.path());
  return bytes;
}

class Spool : public StoreBackendTest {};

/// What the tests share: a scratch directory with a broker, the store's URL, a gateway
/// configuration (statistics every second, plus `extra_config`), the path of the
/// gateway's statistics file and the uplink endpoint.
struct Rig {
  Rig(std::string store_url, std::string_view extra_config) : db(std::move(store_url)) {
    std::ofstream(config) << "[log]\nstats_interval_s = 1\n" << extra_config;
  }
  /// The gateway's command line: this rig's broker, uplink, configuration and statistics
  /// file, windows of silent devices closed after 500 ms, then `extra`.
  [[nodiscard]] std::vector<std::string> gateway_args(const std::string& id,
                                                      const std::vector<std::string>& extra) const {
    std::vector<std::string> args{
        SENSORGATE_GATEWAY_BIN, "--config", config.string(),     "--mqtt", broker.url(),   "--uplink",         uplink,
        "--gateway-id",         id,         "--idle-timeout-ms", "500",    "--stats-json", stats_path.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  TempDir dir;
  MosquittoBroker broker{dir.path()};
  std::string db;
  std::filesystem::path config = dir.path() / "gateway.toml";
  std::filesystem::path stats_path = dir.path() / "stats.json";
  std::string uplink = "tcp://127.0.0.1:" + std::to_string(free_tcp_port());
};

constexpr std::string_view kResendFast = "[uplink]\nresend_after_ms = 500\n";

TEST_P(Spool, GatewayKilledWhileCollectorDown_RestartedGatewayDeliversEveryWindowOnce) {
  Rig rig(url(), "[uplink]\nspool_fsync = \"always\"\n");
  // (Lambdas name rig's members: Clang 14 cannot capture a structured binding.)
  auto& [dir, broker, db, config, stats_path, uplink] = rig;
  const auto spool = dir.path() / "spool";
  const auto gateway_args = rig.gateway_args("gw-spool", {"--spool-dir", spool.string()});
  constexpr std::uint64_t kWindows = std::uint64_t{kDevices} * kSeconds;
  {
    ChildProcess gateway(gateway_args, dir.path() / "gateway-1.log");
    ASSERT_TRUE(wait_until([&] { return gateway.log().find("subscribed to") != std::string::npos; }, 15s))
        << gateway.log();
    std::string sim_output;
    ASSERT_EQ(run_program({SENSORGATE_SIM_BIN, "--mqtt", broker.url(), "--devices", std::to_string(kDevices),
                           "--duration", std::to_string(kSeconds), "--speed", "max", "--seed", "7"},
                          sim_output, 60s),
              0)
        << sim_output;
    // No collector: every window ends up in the spool, unacknowledged (the uplink spools a
    // message before it counts it in flight; the warm-up is longer than the stream, so
    // there are no anomaly events among them).
    ASSERT_TRUE(wait_until(
        [&] {
          const auto s = stats(rig.stats_path);
          return s.value("uplink_in_flight", 0U) >= kWindows && s.value("spool_bytes", 0U) > 0;
        },
        30s))
        << gateway.log();
    gateway.signal(SIGKILL);
    EXPECT_EQ(gateway.wait(5s), 128 + SIGKILL);
  }
  ASSERT_GT(spooled_bytes(spool), 0U);

  ChildProcess collector({SENSORGATE_COLLECTOR_BIN, "--bind", uplink, "--db", db}, dir.path() / "collector.log");
  ChildProcess gateway(gateway_args, dir.path() / "gateway-2.log");
  const auto expected_rows = kWindows * kChannels;
  EXPECT_TRUE(wait_until([&] { return read_window_rows(rig.db).size() >= expected_rows; }, 30s))
      << "rows " << read_window_rows(db).size() << "\n"
      << gateway.log();
  EXPECT_NE(gateway.log().find("unacknowledged messages recovered"), std::string::npos) << gateway.log();
  gateway.signal(SIGTERM);
  EXPECT_EQ(gateway.wait(15s), 0) << gateway.log();
  collector.signal(SIGTERM);
  EXPECT_EQ(collector.wait(10s), 0) << collector.log();

  // Every (device, channel, window) exactly once: the map is keyed by them, so the size
  // is the count of distinct keys, and every row is a full window.
  const auto rows = read_window_rows(db);
  EXPECT_EQ(rows.size(), expected_rows);
  for (const auto& [key, row] : rows) EXPECT_EQ(row.count, 256) << std::get<0>(key);
  // All acknowledged: only the segment being written is left, and it holds nothing unacked
  // (the next start would recover nothing).
  ChildProcess check(gateway_args, dir.path() / "gateway-3.log");
  ASSERT_TRUE(wait_until([&] { return check.log().find("subscribed to") != std::string::npos; }, 15s)) << check.log();
  EXPECT_EQ(check.log().find("unacknowledged messages recovered"), std::string::npos) << check.log();
  check.signal(SIGTERM);
  EXPECT_EQ(check.wait(15s), 0) << check.log();
}

// Issue #5's first fault test: the collector dies (SIGKILL) for 10 s in the middle of a
// real-time stream and comes back on the same database; afterwards every window is stored
// exactly once, nothing is left pending in the spool or in flight, and the counters agree.
TEST_P(Spool, CollectorKilledForTenSecondsMidStream_EveryWindowStoredOnce) {
  Rig rig(url(), kResendFast);
  // (Lambdas name rig's members: Clang 14 cannot capture a structured binding.)
  auto& [dir, broker, db, config, stats_path, uplink] = rig;
  const std::vector<std::string> collector_args{SENSORGATE_COLLECTOR_BIN, "--bind", uplink, "--db", db};
  auto collector = std::make_unique<ChildProcess>(collector_args, dir.path() / "collector-1.log");
  ChildProcess gateway(rig.gateway_args("gw-outage", {"--spool-dir", (dir.path() / "spool").string()}),
                       dir.path() / "gateway.log");
  ASSERT_TRUE(wait_until([&] { return gateway.log().find("subscribed to") != std::string::npos; }, 15s))
      << gateway.log();
  constexpr int kLiveSeconds = 24;
  ChildProcess sim({SENSORGATE_SIM_BIN, "--mqtt", broker.url(), "--devices", std::to_string(kDevices), "--duration",
                    std::to_string(kLiveSeconds), "--speed", "1", "--seed", "11"},
                   dir.path() / "sim.log");
  ASSERT_TRUE(wait_until([&] { return !read_window_rows(rig.db).empty(); }, 15s)) << gateway.log();
  collector->signal(SIGKILL);
  EXPECT_EQ(collector->wait(5s), 128 + SIGKILL);
  std::this_thread::sleep_for(10s);
  EXPECT_GT(stats(stats_path).value("spool_pending", 0U), 0U) << "windows wait in the spool during the outage";
  collector = std::make_unique<ChildProcess>(collector_args, dir.path() / "collector-2.log");
  ASSERT_EQ(sim.wait(60s), 0) << sim.log();

  const std::uint64_t expected_rows = std::uint64_t{kDevices} * kLiveSeconds * kChannels;
  EXPECT_TRUE(wait_until([&] { return read_window_rows(rig.db).size() >= expected_rows; }, 30s))
      << "rows " << read_window_rows(db).size() << "\n"
      << gateway.log();
  EXPECT_TRUE(wait_until(
      [&] {
        const auto s = stats(rig.stats_path);
        return s.value("spool_pending", 1U) == 0 && s.value("uplink_in_flight", 1U) == 0;
      },
      10s))
      << read_file(stats_path);
  const auto s = stats(stats_path);
  EXPECT_EQ(s.value("uplink_acked", 0U), s.value("uplink_sent", 1U));  // every message acknowledged once
  EXPECT_GT(s.value("uplink_sent", 0U), 0U);
  gateway.signal(SIGTERM);
  EXPECT_EQ(gateway.wait(15s), 0) << gateway.log();
  collector->signal(SIGTERM);
  EXPECT_EQ(collector->wait(10s), 0) << collector->log();
  const auto rows = read_window_rows(db);
  EXPECT_EQ(rows.size(), expected_rows);
  for (const auto& [key, row] : rows) EXPECT_EQ(row.count, 256) << std::get<0>(key) << " " << std::get<2>(key);
}

// The ingest journal against a real crash mid-window: the broker has been told the frames
// of every device's open window were received (Paho acknowledges QoS 1 on arrival), so only
// the journal has them when the gateway is killed. The restarted gateway replays them
// before it reconnects, and every window is stored exactly once, complete.
TEST_P(Spool, GatewayKilledMidWindow_JournalReplayed_EveryWindowStoredOnceAndWhole) {
  Rig rig(url(), kResendFast);
  // (Lambdas name rig's members: Clang 14 cannot capture a structured binding.)
  auto& [dir, broker, db, config, stats_path, uplink] = rig;
  ChildProcess collector({SENSORGATE_COLLECTOR_BIN, "--bind", uplink, "--db", db}, dir.path() / "collector.log");
  const auto gateway_args = rig.gateway_args("gw-journal", {"--spool-dir", (dir.path() / "spool").string(),
                                                            "--journal-dir", (dir.path() / "journal").string()});
  auto gateway = std::make_unique<ChildProcess>(gateway_args, dir.path() / "gateway-1.log");
  ASSERT_TRUE(wait_until([&] { return gateway->log().find("subscribed to") != std::string::npos; }, 15s))
      << gateway->log();
  constexpr int kLiveSeconds = 16;
  ChildProcess sim({SENSORGATE_SIM_BIN, "--mqtt", broker.url(), "--devices", std::to_string(kDevices), "--duration",
                    std::to_string(kLiveSeconds), "--speed", "1", "--seed", "13"},
                   dir.path() / "sim.log");
  // Mid-stream, a quarter into a window: every device has frames of an open window.
  ASSERT_TRUE(wait_until([&] { return read_window_rows(rig.db).size() >= std::size_t{4} * kDevices * kChannels; }, 20s))
      << gateway->log();
  std::this_thread::sleep_for(250ms);
  EXPECT_GT(stats(stats_path).value("journal_bytes", 0U), 0U) << "nothing journaled";
  gateway->signal(SIGKILL);
  EXPECT_EQ(gateway->wait(5s), 128 + SIGKILL);
  gateway = std::make_unique<ChildProcess>(gateway_args, dir.path() / "gateway-2.log");
  ASSERT_EQ(sim.wait(60s), 0) << sim.log();

  const std::uint64_t expected_rows = std::uint64_t{kDevices} * kLiveSeconds * kChannels;
  EXPECT_TRUE(wait_until([&] { return read_window_rows(rig.db).size() >= expected_rows; }, 30s))
      << "rows " << read_window_rows(db).size() << "\n"
      << gateway->log();
  EXPECT_TRUE(wait_until(
      [&] {
        const auto s = stats(rig.stats_path);
        return s.value("uplink_in_flight", 1U) == 0 && s.value("frames_windowed", 0U) > 0;
      },
      10s))
      << read_file(stats_path);
  const auto s = stats(stats_path);
  EXPECT_GT(s.value("journal_replayed", 0U), 0U) << gateway->log();
  EXPECT_EQ(s.value("journal_replay_rejected", 1U), 0U);
  EXPECT_NE(gateway->log().find("replayed"), std::string::npos) << gateway->log();
  gateway->signal(SIGTERM);
  EXPECT_EQ(gateway->wait(15s), 0) << gateway->log();
  // Everything acknowledged at a clean stop: the journal keeps nothing for a next start.
  EXPECT_EQ(gateway->log().find("kept for the next start"), std::string::npos) << gateway->log();
  collector.signal(SIGTERM);
  EXPECT_EQ(collector.wait(10s), 0) << collector.log();
  const auto rows = read_window_rows(db);
  EXPECT_EQ(rows.size(), expected_rows);
  for (const auto& [key, row] : rows) EXPECT_EQ(row.count, 256) << std::get<0>(key) << " " << std::get<2>(key);
}

INSTANTIATE_TEST_SUITE_P(Store, Spool, ::testing::ValuesIn(store_backends()), StoreBackendTest::name);

}  // namespace
}  // namespace sensorgate::testing
