// The dashboard in a real browser: a gateway and a collector serve HTTP while the simulator
// streams two devices in real time; tests/browser/dashboard.mjs (playwright-core driving
// headless Chromium) checks the live view, the stages page, the fleet page and the sample
// compare report, and saves a screenshot of each into <build>/test-artifacts/dashboard/,
// which is kept after the test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "sensorgate/testing/processes.hpp"

namespace sensorgate::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

std::uint64_t windows_closed(const fs::path& stats_json) {
  try {
    return nlohmann::json::parse(read_file(stats_json)).value("windows", std::uint64_t{0});
  } catch (const std::exception&) {
    return 0;
  }
}

TEST(Dashboard, GatewayAndCollectorPagesInChromium_AllBrowserChecksPassAndScreenshotsSaved) {
  ASSERT_TRUE(fs::exists("/usr/bin/chromium"))
      << "no /usr/bin/chromium: run scripts/install-deps.sh, which installs Debian's chromium";
  ASSERT_TRUE(fs::exists(SENSORGATE_NODE_BIN)) << "node was not found when the build was configured";
  const fs::path web_dir = SENSORGATE_WEB_DIR;
  const fs::path web_root = SENSORGATE_WEB_ROOT;
  ASSERT_TRUE(fs::exists(web_dir / "node_modules" / "playwright-core") && fs::exists(web_root / "index.html"))
      << "no dashboard build: build the sensorgate_web target (it runs npm ci in " << web_dir << " and bundles into "
      << web_root << ")";
  const fs::path artifacts = SENSORGATE_DASHBOARD_ARTIFACTS;
  fs::remove_all(artifacts);
  fs::create_directories(artifacts);

  TempDir dir;
  MosquittoBroker broker(dir.path());
  const std::string uplink = "tcp://127.0.0.1:" + std::to_string(free_tcp_port());
  const int collector_port = free_tcp_port();
  ChildProcess collector({SENSORGATE_COLLECTOR_BIN, "--bind", uplink, "--db", (dir.path() / "windows.sqlite").string(),
                          "--http-port", std::to_string(collector_port)},
                         dir.path() / "collector.log");
  // A short warm-up, so that the scheduled seizure is scored and shows as an event.
  const auto config = dir.path() / "gateway.toml";
  std::ofstream(config) << "[log]\nstats_interval_s = 1\n[anomaly]\nwarmup_windows = 5\n";
  const auto stats_json = dir.path() / "stats.json";
  const int gateway_port = free_tcp_port();
  ChildProcess gateway({SENSORGATE_GATEWAY_BIN, "--config", config.string(), "--mqtt", broker.url(), "--uplink", uplink,
                        "--gateway-id", "gw-dashboard", "--idle-timeout-ms", "500", "--stats-json", stats_json.string(),
                        "--http-port", std::to_string(gateway_port)},
                       dir.path() / "gateway.log");
  ASSERT_TRUE(wait_until([&] { return gateway.log().find("subscribed to") != std::string::npos; }, 20s))
      << gateway.log();
  // Streams for longer than the browser checks can take on a loaded machine (values must
  // still change when Chromium gets to the page); killed when the test ends.
  ChildProcess sim({SENSORGATE_SIM_BIN, "--mqtt", broker.url(), "--devices", "2", "--duration", "600", "--speed", "1",
                    "--seed", "5", "--anomaly-schedule", "0:seizure:12:4"},
                   dir.path() / "sim.log");
  // Both devices' first windows closed, both servers listening.
  ASSERT_TRUE(wait_until([&] { return windows_closed(stats_json) >= 2; }, 20s)) << gateway.log() << sim.log();
  ASSERT_TRUE(wait_until([&] { return accepts_connections(gateway_port) && accepts_connections(collector_port); }, 10s))
      << gateway.log() << collector.log();

  std::string output;
  const int status =
      run_program({SENSORGATE_NODE_BIN, std::string(SENSORGATE_SOURCE_DIR) + "/tests/browser/dashboard.mjs",
                   "--gateway", "http://127.0.0.1:" + std::to_string(gateway_port), "--collector",
                   "http://127.0.0.1:" + std::to_string(collector_port), "--screenshots", artifacts.string(),
                   "--report", (web_root / "report-sample.html").string()},
                  output, 120s);
  std::cout << output;
  EXPECT_EQ(status, 0) << "the browser checks failed (output above)\n--- gateway log\n"
                       << gateway.log() << "--- collector log\n"
                       << collector.log();
  for (const char* name : {"dashboard.png", "stages.png", "fleet.png", "report.png"}) {
    const auto png = artifacts / name;
    EXPECT_TRUE(fs::exists(png) && fs::file_size(png) > 0) << png;
  }
}

}  // namespace
}  // namespace sensorgate::testing
