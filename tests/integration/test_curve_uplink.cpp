// CurveZMQ on the real uplink: a collector with an allow-list stores what a listed gateway
// sends, and nothing from a gateway with an unlisted key, a plaintext gateway, or a listed
// key claiming another gateway's id. Configuration refuses plaintext off this machine.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <thread>

#include "sensorgate/collector/store.hpp"
#include "sensorgate/testing/processes.hpp"
#include "sensorgate/testing/window_rows.hpp"
#include "sensorgate/uplink/curve_security.hpp"

namespace sensorgate::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

fs::path gateway_config(const fs::path& dir, const std::string& name, const std::string& curve_keys) {
  auto path = dir / (name + ".toml");
  std::ofstream(path) << "[uplink]\nresend_after_ms = 500\n" << curve_keys;
  return path;
}

std::string curve_keys(const fs::path& dir, const std::string& name) {
  return "curve_secret_key = \"" + uplink::curve_secret_key_path(dir, name).string() + "\"\ncurve_server_key = \"" +
         uplink::curve_public_key_path(dir, "collector").string() + "\"\n";
}

TEST(CurveUplink, ListedUnlistedPlaintextAndImpostor_OnlyTheListedGatewayStored) {
  TempDir dir;
  const auto keys = dir.path() / "keys";
  fs::create_directories(keys);
  const auto collector_keys = uplink::write_curve_keypair(keys, "collector");
  const auto listed = uplink::write_curve_keypair(keys, "gw-listed");
  const auto unlisted = uplink::write_curve_keypair(keys, "gw-unlisted");
  std::ofstream(dir.path() / "gateways.allow") << "# gateways allowed\n" << listed.public_z85 << " gw-listed\n";
  const auto collector_config = dir.path() / "collector.toml";
  std::ofstream(collector_config) << "[collector]\ncurve_secret_key = \""
                                  << uplink::curve_secret_key_path(keys, "collector").string()
                                  << "\"\ncurve_allow_list = \"" << (dir.path() / "gateways.allow").string()
                                  << "\"\n[log]\nstats_interval_s = 1\nlevel = \"debug\"\n";

  MosquittoBroker broker(dir.path());
  const auto db = dir.path() / "windows.sqlite";
  const std::string uplink_url = "tcp://127.0.0.1:" + std::to_string(free_tcp_port());
  ChildProcess collector(
      {SENSORGATE_COLLECTOR_BIN, "--config", collector_config.string(), "--bind", uplink_url, "--db", db.string()},
      dir.path() / "collector.log");
  ASSERT_TRUE(wait_until([&] { return collector.log().find("CurveZMQ") != std::string::npos; }, 10s))
      << collector.log();

  struct Gateway {
    std::string id;
    std::string config;
  };
  // The impostor holds the listed key but claims another gateway's id.
  const std::vector<Gateway> gateways{{"gw-listed", curve_keys(keys, "gw-listed")},
                                      {"gw-unlisted", curve_keys(keys, "gw-unlisted")},
                                      {"gw-plain", ""},
                                      {"gw-impostor", curve_keys(keys, "gw-listed")}};
  std::vector<std::unique_ptr<ChildProcess>> processes;
  processes.reserve(gateways.size());
  for (const auto& g : gateways) {
    processes.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{SENSORGATE_GATEWAY_BIN, "--config",
                                 gateway_config(dir.path(), g.id, g.config).string(), "--mqtt", broker.url(),
                                 "--uplink", uplink_url, "--gateway-id", g.id, "--idle-timeout-ms", "500",
                                 "--log-level", "debug"},
        dir.path() / (g.id + ".log")));
  }
  for (const auto& p : processes) {
    ASSERT_TRUE(wait_until([&] { return p->log().find("subscribed to") != std::string::npos; }, 20s)) << p->log();
  }
  std::string sim_output;
  ASSERT_EQ(run_program({SENSORGATE_SIM_BIN, "--mqtt", broker.url(), "--devices", "1", "--duration", "4", "--speed",
                         "max", "--seed", "2"},
                        sim_output, 60s),
            0)
      << sim_output;
  EXPECT_TRUE(wait_until([&] { return read_window_rows(db).size() >= std::size_t{4} * 16; }, 20s)) << collector.log();
  std::this_thread::sleep_for(2s);  // time for anything the others might (wrongly) get through
  for (const auto& p : processes) p->signal(SIGTERM);
  for (const auto& p : processes) p->wait(20s);
  collector.signal(SIGTERM);
  EXPECT_EQ(collector.wait(10s), 0);

  std::set<std::string> gateway_ids;
  for (const auto& w : collector::open_store(db.string())->load_windows({})) gateway_ids.insert(w.gateway_id);
  EXPECT_EQ(gateway_ids, std::set<std::string>{"gw-listed"}) << collector.log();
  const auto log = collector.log();
  EXPECT_NE(log.find("refused"), std::string::npos) << "the unlisted key is logged: " << log;
  EXPECT_NE(log.find("claiming gateway id 'gw-impostor'"), std::string::npos) << log;

  // Secret keys never reach a log, even at debug level.
  EXPECT_EQ(log.find(collector_keys.secret_z85), std::string::npos) << "the collector logged its secret key";
  for (const auto& p : processes) {
    EXPECT_GT(p->log().size(), 0U);
    for (const auto* key : {&listed.secret_z85, &unlisted.secret_z85}) {
      EXPECT_EQ(p->log().find(*key), std::string::npos) << "a gateway logged a secret key";
    }
  }
}

TEST(CurveUplink, PlaintextOffThisMachine_ConfigErrorUnlessAskedFor) {
  TempDir dir;
  std::string output;
  EXPECT_EQ(run_program({SENSORGATE_GATEWAY_BIN, "--uplink", "tcp://192.0.2.1:5560", "--check-config"}, output, 10s),
            2);
  EXPECT_NE(output.find("uplink.plaintext"), std::string::npos) << output;
  std::ofstream(dir.path() / "plain.toml") << "[uplink]\nplaintext = true\n";
  EXPECT_EQ(run_program({SENSORGATE_GATEWAY_BIN, "--config", (dir.path() / "plain.toml").string(), "--uplink",
                         "tcp://192.0.2.1:5560", "--check-config"},
                        output, 10s),
            0)
      << output;
  EXPECT_EQ(run_program({SENSORGATE_COLLECTOR_BIN, "--bind", "tcp://0.0.0.0:5560", "--check-config"}, output, 10s), 2);
  EXPECT_NE(output.find("collector.plaintext"), std::string::npos) << output;
}

}  // namespace
}  // namespace sensorgate::testing
