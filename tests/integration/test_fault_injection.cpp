// Faults on the way from the headsets to the gateway (2 % dropped, 1 % duplicated, 2 %
// reordered within the allowed lateness, the devices' clocks 200 ppm fast): the gateway
// must count every injected fault exactly, store every window once, and compute each
// window's statistics from exactly the frames that survived.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "sensorgate/sim/simulator.hpp"
#include "sensorgate/sim/synthetic_eeg.hpp"
#include "sensorgate/testing/processes.hpp"
#include "sensorgate/testing/reference_stats.hpp"
#include "sensorgate/testing/window_rows.hpp"

namespace sensorgate {
namespace {

using namespace std::chrono_literals;

constexpr int kDevices = 4;
constexpr int kSeconds = 30;
constexpr int kChannels = 16;
constexpr int kRate = 256;
constexpr std::int64_t kStartNs = 1'700'000'000'000'000'000;
constexpr std::int64_t kSecondNs = 1'000'000'000;
constexpr std::uint64_t kSeed = 77;

struct Truth {
  std::uint64_t dropped = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::set<std::uint64_t> dropped_frames;
};

std::map<std::string, Truth> read_fault_log(const std::filesystem::path& path) {
  std::map<std::string, Truth> truth;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto fault = nlohmann::json::parse(line);
    auto& t = truth[fault["device"].get<std::string>()];
    const auto first = fault["first_seq"].get<std::uint64_t>();
    const auto frames = fault["frames"].get<std::uint64_t>();
    const auto kind = fault["fault"].get<std::string>();
    if (kind == "drop" || kind == "burst_loss") {
      t.dropped += frames;
      for (std::uint64_t s = first; s < first + frames; ++s) t.dropped_frames.insert(s);
    } else if (kind == "duplicate") {
      t.duplicated += frames;
    } else if (kind == "reorder") {
      t.reordered += frames;
    }
  }
  return truth;
}

using Row = testing::WindowRow;
using Key = testing::WindowKey;

TEST(FaultInjection, DropDuplicateReorderSkew_EveryFaultCountedAndWindowsMatchSurvivingFrames) {
  testing::TempDir dir;
  testing::MosquittoBroker broker(dir.path());
  const auto db = dir.path() / "windows.sqlite";
  const auto stats = dir.path() / "stats.json";
  const auto faults = dir.path() / "faults.jsonl";
  const std::string uplink = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());

  testing::ChildProcess collector({SENSORGATE_COLLECTOR_BIN, "--bind", uplink, "--db", db.string()},
                                  dir.path() / "collector.log");
  testing::ChildProcess gateway(
      {SENSORGATE_GATEWAY_BIN, "--mqtt", broker.url(), "--uplink", uplink, "--gateway-id", "gw-faults", "--lateness-ms",
       "500", "--idle-timeout-ms", "500", "--stats-json", stats.string()},
      dir.path() / "gateway.log");
  ASSERT_TRUE(testing::wait_until([&] { return gateway.log().find("subscribed to") != std::string::npos; }, 15s))
      << gateway.log();

  std::string sim_output;
  ASSERT_EQ(testing::run_program({SENSORGATE_SIM_BIN,
                                  "--mqtt",
                                  broker.url(),
                                  "--devices",
                                  std::to_string(kDevices),
                                  "--duration",
                                  std::to_string(kSeconds),
                                  "--speed",
                                  "max",
                                  "--seed",
                                  std::to_string(kSeed),
                                  "--start-time-ns",
                                  std::to_string(kStartNs),
                                  "--drop-rate",
                                  "0.02",
                                  "--duplicate-rate",
                                  "0.01",
                                  "--reorder-rate",
                                  "0.02",
                                  "--reorder-depth",
                                  "1",
                                  "--clock-skew-ppm",
                                  "200",
                                  "--fault-log",
                                  faults.string()},
                                 sim_output, 60s),
            0)
      << sim_output;

  constexpr std::size_t kExpectedRows = std::size_t{kDevices} * kChannels * kSeconds;
  EXPECT_TRUE(testing::wait_until([&] { return testing::read_window_rows(db).size() >= kExpectedRows; }, 30s))
      << gateway.log();
  gateway.signal(SIGTERM);
  ASSERT_EQ(gateway.wait(15s), 0) << gateway.log();
  collector.signal(SIGTERM);
  ASSERT_EQ(collector.wait(10s), 0) << collector.log();

  // Counters: exactly the injected faults, per device.
  const auto truth = read_fault_log(faults);
  const auto report = nlohmann::json::parse(testing::read_file(stats));
  ASSERT_EQ(report["devices"].size(), static_cast<std::size_t>(kDevices));
  std::uint64_t total_faults = 0;
  for (const auto& device : report["devices"]) {
    const auto id = device["id"].get<std::string>();
    const Truth t = truth.contains(id) ? truth.at(id) : Truth{};
    total_faults += t.dropped + t.duplicated + t.reordered;
    EXPECT_EQ(device["duplicates"].get<std::uint64_t>(), t.duplicated) << id;
    EXPECT_EQ(device["missing"].get<std::uint64_t>(), t.dropped) << id;
    EXPECT_EQ(device["reordered"].get<std::uint64_t>(), t.reordered) << id;
    EXPECT_EQ(device["late"].get<std::uint64_t>(), 0U) << id << ": reordering stayed within the lateness";
    EXPECT_EQ(device["frames_accepted"].get<std::uint64_t>(), std::uint64_t{kSeconds} * kRate - t.dropped) << id;
    EXPECT_NEAR(device["drift_ppm"].get<double>(), 200.0, 5.0) << id;
  }
  EXPECT_GT(total_faults, 0U) << "the run must actually inject faults";

  // Storage: every window once, statistics of the surviving frames.
  const auto rows = testing::read_window_rows(db);
  ASSERT_EQ(rows.size(), kExpectedRows);
  std::vector<float> second(static_cast<std::size_t>(kRate) * kChannels);
  std::vector<float> survivors;
  for (int d = 0; d < kDevices; ++d) {
    const std::string id = sim::simulated_device_id("sim", static_cast<std::uint32_t>(d));
    const auto& dropped = truth.contains(id) ? truth.at(id).dropped_frames : std::set<std::uint64_t>{};
    sim::SyntheticEeg eeg(kSeed, static_cast<std::uint32_t>(d), sim::SignalShape{});
    for (int s = 0; s < kSeconds; ++s) {
      eeg.generate(second);
      survivors.clear();
      for (int f = 0; f < kRate; ++f) {
        if (dropped.contains(static_cast<std::uint64_t>(s * kRate + f))) continue;
        const auto begin = second.begin() + static_cast<std::ptrdiff_t>(f) * kChannels;
        survivors.insert(survivors.end(), begin, begin + kChannels);
      }
      for (int c = 0; c < kChannels; ++c) {
        const auto it = rows.find({id, c, kStartNs + s * kSecondNs});
        ASSERT_NE(it, rows.end()) << id << " second " << s;
        const auto ref = testing::reference_stats(survivors, kChannels, static_cast<std::size_t>(c));
        const Row& row = it->second;
        EXPECT_EQ(row.count, static_cast<std::int64_t>(ref.count)) << id << " second " << s;
        EXPECT_TRUE(testing::close(row.min, ref.min, 1e-6));
        EXPECT_TRUE(testing::close(row.max, ref.max, 1e-6));
        EXPECT_TRUE(testing::close(row.mean, ref.mean, 1e-5, 1e-9)) << row.mean << " vs " << ref.mean;
        EXPECT_TRUE(testing::close(row.variance, ref.variance, 1e-5)) << row.variance << " vs " << ref.variance;
      }
    }
  }
}

}  // namespace
}  // namespace sensorgate
