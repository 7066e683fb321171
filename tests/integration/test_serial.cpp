// Serial ingest end to end on a real pty pair: socat links DIR/a (the simulator writes)
// to DIR/b (the gateway reads with Boost.Asio), the gateway uplinks to a real collector,
// and the SQLite rows and the gateway's --stats-json counters are checked against what
// the simulator sent: reference statistics, injected garbage runs, dropped batches.
#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "sensorgate/common/openbci_packet.hpp"
#include "sensorgate/sim/recording.hpp"
#include "sensorgate/sim/simulator.hpp"
#include "sensorgate/sim/synthetic_eeg.hpp"
#include "sensorgate/testing/processes.hpp"
#include "sensorgate/testing/reference_stats.hpp"
#include "sensorgate/testing/window_rows.hpp"

namespace sensorgate {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kStartNs = 1'700'000'000'000'000'000;
constexpr std::int64_t kSecondNs = 1'000'000'000;

/// socat joining two ptys, DIR/a and DIR/b, raw and without echo; stopped on destruction.
class PtyPair {
 public:
  explicit PtyPair(const std::filesystem::path& dir)
      : a_(dir / "a"),
        b_(dir / "b"),
        socat_(
            {"/usr/bin/socat", "-d", "-d", "pty,raw,echo=0,link=" + a_.string(), "pty,raw,echo=0,link=" + b_.string()},
            dir / "socat.log") {
    ready_ = testing::wait_until([&] { return std::filesystem::exists(a_) && std::filesystem::exists(b_); }, 10s);
  }
  ~PtyPair() {
    socat_.signal(SIGTERM);
    (void)socat_.wait(5s);
  }
  PtyPair(const PtyPair&) = delete;
  PtyPair& operator=(const PtyPair&) = delete;

  [[nodiscard]] bool ready() const { return ready_; }
  [[nodiscard]] std::string log() const { return socat_.log(); }
  [[nodiscard]] const std::filesystem::path& a() const { return a_; }
  [[nodiscard]] const std::filesystem::path& b() const { return b_; }

 private:
  std::filesystem::path a_;
  std::filesystem::path b_;
  testing::ChildProcess socat_;
  bool ready_ = false;
};

using Row = testing::WindowRow;
using Key = testing::WindowKey;

/// The first number captured by `pattern` in `text`, or -1.
std::int64_t find_number(const std::string& text, const std::string& pattern) {
  std::smatch match;
  if (!std::regex_search(text, match, std::regex(pattern))) return -1;
  return std::stoll(match[1]);
}

/// The collector, and a gateway reading DIR/b with `extra` flags; stop() ends both and
/// returns the gateway's final --stats-json.
class SerialGateway {
 public:
  SerialGateway(const testing::TempDir& dir, const PtyPair& pty, const std::vector<std::string>& extra)
      : db_(dir.path() / "windows.sqlite"),
        stats_(dir.path() / "stats.json"),
        uplink_("tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port())),
        collector_({SENSORGATE_COLLECTOR_BIN, "--bind", uplink_, "--db", db_.string()}, dir.path() / "collector.log"),
        gateway_(gateway_argv(pty, extra), dir.path() / "gateway.log") {}

  bool wait_ready() {
    return testing::wait_until([&] { return gateway_.log().find("serial: reading") != std::string::npos; }, 15s);
  }
  bool wait_rows(std::size_t n) {
    return testing::wait_until([&] { return testing::read_window_rows(db_).size() >= n; }, 60s);
  }
  nlohmann::json stop() {
    gateway_.signal(SIGTERM);
    EXPECT_EQ(gateway_.wait(15s), 0) << gateway_.log();
    collector_.signal(SIGTERM);
    EXPECT_EQ(collector_.wait(10s), 0) << collector_.log();
    try {
      return nlohmann::json::parse(testing::read_file(stats_));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "stats json: " << e.what();
      return {};
    }
  }
  [[nodiscard]] std::map<Key, Row> rows() const { return testing::read_window_rows(db_); }
  [[nodiscard]] std::string log() const { return gateway_.log(); }

 private:
  [[nodiscard]] std::vector<std::string> gateway_argv(const PtyPair& pty, const std::vector<std::string>& extra) const {
    std::vector<std::string> argv{SENSORGATE_GATEWAY_BIN, "--serial",  pty.b().string(),    "--uplink", uplink_,
                                  "--gateway-id",         "gw-serial", "--idle-timeout-ms", "500",      "--stats-json",
                                  stats_.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  std::filesystem::path db_;
  std::filesystem::path stats_;
  std::string uplink_;
  testing::ChildProcess collector_;
  testing::ChildProcess gateway_;
};

TEST(SerialIngest, FramedSimThroughPty_EveryWindowWithReferenceStatsAndGarbageCountedAsResyncs) {
  constexpr int kDevices = 2;
  constexpr int kSeconds = 6;
  constexpr int kChannels = 16;
  constexpr int kRate = 256;
  constexpr std::uint64_t kSeed = 77;
  testing::TempDir dir;
  PtyPair pty(dir.path());
  ASSERT_TRUE(pty.ready()) << pty.log();
  SerialGateway gateway(dir, pty, {"--serial-format", "framed", "--baud", "115200"});
  ASSERT_TRUE(gateway.wait_ready()) << gateway.log();

  std::string sim_output;
  ASSERT_EQ(testing::run_program(
                {SENSORGATE_SIM_BIN, "--serial", pty.a().string(), "--serial-format", "framed", "--devices",
                 std::to_string(kDevices), "--duration", std::to_string(kSeconds), "--speed", "max", "--seed",
                 std::to_string(kSeed), "--start-time-ns", std::to_string(kStartNs), "--serial-garbage-rate", "0.2"},
                sim_output, 60s),
            0)
      << sim_output;
  const auto garbage_runs = find_number(sim_output, R"(serial garbage: (\d+) runs)");
  const auto batches = find_number(sim_output, R"(published (\d+) batches)");
  ASSERT_GT(garbage_runs, 0) << sim_output;
  ASSERT_EQ(batches, kDevices * kSeconds * kRate / 32) << sim_output;

  constexpr std::size_t kExpectedRows = std::size_t{kDevices} * kChannels * kSeconds;
  EXPECT_TRUE(gateway.wait_rows(kExpectedRows)) << gateway.log();
  const auto stats = gateway.stop();
  const auto& serial = stats["serial"];
  EXPECT_EQ(serial["format"], "framed");
  EXPECT_EQ(serial["resyncs"].get<std::int64_t>(), garbage_runs) << "one resync per garbage run";
  EXPECT_EQ(serial["frames"].get<std::int64_t>(), batches) << "no good frame lost";
  EXPECT_EQ(serial["bad_payloads"].get<std::int64_t>(), 0);
  EXPECT_EQ(stats["missing"].get<std::int64_t>(), 0);
  EXPECT_EQ(stats["frames_in"].get<std::int64_t>(), std::int64_t{kDevices} * kSeconds * kRate);

  const auto rows = gateway.rows();
  ASSERT_EQ(rows.size(), kExpectedRows);
  for (int d = 0; d < kDevices; ++d) {
    sim::SyntheticEeg eeg(kSeed, static_cast<std::uint32_t>(d), sim::SignalShape{});
    std::vector<float> second(static_cast<std::size_t>(kRate) * kChannels);
    const std::string device = sim::simulated_device_id("sim", static_cast<std::uint32_t>(d));
    for (int s = 0; s < kSeconds; ++s) {
      eeg.generate(second);
      for (int c = 0; c < kChannels; ++c) {
        const auto it = rows.find(Key{device, c, kStartNs + s * kSecondNs});
        ASSERT_NE(it, rows.end()) << device << " channel " << c << " second " << s;
        const auto ref = testing::reference_stats(second, kChannels, static_cast<std::size_t>(c));
        EXPECT_EQ(it->second.count, kRate);
        EXPECT_TRUE(testing::close(it->second.min, ref.min, 1e-6));
        EXPECT_TRUE(testing::close(it->second.max, ref.max, 1e-6));
        EXPECT_TRUE(testing::close(it->second.mean, ref.mean, 1e-5, 1e-9));
        EXPECT_TRUE(testing::close(it->second.variance, ref.variance, 1e-5));
      }
    }
  }
}

TEST(SerialIngest, OpenBciCytonRecordingThroughPty_ValuesEqualTheRecordingWithinHalfACount) {
  const std::filesystem::path file =
      SENSORGATE_SHARED_DATA_DIR "/openbci-gui-sample/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "SKIPPED: " << file << " not found (../shared/data missing)";
  const auto recording = sim::read_recording(file);
  ASSERT_EQ(recording.channels(), 8U);
  ASSERT_EQ(recording.sample_rate_hz, 250.0);
  const std::size_t frames = recording.frames();
  const auto windows = static_cast<int>((frames + 249) / 250);  // the last one partial

  testing::TempDir dir;
  PtyPair pty(dir.path());
  ASSERT_TRUE(pty.ready()) << pty.log();
  // The board has no clock: the gateway numbers time from serial.start_time_ns.
  const auto config = dir.path() / "gateway.toml";
  std::ofstream(config) << "[serial]\nstart_time_ns = " << kStartNs << "\n";
  SerialGateway gateway(dir, pty,
                        {"--config", config.string(), "--serial-format", "openbci-cyton", "--serial-device-id",
                         "cyton-1", "--baud", "115200"});
  ASSERT_TRUE(gateway.wait_ready()) << gateway.log();

  std::string sim_output;
  ASSERT_EQ(testing::run_program({SENSORGATE_SIM_BIN, "--serial", pty.a().string(), "--serial-format", "openbci-cyton",
                                  "--devices", "1", "--replay", file.string(), "--speed", "max"},
                                 sim_output, 60s),
            0)
      << sim_output;
  const auto expected_rows = static_cast<std::size_t>(windows) * 8;
  EXPECT_TRUE(gateway.wait_rows(expected_rows)) << gateway.log();
  const auto stats = gateway.stop();
  EXPECT_EQ(stats["serial"]["packets"].get<std::size_t>(), frames);
  EXPECT_EQ(stats["serial"]["lost_packets"].get<std::int64_t>(), 0);
  EXPECT_EQ(stats["serial"]["resyncs"].get<std::int64_t>(), 0);

  // What the board would have sent: each value rounded to a whole count.
  const double scale = openbci_uv_per_count(kOpenBciDefaultGain);
  std::vector<float> quantised(recording.samples.size());
  for (std::size_t i = 0; i < quantised.size(); ++i) {
    quantised[i] = static_cast<float>(std::round(recording.samples[i] / scale) * scale);
  }
  const auto rows = gateway.rows();
  ASSERT_EQ(rows.size(), expected_rows);
  for (int w = 0; w < windows; ++w) {
    const std::size_t first = static_cast<std::size_t>(w) * 250;
    const std::size_t n = std::min<std::size_t>(250, frames - first);
    const std::span<const float> raw(recording.samples.data() + first * 8, n * 8);
    const std::span<const float> sent(quantised.data() + first * 8, n * 8);
    for (int c = 0; c < 8; ++c) {
      const auto it = rows.find(Key{"cyton-1", c, kStartNs + w * kSecondNs});
      ASSERT_NE(it, rows.end()) << "channel " << c << " window " << w;
      const Row& row = it->second;
      const auto ref_raw = testing::reference_stats(raw, 8, static_cast<std::size_t>(c));
      const auto ref_sent = testing::reference_stats(sent, 8, static_cast<std::size_t>(c));
      ASSERT_EQ(row.count, static_cast<std::int64_t>(n));
      // Against the recording's own columns: within half a count (plus float spacing).
      const double tolerance = scale / 2 + std::abs(ref_raw.max) * 1.2e-7 + std::abs(ref_raw.min) * 1.2e-7;
      EXPECT_NEAR(row.min, ref_raw.min, tolerance) << "channel " << c << " window " << w;
      EXPECT_NEAR(row.max, ref_raw.max, tolerance) << "channel " << c << " window " << w;
      EXPECT_NEAR(row.mean, ref_raw.mean, tolerance) << "channel " << c << " window " << w;
      // Against the same values quantised as the simulator does: equal up to float rounding.
      EXPECT_TRUE(testing::close(row.min, ref_sent.min, 1e-7)) << row.min << " vs " << ref_sent.min;
      EXPECT_TRUE(testing::close(row.max, ref_sent.max, 1e-7)) << row.max << " vs " << ref_sent.max;
      EXPECT_TRUE(testing::close(row.variance, ref_sent.variance, 1e-4, 1e-6));
    }
  }
}

TEST(SerialIngest, OpenBciDaisyWithDroppedBatches_LostPacketsAndMissingFramesCountedExactly) {
  testing::TempDir dir;
  PtyPair pty(dir.path());
  ASSERT_TRUE(pty.ready()) << pty.log();
  SerialGateway gateway(dir, pty, {"--serial-format", "openbci-daisy", "--serial-device-id", "daisy-1"});
  ASSERT_TRUE(gateway.wait_ready()) << gateway.log();

  constexpr int kSeconds = 20;
  constexpr int kRate = 125;
  std::string sim_output;
  ASSERT_EQ(
      testing::run_program({SENSORGATE_SIM_BIN, "--serial", pty.a().string(), "--serial-format", "openbci-daisy",
                            "--devices", "1", "--channel-count", "16", "--duration", std::to_string(kSeconds),
                            "--speed", "max", "--seed", "5", "--drop-rate", "0.08", "--serial-garbage-rate", "0.1"},
                           sim_output, 60s),
      0)
      << sim_output;
  const auto dropped = find_number(sim_output, R"(dropped (\d+),)");
  const auto garbage_runs = find_number(sim_output, R"(serial garbage: (\d+) runs)");
  ASSERT_GT(dropped, 0) << sim_output;
  ASSERT_GE(garbage_runs, 0) << sim_output;
  const std::int64_t total = std::int64_t{kSeconds} * kRate;

  EXPECT_TRUE(testing::wait_until(
      [&] {
        std::int64_t count = 0;
        for (const auto& [key, row] : gateway.rows()) count += std::get<1>(key) == 0 ? row.count : 0;
        return count >= total - dropped;
      },
      60s))
      << gateway.log();
  const auto stats = gateway.stop();
  const auto& serial = stats["serial"];
  EXPECT_EQ(serial["lost_packets"].get<std::int64_t>(), 2 * dropped) << "two packets per Daisy frame";
  EXPECT_EQ(serial["frames"].get<std::int64_t>(), total - dropped);
  EXPECT_EQ(serial["unpaired_daisy"].get<std::int64_t>(), 0);
  EXPECT_EQ(serial["resyncs"].get<std::int64_t>(), garbage_runs);
  EXPECT_EQ(stats["missing"].get<std::int64_t>(), dropped) << "the sequence tracker sees the same gaps";
  EXPECT_EQ(stats["frames_in"].get<std::int64_t>(), total - dropped);
  ASSERT_EQ(stats["devices"].size(), 1U);
  EXPECT_EQ(stats["devices"][0]["id"], "daisy-1");
  EXPECT_EQ(stats["devices"][0]["channels"], 16);
}

}  // namespace
}  // namespace sensorgate
