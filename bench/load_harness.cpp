// sensorgate-load-harness: the end-to-end throughput harness. For each requested number of
// headsets it starts a real mosquitto on a free loopback port, a collector, a gateway and
// K simulator processes (real time, speed 1), lets them run, and then reads the truth
// from the collector's SQLite file:
// - samples expected (headsets x channels x rate x duration) vs samples windowed (the
//   sum of `count` over stored rows): zero loss means they are equal;
// - whether the simulators kept real time (their wall time vs the signal's duration):
//   a run that fell behind did not sustain the rate, even without loss;
// - frame -> window-result latency: stored_ns - window_end_ns per (device, window), the
//   time from a window's last sample being measured (device clocks follow wall time) to
//   its summary committed at the collector. Each device's final window is left out: the
//   idle timeout, not the data, closes it;
// - CPU % (utime + stime over the run) and peak RSS of every process, from /proc.
// It prints one JSON document with a result per level. Not a test: run it by hand or
// from scripts/bench.sh (docs/benchmarks.md).
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sensorgate/common/cli.hpp"
#include "sensorgate/testing/processes.hpp"

namespace {

using namespace std::chrono_literals;
using sensorgate::testing::ChildProcess;
using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<int> headsets{250, 500, 1000};
  int sim_processes = 2;
  double duration_s = 20;
  int channels = 16;
  double rate_hz = 256;
  int batch_frames = 32;
  int workers = 1;
  int lateness_ms = 250;
  std::filesystem::path bin_dir = "build";
  std::filesystem::path work_dir;  // empty: a temporary directory per level
};

/// CPU time (user + system, in clock ticks) and memory of one process, from /proc.
struct ProcSample {
  double cpu_ticks = 0;
  double rss_kib = 0;
  double peak_rss_kib = 0;
};

ProcSample sample_proc(pid_t pid) {
  ProcSample s;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may contain spaces.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream fields(text.substr(close + 2));
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), std::istream_iterator<std::string>()};
  // utime and stime are fields 14 and 15 of /proc/pid/stat: indices 11 and 12 here.
  if (f.size() > 12) s.cpu_ticks = std::stod(f[11]) + std::stod(f[12]);
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::stod(line.substr(6));
    if (line.rfind("VmHWM:", 0) == 0) s.peak_rss_kib = std::stod(line.substr(6));
  }
  return s;
}

/// Tracks one process's CPU over an interval and its peak RSS.
struct ProcMeter {
  std::string name;
  pid_t pid = -1;
  ProcSample first;
  ProcSample last;

  void start() { first = last = sample_proc(pid); }
  void poll() {
    const auto s = sample_proc(pid);
    if (s.peak_rss_kib > 0) last = s;  // an exited process (a zombie has no memory) keeps its last reading
  }
  [[nodiscard]] nlohmann::json report(double seconds) const {
    const auto ticks_per_s = static_cast<double>(sysconf(_SC_CLK_TCK));
    return {{"cpu_percent", 100.0 * (last.cpu_ticks - first.cpu_ticks) / ticks_per_s / seconds},
            {"peak_rss_mib", last.peak_rss_kib / 1024.0}};
  }
};

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

struct DbTotals {
  std::int64_t samples = 0;  // sum of count over all rows
  std::int64_t rows = 0;
  std::vector<double> latency_ms;
};

DbTotals read_db(const std::filesystem::path& db_path) {
  DbTotals t;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error(fmt::format("{}: cannot open", db_path.string()));
  }
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*), coalesce(sum(count), 0) FROM windows", -1, &stmt, nullptr);
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    t.rows = sqlite3_column_int64(stmt, 0);
    t.samples = sqlite3_column_int64(stmt, 1);
  }
  sqlite3_finalize(stmt);
  // One latency per (device, window): channel 0's row; each device's last window excluded.
  sqlite3_prepare_v2(db,
                     "SELECT w.stored_ns - w.window_end_ns FROM windows w "
                     "JOIN (SELECT device_id, max(window_end_ns) AS last FROM windows WHERE channel = 0 "
                     "GROUP BY device_id) d ON w.device_id = d.device_id "
                     "WHERE w.channel = 0 AND w.window_end_ns < d.last",
                     -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW)
    t.latency_ms.push_back(static_cast<double>(sqlite3_column_int64(stmt, 0)) / 1e6);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return t;
}

std::int64_t count_rows(const std::filesystem::path& db_path) {
  sqlite3* db = nullptr;
  std::int64_t n = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM windows", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      n = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return n;
}

nlohmann::json run_level(const Options& o, int headsets, const std::filesystem::path& dir) {
  const auto bin = [&](const char* name) {
    for (const char* sub : {"gateway", "firmware_sim", "uplink"}) {
      const auto p = o.bin_dir / sub / name;
      if (std::filesystem::exists(p)) return p.string();
    }
    throw std::runtime_error(fmt::format("{} not found under {}", name, o.bin_dir.string()));
  };
  sensorgate::testing::MosquittoBroker broker(dir);
  const std::string uplink = fmt::format("tcp://127.0.0.1:{}", sensorgate::testing::free_tcp_port());
  const auto db = dir / "harness.sqlite";
  ChildProcess collector({bin("sensorgate-collector"), "--bind", uplink, "--db", db.string()}, dir / "collector.log");
  std::ofstream(dir / "gateway.toml") << fmt::format(
      "[ingest]\nmax_devices = {}\n[processing]\nworkers = {}\n[log]\nstats_interval_s = 5\n", headsets + 16,
      o.workers);
  ChildProcess gateway({bin("sensorgate-gateway"), "--config", (dir / "gateway.toml").string(), "--mqtt", broker.url(),
                        "--uplink", uplink, "--gateway-id", "harness", "--idle-timeout-ms", "1000", "--lateness-ms",
                        std::to_string(o.lateness_ms), "--stats-json", (dir / "gateway-stats.json").string()},
                       dir / "gateway.log");
  if (!sensorgate::testing::wait_until([&] { return gateway.log().find("subscribed to") != std::string::npos; }, 20s)) {
    throw std::runtime_error("gateway did not subscribe:\n" + gateway.log());
  }

  std::vector<std::unique_ptr<ChildProcess>> sims;
  std::vector<ProcMeter> meters{
      {"mosquitto", -1, {}, {}}, {"gateway", gateway.pid(), {}, {}}, {"collector", collector.pid(), {}, {}}};
  // mosquitto's pid: the broker's process is not exposed; find it by its config path.
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmdline(entry.path() / "cmdline");
    std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    if (args.find((dir / "mosquitto.conf").string()) != std::string::npos) meters[0].pid = std::stoi(name);
  }
  const int k = std::max(1, std::min(o.sim_processes, headsets));
  // One start time for every simulator, 2 s ahead (whole second): they wait for it, so all
  // headsets start together and device time follows wall time.
  constexpr std::int64_t kSecondNs = 1'000'000'000;
  const std::int64_t start_ns = (wall_ns() / kSecondNs + 2) * kSecondNs;
  const auto sim_start = Clock::now() + std::chrono::nanoseconds(start_ns - wall_ns());
  for (int i = 0; i < k; ++i) {
    const int devices = headsets / k + (i < headsets % k ? 1 : 0);
    const auto config = dir / fmt::format("sim-{}.toml", i);
    std::ofstream(config) << fmt::format("[mqtt]\nclient_id = \"harness-sim-{}\"\n[sim]\ndevice_prefix = \"h{}\"\n", i,
                                         i);
    sims.push_back(std::make_unique<ChildProcess>(std::vector<std::string>{bin("sensorgate-sim"),
                                                                           "--config",
                                                                           config.string(),
                                                                           "--mqtt",
                                                                           broker.url(),
                                                                           "--devices",
                                                                           std::to_string(devices),
                                                                           "--duration",
                                                                           fmt::format("{}", o.duration_s),
                                                                           "--speed",
                                                                           "1",
                                                                           "--seed",
                                                                           std::to_string(i + 1),
                                                                           "--start-time-ns",
                                                                           std::to_string(start_ns),
                                                                           "--channel-count",
                                                                           std::to_string(o.channels),
                                                                           "--rate",
                                                                           fmt::format("{}", o.rate_hz),
                                                                           "--batch-frames",
                                                                           std::to_string(o.batch_frames)},
                                                  dir / fmt::format("sim-{}.log", i)));
    meters.push_back({fmt::format("sim-{}", i), sims.back()->pid(), {}, {}});
  }
  std::this_thread::sleep_until(sim_start);
  for (auto& m : meters) m.start();
  const auto meter_start = Clock::now();
  std::vector<double> sim_wall_s(sims.size(), 0);
  int sim_failures = 0;
  for (bool any_running = true; any_running;) {
    std::this_thread::sleep_for(500ms);
    for (auto& m : meters) m.poll();
    any_running = false;
    for (std::size_t i = 0; i < sims.size(); ++i) {
      if (sim_wall_s[i] > 0) continue;
      if (sims[i]->running()) {
        any_running = true;
      } else {
        sim_wall_s[i] = std::chrono::duration<double>(Clock::now() - sim_start).count();
        if (sims[i]->wait(1s) != 0) ++sim_failures;
      }
    }
    if (Clock::now() - sim_start > std::chrono::duration<double>(o.duration_s * 3 + 60)) {
      for (auto& s : sims) s->signal(SIGTERM);
    }
  }
  const double run_s = std::chrono::duration<double>(Clock::now() - meter_start).count();

  // Every device's last window closes by the idle timeout; wait until rows stop coming.
  const double windows_per_device = std::floor(o.duration_s);
  const auto expected_rows =
      static_cast<std::int64_t>(headsets) * o.channels * static_cast<std::int64_t>(windows_per_device);
  sensorgate::testing::wait_until([&] { return count_rows(db) >= expected_rows; }, 30s);
  gateway.signal(SIGTERM);
  const int gateway_status = gateway.wait(30s);
  collector.signal(SIGTERM);
  const int collector_status = collector.wait(15s);

  const DbTotals totals = read_db(db);
  const auto expected_samples =
      static_cast<std::int64_t>(std::llround(o.duration_s * o.rate_hz)) * headsets * o.channels;
  const double slowest_sim_s = *std::max_element(sim_wall_s.begin(), sim_wall_s.end());
  // Real time kept: the simulators finished within 5 % (+ 0.5 s to exit) of the signal's
  // duration, so the broker and the gateway took every batch when it was due.
  const bool kept_real_time = slowest_sim_s <= o.duration_s * 1.05 + 0.5;
  nlohmann::json processes;
  for (const auto& m : meters) {
    if (m.pid > 0) processes[m.name] = m.report(run_s);
  }
  nlohmann::json gateway_stats;
  try {
    gateway_stats = nlohmann::json::parse(sensorgate::testing::read_file(dir / "gateway-stats.json"));
    gateway_stats.erase("devices");  // per device: too long for a summary
  } catch (const std::exception&) {
    gateway_stats = nullptr;
  }
  const std::int64_t lost = expected_samples - totals.samples;
  return {
      {"headsets", headsets},
      {"channels", o.channels},
      {"rate_hz", o.rate_hz},
      {"duration_s", o.duration_s},
      {"batch_frames", o.batch_frames},
      {"allowed_lateness_ms", o.lateness_ms},
      {"sim_processes", k},
      {"samples_expected", expected_samples},
      {"samples_windowed", totals.samples},
      {"samples_lost", lost},
      {"zero_loss", lost == 0 && sim_failures == 0},
      {"kept_real_time", kept_real_time},
      {"slowest_sim_wall_s", slowest_sim_s},
      // Over the signal's duration when real time was kept, else over the time it really took.
      {"sustained_samples_per_s",
       static_cast<double>(totals.samples) / (kept_real_time ? o.duration_s : slowest_sim_s)},
      {"window_rows", totals.rows},
      {"latency_ms",
       {{"windows", totals.latency_ms.size()},
        {"p50", percentile(totals.latency_ms, 50)},
        {"p99", percentile(totals.latency_ms, 99)},
        {"max", percentile(totals.latency_ms, 100)}}},
      {"processes", processes},
      {"exit_status", {{"gateway", gateway_status}, {"collector", collector_status}, {"sim_failures", sim_failures}}},
      {"gateway_counters", gateway_stats}};
}

int run(int argc, char** argv) {
  Options o;
  CLI::App app{"sensorgate-load-harness: N simulated headsets through mosquitto, gateway and collector; prints JSON"};
  app.add_option("--headsets", o.headsets, "headset counts to run, one level each, e.g. 250,500,1000")->delimiter(',');
  app.add_option("--sim-processes", o.sim_processes, "simulator processes sharing the headsets");
  app.add_option("--duration", o.duration_s, "seconds of signal per level");
  app.add_option("--channels", o.channels, "channels per headset");
  app.add_option("--rate", o.rate_hz, "sampling rate in Hz");
  app.add_option("--batch-frames", o.batch_frames, "frames per MQTT message");
  app.add_option("--workers", o.workers, "gateway processing threads");
  app.add_option("--lateness-ms", o.lateness_ms, "gateway allowed lateness (a floor under the latency)");
  app.add_option("--bin-dir", o.bin_dir, "build directory holding the executables")->check(CLI::ExistingDirectory);
  app.add_option("--keep", o.work_dir, "keep logs and databases under this directory");
  if (const int code = sensorgate::parse_cli(app, argc, argv); code >= 0) return code;

  nlohmann::json levels = nlohmann::json::array();
  for (const int headsets : o.headsets) {
    std::cerr << fmt::format("load-harness: {} headsets for {} s ...\n", headsets, o.duration_s);
    try {
      if (o.work_dir.empty()) {
        sensorgate::testing::TempDir dir;
        levels.push_back(run_level(o, headsets, dir.path()));
      } else {
        const auto dir = o.work_dir / fmt::format("{}-headsets", headsets);
        std::filesystem::create_directories(dir);
        levels.push_back(run_level(o, headsets, dir));
      }
    } catch (const std::exception& e) {
      levels.push_back({{"headsets", headsets}, {"error", e.what()}});
    }
    std::cerr << levels.back().dump() << "\n";
  }
  int best = 0;
  for (const auto& level : levels) {
    if (level.value("zero_loss", false) && level.value("kept_real_time", false)) {
      best = std::max(best, level["headsets"].get<int>());
    }
  }
  nlohmann::json out{{"machine", {{"cores", std::thread::hardware_concurrency()}}},
                     {"max_headsets_zero_loss_real_time", best},
                     {"levels", levels}};
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return sensorgate::guarded_main(argc, argv, run);
}
