// The gateway's and the collector's HTTP APIs against real processes: mosquitto, a
// collector and a gateway with --http-port, a simulator streaming in real time. /metrics of
// both must pass `promtool check metrics`; the JSON documents must carry the live stream.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "sensorgate/testing/http_client.hpp"
#include "sensorgate/testing/processes.hpp"

namespace sensorgate {
namespace {

using namespace std::chrono_literals;
using testing::http_get;

/// Runs promtool on `text`; returns its output, or "" when it found nothing to complain about.
std::string promtool_problems(const std::string& text, const std::filesystem::path& dir, const std::string& name) {
  const auto file = dir / (name + ".metrics");
  std::ofstream(file) << text;
  std::string output;
  const int rc =
      testing::run_program({"/bin/sh", "-c", "promtool check metrics < '" + file.string() + "' 2>&1"}, output, 30s);
  return rc == 0 ? std::string() : "rc " + std::to_string(rc) + ": " + output;
}

class ObservabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists("/usr/bin/promtool"))
        << "promtool is missing: run scripts/install-deps.sh (Debian package prometheus)";
    broker_ = std::make_unique<testing::MosquittoBroker>(dir_.path());
    const std::string uplink = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());
    collector_port_ = testing::free_tcp_port();
    gateway_port_ = testing::free_tcp_port();
    collector_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{SENSORGATE_COLLECTOR_BIN, "--bind", uplink, "--db",
                                 (dir_.path() / "c.sqlite").string(), "--http-port", std::to_string(collector_port_)},
        dir_.path() / "collector.log");
    const auto config = dir_.path() / "gateway.toml";
    std::ofstream(config) << "[http]\ntoken = \"s3cret-token\"\n[anomaly]\nenabled = true\n";
    gateway_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{SENSORGATE_GATEWAY_BIN, "--config", config.string(), "--mqtt", broker_->url(),
                                 "--uplink", uplink, "--gateway-id", "gw-obs", "--http-port",
                                 std::to_string(gateway_port_)},
        dir_.path() / "gateway.log");
    ASSERT_TRUE(testing::wait_until([&] { return gateway_->log().find("subscribed to") != std::string::npos; }, 15s))
        << gateway_->log();
    sim_ = std::make_unique<testing::ChildProcess>(
        std::vector<std::string>{SENSORGATE_SIM_BIN, "--mqtt", broker_->url(), "--devices", "2", "--duration", "8",
                                 "--speed", "1"},
        dir_.path() / "sim.log");
  }

  /// GET on the gateway, with its token.
  [[nodiscard]] testing::HttpReply gateway_get(const std::string& target) const {
    return http_get(gateway_port_, target, "s3cret-token");
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::MosquittoBroker> broker_;
  std::unique_ptr<testing::ChildProcess> collector_;
  std::unique_ptr<testing::ChildProcess> gateway_;
  std::unique_ptr<testing::ChildProcess> sim_;
  int collector_port_ = 0;
  int gateway_port_ = 0;
};

TEST_F(ObservabilityTest, Metrics_LiveStream_PassPromtoolOnGatewayAndCollector) {
  ASSERT_TRUE(testing::wait_until(
      [&] { return gateway_get("/metrics").body.find("sensorgate_gateway_windows_total 4") != std::string::npos; },
      20s))
      << gateway_->log();
  const auto gateway = gateway_get("/metrics");
  EXPECT_EQ(gateway.status, 200U);
  EXPECT_NE(gateway.content_type.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_EQ(promtool_problems(gateway.body, dir_.path(), "gateway"), "");
  for (const auto* name : {"sensorgate_gateway_frames_in_total", "sensorgate_gateway_uplink_acked_messages_total",
                           R"(sensorgate_gateway_stage_run_seconds_bucket{stage="window_stats",le="+Inf"})",
                           R"(sensorgate_gateway_stage_queue_wait_seconds_count{stage="ring_handoff"})",
                           R"(sensorgate_gateway_device_ring_capacity_chunks{device="sim-0000"})",
                           "sensorgate_gateway_resident_memory_bytes"}) {
    EXPECT_NE(gateway.body.find(name), std::string::npos) << name;
  }
  const auto collector = http_get(collector_port_, "/metrics");
  EXPECT_EQ(collector.status, 200U);
  EXPECT_EQ(promtool_problems(collector.body, dir_.path(), "collector"), "");
  EXPECT_NE(collector.body.find(R"(sensorgate_collector_gateway_messages_total{gateway="gw-obs"})"), std::string::npos);
  EXPECT_NE(collector.body.find(R"(sensorgate_collector_stage_run_seconds_count{stage="store"})"), std::string::npos);

  // Every metric config/grafana-dashboard.json queries exists under that name.
  const auto dashboard =
      testing::read_file(std::filesystem::path(SENSORGATE_SOURCE_DIR) / "config/grafana-dashboard.json");
  const std::regex metric_name("sensorgate_[a-z_]+");
  std::size_t checked = 0;
  for (auto it = std::sregex_iterator(dashboard.begin(), dashboard.end(), metric_name); it != std::sregex_iterator();
       ++it) {
    const std::string name = it->str() + (it->str().ends_with("_seconds") ? "_bucket" : "");
    EXPECT_TRUE(gateway.body.find(name) != std::string::npos || collector.body.find(name) != std::string::npos)
        << name << " is in the Grafana dashboard but in neither /metrics";
    ++checked;
  }
  EXPECT_GT(checked, 20U);
}

TEST_F(ObservabilityTest, Api_LiveStream_DevicesWindowsStagesAndFleet) {
  ASSERT_TRUE(testing::wait_until([&] { return gateway_get("/api/v1/devices/sim-0001/window").status == 200; }, 20s))
      << gateway_->log();
  const auto devices = nlohmann::json::parse(gateway_get("/api/v1/devices").body);
  ASSERT_EQ(devices.size(), 2U);
  EXPECT_EQ(devices[0]["ring_capacity"], 256);

  const auto window = nlohmann::json::parse(gateway_get("/api/v1/devices/sim-0001/window").body);
  EXPECT_EQ(window["device_id"], "sim-0001");
  ASSERT_EQ(window["channels"].size(), 16U);
  EXPECT_EQ(window["channels"][0]["count"], 256);
  EXPECT_EQ(window["band_powers"].size(), 16U);
  EXPECT_EQ(window["band_names"].size(), 5U);
  EXPECT_EQ(window["window_end_ns"].get<std::int64_t>() - window["window_start_ns"].get<std::int64_t>(), 1'000'000'000);
  EXPECT_EQ(gateway_get("/api/v1/devices/nope/window").status, 404U);

  const auto scores = nlohmann::json::parse(gateway_get("/api/v1/devices/sim-0001/scores").body);
  EXPECT_EQ(scores["threshold"], 3.0);
  EXPECT_GE(scores["points"].size(), 1U);

  // Values change over time: the frame counter grows while the simulator streams.
  const auto frames_in = [&] {
    return nlohmann::json::parse(gateway_get("/api/v1/summary").body)["frames_in"].get<std::uint64_t>();
  };
  const auto before = frames_in();
  EXPECT_TRUE(testing::wait_until([&] { return frames_in() > before; }, 5s));

  const auto stages = nlohmann::json::parse(gateway_get("/api/v1/stages").body);
  std::set<std::string> names;
  for (const auto& s : stages["stages"]) names.insert(s["name"].get<std::string>());
  for (const auto* name : {"ingest_decode", "ring_handoff", "window_stats", "feature_score", "uplink"}) {
    EXPECT_TRUE(names.contains(name)) << name;
  }
  for (const auto& s : stages["stages"]) {
    if (s["name"] == "window_stats") {
      EXPECT_GT(s["batches"].get<std::uint64_t>(), 0U);
      EXPECT_LE(s["run_seconds"]["p50"].get<double>(), s["run_seconds"]["p99"].get<double>());
      EXPECT_GT(s["io_bytes"].get<std::uint64_t>(), 0U);
    }
  }
  const auto& environment = stages["environment"];
  EXPECT_GT(environment["cpu_cores"].get<int>(), 0);
  EXPECT_EQ(environment["backend"], "cpu");
  EXPECT_EQ(environment["config"]["gateway_id"], "gw-obs");
  EXPECT_EQ(gateway_get("/api/v1/stages").body.find("s3cret-token"), std::string::npos) << "the token leaked";

  ASSERT_TRUE(testing::wait_until([&] { return http_get(collector_port_, "/api/v1/gateways").body != "[]"; }, 10s));
  const auto fleet = nlohmann::json::parse(http_get(collector_port_, "/api/v1/gateways").body);
  EXPECT_EQ(fleet[0]["gateway_id"], "gw-obs");
  EXPECT_GT(fleet[0]["messages"].get<std::uint64_t>(), 0U);
  EXPECT_EQ(nlohmann::json::parse(http_get(collector_port_, "/healthz").body)["status"], "ok");
}

TEST_F(ObservabilityTest, Token_MissingOrWrong_Unauthorized) {
  EXPECT_EQ(http_get(gateway_port_, "/api/v1/summary").status, 401U);
  EXPECT_EQ(http_get(gateway_port_, "/metrics", "wrong").status, 401U);
  EXPECT_EQ(http_get(gateway_port_, "/api/v1/summary?token=s3cret-token").status, 200U);
  EXPECT_EQ(http_get(gateway_port_, "/healthz").status, 200U);
  EXPECT_EQ(gateway_->log().find("s3cret-token"), std::string::npos) << "the token was logged";
}

TEST(ObservabilityConfig, NonLoopbackBindWithoutToken_RefusedWithExitCode2) {
  testing::TempDir dir;
  const auto config = dir.path() / "gateway.toml";
  std::ofstream(config) << "[http]\nport = 8080\nbind = \"0.0.0.0\"\n";
  std::string output;
  EXPECT_EQ(testing::run_program({SENSORGATE_GATEWAY_BIN, "--config", config.string(), "--check-config"}, output, 30s),
            2);
  EXPECT_NE(output.find("http.bind"), std::string::npos) << output;
}

}  // namespace
}  // namespace sensorgate
