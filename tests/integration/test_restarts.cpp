// Issue #5's restart fault tests on real processes: the gateway killed with SIGKILL and
// restarted in the middle of a real-time stream, and the broker restarted in the middle of
// one. Afterwards the store must hold every window exactly once (keys and count), the
// spool must be empty and the counters must agree. Real mosquitto, collector, SQLite and
// PostgreSQL (each test runs against both); loopback only.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "sensorgate/testing/processes.hpp"
#include "sensorgate/testing/store_backend_test.hpp"
#include "sensorgate/testing/window_rows.hpp"

namespace sensorgate::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kDevices = 2;
constexpr int kSeconds = 16;
constexpr int kChannels = 16;
constexpr std::int64_t kStartNs = 1'700'000'000'000'000'000;
constexpr std::int64_t kSecondNs = 1'000'000'000;

nlohmann::json stats(const std::filesystem::path& path) {
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const std::exception&) {
    return nlohmann::json::object();  // not written yet
  }
}

/// Collector, gateway (restartable, persistent MQTT session, disk spool) and the files they
/// share, for one test.
class RestartPipeline {
 public:
  RestartPipeline(const std::filesystem::path& dir, std::string broker_url, std::string db)
      : dir_(dir),
        db_(std::move(db)),
        uplink_("tcp://127.0.0.1:" + std::to_string(free_tcp_port())),
        broker_url_(std::move(broker_url)),
        collector_({SENSORGATE_COLLECTOR_BIN, "--bind", uplink_, "--db", db_}, dir / "collector.log") {
    // No allowed lateness: a window closes with its last frame, so a window is never held
    // complete in memory, where a kill would lose it.
    std::ofstream(dir / "gateway.toml") << "[log]\nstats_interval_s = 1\n[windows]\nallowed_lateness_ms = 0\n"
                                        << "[uplink]\nresend_after_ms = 500\n";
  }

  ChildProcess& start_gateway() {
    ++runs_;
    gateway_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{SENSORGATE_GATEWAY_BIN, "--config", (dir_ / "gateway.toml").string(), "--mqtt",
                                 broker_url_, "--mqtt-client-id", "gw-restart", "--uplink", uplink_, "--gateway-id",
                                 "gw-restart", "--spool-dir", (dir_ / "spool").string(), "--idle-timeout-ms", "500",
                                 "--stats-json", stats_path().string()},
        dir_ / ("gateway-" + std::to_string(runs_) + ".log"));
    return *gateway_;
  }
  [[nodiscard]] bool wait_subscribed() const {
    return wait_until([&] { return gateway_->log().find("subscribed to") != std::string::npos; }, 20s);
  }
  [[nodiscard]] std::filesystem::path stats_path() const { return dir_ / ("stats-" + std::to_string(runs_) + ".json"); }
  [[nodiscard]] const std::string& db() const { return db_; }
  ChildProcess& gateway() { return *gateway_; }

  /// Waits until every window of the run is stored and the gateway has nothing pending
  /// (spool and in flight), then stops the gateway cleanly.
  void expect_everything_delivered_then_stop() {
    const std::size_t expected_rows = std::size_t{kDevices} * kSeconds * kChannels;
    EXPECT_TRUE(wait_until([&] { return read_window_rows(db_).size() >= expected_rows; }, 30s))
        << read_window_rows(db_).size() << "\n"
        << gateway_->log();
    EXPECT_TRUE(wait_until(
        [&] {
          const auto s = stats(stats_path());
          return s.value("spool_pending", 1U) == 0 && s.value("uplink_in_flight", 1U) == 0;
        },
        10s))
        << read_file(stats_path());
    gateway_->signal(SIGTERM);
    EXPECT_EQ(gateway_->wait(20s), 0) << gateway_->log();
  }
  ChildProcess& collector() { return collector_; }

 private:
  std::filesystem::path dir_;
  std::string db_;  // a SQLite path or a postgresql:// URL
  std::string uplink_;
  std::string broker_url_;
  ChildProcess collector_;
  std::unique_ptr<ChildProcess> gateway_;
  int runs_ = 0;
};

std::vector<std::string> sim_args(const std::string& url, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{SENSORGATE_SIM_BIN,
                                "--mqtt",
                                url,
                                "--devices",
                                std::to_string(kDevices),
                                "--duration",
                                std::to_string(kSeconds),
                                "--speed",
                                "1",
                                "--seed",
                                "5",
                                "--start-time-ns",
                                std::to_string(kStartNs)};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// Newest window start stored for any device, or kStartNs - 1 s when none is.
std::int64_t newest_stored_window(const std::string& db) {
  std::int64_t newest = kStartNs - kSecondNs;
  for (const auto& [key, row] : read_window_rows(db)) newest = std::max(newest, std::get<2>(key));
  return newest;
}

/// Every (device, channel, window) of the run is present once (the map's keys are unique,
/// so its size counts distinct keys), and no other key is.
void expect_every_window_once(const std::map<WindowKey, WindowRow>& rows) {
  EXPECT_EQ(rows.size(), std::size_t{kDevices} * kSeconds * kChannels);
  std::map<std::string, std::set<std::int64_t>> starts;
  for (const auto& [key, row] : rows) starts[std::get<0>(key)].insert(std::get<2>(key));
  EXPECT_EQ(starts.size(), std::size_t{kDevices});
  for (const auto& [device, windows] : starts) {
    EXPECT_EQ(windows.size(), std::size_t{kSeconds}) << device;
    EXPECT_EQ(*windows.begin(), kStartNs) << device;
    EXPECT_EQ(*windows.rbegin(), kStartNs + ((kSeconds - 1) * kSecondNs)) << device;
  }
}

class Restarts : public StoreBackendTest {};

TEST_P(Restarts, GatewayKilledMidStreamAndRestarted_EveryWindowStoredOnceSpoolEmpty) {
  TempDir dir;
  MosquittoBroker broker(dir.path());
  RestartPipeline pipeline(dir.path(), broker.url(), url());
  pipeline.start_gateway();
  ASSERT_TRUE(pipeline.wait_subscribed()) << pipeline.gateway().log();
  ChildProcess sim(sim_args(broker.url()), dir.path() / "sim.log");

  // Kill half way through a window: the windows before it are stored or spooled, the one
  // being filled holds about half a second of frames in memory only.
  ASSERT_TRUE(wait_until([&] { return newest_stored_window(pipeline.db()) >= kStartNs + (5 * kSecondNs); }, 30s))
      << pipeline.gateway().log();
  const std::int64_t killed_window = newest_stored_window(pipeline.db()) + kSecondNs;
  std::this_thread::sleep_for(500ms);
  pipeline.gateway().signal(SIGKILL);
  EXPECT_EQ(pipeline.gateway().wait(5s), 128 + SIGKILL);
  std::this_thread::sleep_for(2s);  // the broker queues the stream for the session meanwhile

  pipeline.start_gateway();
  ASSERT_TRUE(pipeline.wait_subscribed()) << pipeline.gateway().log();
  ASSERT_EQ(sim.wait(60s), 0) << sim.log();
  pipeline.expect_everything_delivered_then_stop();

  const auto s = stats(pipeline.stats_path());
  EXPECT_EQ(s.value("uplink_acked", 0U), s.value("uplink_sent", 1U)) << "the restarted gateway's messages all acked";
  EXPECT_EQ(s.value("spool_corrupt", 1U), 0U);
  const auto rows = read_window_rows(pipeline.db());
  expect_every_window_once(rows);
  // Frames the killed process had taken from the broker but not yet closed into a window
  // are lost with it: only the window being filled at the kill may be short.
  for (const auto& [key, row] : rows) {
    if (std::get<2>(key) == killed_window) {
      if (std::get<1>(key) == 0) {
        std::cout << std::get<0>(key) << ": the window being filled at the kill holds " << row.count
                  << " of 256 frames\n";
      }
      EXPECT_GT(row.count, 0) << std::get<0>(key);
      EXPECT_LE(row.count, 256) << std::get<0>(key);
    } else {
      EXPECT_EQ(row.count, 256) << std::get<0>(key) << " channel " << std::get<1>(key) << " window "
                                << (std::get<2>(key) - kStartNs) / kSecondNs;
    }
  }
}

TEST_P(Restarts, BrokerRestartedMidStream_EveryWindowStoredOnceAndWhole) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "mosquitto-db");
  MosquittoBroker broker(dir.path(), MosquittoOptions().persistence(dir.path() / "mosquitto-db"));
  RestartPipeline pipeline(dir.path(), broker.url(), url());
  pipeline.start_gateway();
  ASSERT_TRUE(pipeline.wait_subscribed()) << pipeline.gateway().log();
  // The simulator keeps its session too, so what it had in flight is sent again.
  ChildProcess sim(sim_args(broker.url(), {"--mqtt-client-id", "sim-restart", "--mqtt-persistent-session"}),
                   dir.path() / "sim.log");
  ASSERT_TRUE(wait_until([&] { return newest_stored_window(pipeline.db()) >= kStartNs + (4 * kSecondNs); }, 30s))
      << pipeline.gateway().log();
  broker.stop();
  std::this_thread::sleep_for(2s);
  broker.start();

  ASSERT_EQ(sim.wait(60s), 0) << sim.log();
  pipeline.expect_everything_delivered_then_stop();

  const auto s = stats(pipeline.stats_path());
  EXPECT_EQ(s.value("mqtt_reconnects", 0U), 1U) << pipeline.gateway().log();
  EXPECT_EQ(s.value("missing", 1U), 0U) << "no frame lost between simulator and gateway\n"
                                        << sim.log() << pipeline.gateway().log() << broker.log();
  EXPECT_EQ(s.value("uplink_acked", 0U), s.value("uplink_sent", 1U));
  const auto rows = read_window_rows(pipeline.db());
  expect_every_window_once(rows);
  for (const auto& [key, row] : rows) {
    EXPECT_EQ(row.count, 256) << std::get<0>(key) << " window " << (std::get<2>(key) - kStartNs) / kSecondNs;
  }
}

INSTANTIATE_TEST_SUITE_P(Store, Restarts, ::testing::ValuesIn(store_backends()), StoreBackendTest::name);

}  // namespace
}  // namespace sensorgate::testing
