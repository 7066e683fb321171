// sensorgate-soak: a compressed soak run with fault injection (docs/soak.md). It starts a
// mosquitto with persistence, a collector, a gateway (persistent MQTT session, disk spool on
// a size-limited tmpfs, ingest journal on the work dir's disk, an injected compute-backend
// failure) and K simulator processes playing H headsets faster than real time, then, on a
// schedule:
//   - kill -9 of the collector (restarted after --outage-s; the gateway's spool fills the
//     tmpfs meanwhile: a full disk),
//   - kill -9 of the gateway (restarted at once, same spool, journal and MQTT session),
//   - a broker restart (SIGTERM, 2 s down, started again on its database).
// At the end it stops everything cleanly and reads the truth from the collector's SQLite
// file: every (device, channel, window) the simulators produced must be stored exactly
// once. It samples the resident memory of every process every 10 s. It prints one JSON
// document and, with --report, writes the markdown report (docs/soak.md's table).
// Not a test: it runs for minutes to hours (scripts/soak.sh, outside CI).
#include <fmt/format.h>
#include <sys/mount.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sensorgate/common/cli.hpp"
#include "sensorgate/common/runtime.hpp"
#include "sensorgate/testing/http_client.hpp"
#include "sensorgate/testing/processes.hpp"
#include "sensorgate/testing/window_rows.hpp"

namespace {

using namespace std::chrono_literals;
using sensorgate::testing::ChildProcess;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr std::int64_t kSecondNs = 1'000'000'000;

struct Options {
  int headsets = 100;
  int sim_processes = 4;
  double speed = 4;          ///< signal seconds per wall second
  double duration_s = 1800;  ///< wall seconds of streaming
  double kill_collector_every_s = 120;
  double outage_s = 15;
  double kill_gateway_every_s = 300;
  double restart_broker_every_s = 420;
  int spool_tmpfs_mb = 4;             ///< 0: spool on the work dir's disk
  int gpu_fail_after_batches = 2000;  ///< fault.cuda_fail_after_batches; 0: none
  int lateness_ms = 0;                ///< windows.allowed_lateness_ms
  bool journal = true;                ///< ingest.journal_dir in the work dir
  fs::path bin_dir = "build";
  fs::path work_dir;
  fs::path report;
};

/// Resident memory of a process in bytes (VmRSS), 0 when it is gone.
std::uint64_t rss_bytes(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

/// The pid of the mosquitto whose command line names `config`.
pid_t find_broker(const fs::path& config) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmdline(entry.path() / "cmdline");
    const std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    if (args.find(config.string()) != std::string::npos) return std::stoi(name);
  }
  return -1;
}

/// The gateway's counters that restart from 0 with each of its processes: the report sums
/// them over the processes.
constexpr std::array kGatewayCounters{"late",
                                      "gpu_failures",
                                      "cpu_fallback_batches",
                                      "spool_write_failures",
                                      "spool_dropped_overflow",
                                      "journal_replayed",
                                      "journal_replay_rejected",
                                      "journal_dropped_overflow",
                                      "journal_write_failures"};

/// One value of a Prometheus text page ("name value" line), -1 when absent.
double metric(const std::string& page, const std::string& name) {
  const auto at = page.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(page.substr(at + name.size() + 2));
}

class Soak {
 public:
  explicit Soak(Options o) : o_(std::move(o)), dir_(o_.work_dir) {}

  nlohmann::json run();

 private:
  std::string bin(const std::string& name) const {
    for (const auto* sub : {"gateway", "uplink", "firmware_sim"}) {
      if (fs::exists(o_.bin_dir / sub / name)) return (o_.bin_dir / sub / name).string();
    }
    throw std::runtime_error(name + " not found under " + o_.bin_dir.string());
  }
  void start_collector();
  void start_gateway();
  void sample_memory(double t);
  void mount_spool();
  /// The gateway's statistics file as last written (every second), {} before the first.
  nlohmann::json gateway_stats() const;
  /// Adds the running gateway's counters (kGatewayCounters) to the totals, before a kill.
  void add_gateway_counters();
  /// Adds the running collector's duplicate count to the total, before a kill.
  void add_collector_duplicates();

  Options o_;
  fs::path dir_;
  fs::path spool_dir_;
  bool mounted_ = false;
  std::unique_ptr<sensorgate::testing::MosquittoBroker> broker_;
  std::unique_ptr<ChildProcess> collector_;
  std::unique_ptr<ChildProcess> gateway_;
  std::string uplink_;
  int collector_http_ = 0;
  int gateway_starts_ = 0;
  int collector_starts_ = 0;
  std::map<std::string, std::vector<std::pair<double, std::uint64_t>>> memory_;  // process -> (t, rss)
  std::map<std::string, std::uint64_t> gateway_totals_;  // kGatewayCounters of the killed gateways
  double collector_duplicates_ = 0;                      // of the killed collectors
};

nlohmann::json Soak::gateway_stats() const {
  try {
    return nlohmann::json::parse(sensorgate::testing::read_file(dir_ / "gateway-stats.json"));
  } catch (const std::exception&) {
    return nlohmann::json::object();
  }
}

void Soak::add_gateway_counters() {
  const auto stats = gateway_stats();
  for (const char* name : kGatewayCounters) gateway_totals_[name] += stats.value(name, std::uint64_t{0});
}

void Soak::add_collector_duplicates() {
  try {
    const auto page = sensorgate::testing::http_get(collector_http_, "/metrics").body;
    collector_duplicates_ += std::max(0.0, metric(page, "sensorgate_collector_rows_duplicate_total"));
  } catch (const std::exception&) {
    // Not answering (busy): its duplicates since the last scrape go uncounted.
  }
}

void Soak::mount_spool() {
  spool_dir_ = dir_ / "spool";
  fs::create_directories(spool_dir_);
  if (o_.spool_tmpfs_mb <= 0) return;
  const auto data = fmt::format("size={}m,mode=0700", o_.spool_tmpfs_mb);
  if (::mount("tmpfs", spool_dir_.c_str(), "tmpfs", 0, data.c_str()) != 0) {
    throw std::runtime_error("cannot mount a tmpfs on " + spool_dir_.string() +
                             " (needs root; --spool-tmpfs-mb 0 runs without a full disk)");
  }
  mounted_ = true;
}

void Soak::start_collector() {
  collector_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{bin("sensorgate-collector"), "--bind", uplink_, "--db", (dir_ / "soak.sqlite").string(),
                               "--http-port", std::to_string(collector_http_)},
      dir_ / fmt::format("collector-{}.log", collector_starts_++));
}

void Soak::start_gateway() {
  std::vector<std::string> args{bin("sensorgate-gateway"),
                                "--config",
                                (dir_ / "gateway.toml").string(),
                                "--mqtt",
                                broker_->url(),
                                "--uplink",
                                uplink_,
                                "--gateway-id",
                                "soak-gw",
                                "--spool-dir",
                                spool_dir_.string(),
                                "--stats-json",
                                (dir_ / "gateway-stats.json").string()};
  if (o_.journal) args.insert(args.end(), {"--journal-dir", (dir_ / "journal").string()});
  gateway_ = std::make_unique<ChildProcess>(args, dir_ / fmt::format("gateway-{}.log", gateway_starts_++));
  if (!sensorgate::testing::wait_until(
          [&] { return gateway_->log().find("subscribed to") != std::string::npos || !gateway_->running(); }, 30s) ||
      !gateway_->running()) {
    throw std::runtime_error("gateway did not start:\n" + gateway_->log());
  }
}

void Soak::sample_memory(double t) {
  const auto add = [&](const std::string& name, pid_t pid) {
    if (const auto rss = pid > 0 ? rss_bytes(pid) : 0; rss > 0) memory_[name].emplace_back(t, rss);
  };
  add(fmt::format("gateway#{}", gateway_starts_), gateway_->pid());
  add(fmt::format("collector#{}", collector_starts_), collector_ ? collector_->pid() : -1);
  add("mosquitto", find_broker(dir_ / "mosquitto.conf"));
}

nlohmann::json Soak::run() {
  fs::create_directories(dir_);
  mount_spool();
  fs::create_directories(dir_ / "mosquitto-db");
  broker_ = std::make_unique<sensorgate::testing::MosquittoBroker>(
      dir_, sensorgate::testing::MosquittoOptions().persistence(dir_ / "mosquitto-db"));
  uplink_ = "tcp://127.0.0.1:" + std::to_string(sensorgate::testing::free_tcp_port());
  collector_http_ = sensorgate::testing::free_tcp_port();
  // Spool bound above the tmpfs: a long collector outage fills the disk, not the bound.
  // Allowed lateness trades two losses (docs/soak.md): with 0 a window closes with its
  // last frame, so a gateway kill -9 loses only the frames of the window being filled, but
  // frames a simulator resends after a broker restart arrive late (dropped, counted); with
  // N ms those are kept, and a kill loses the windows held open for them too.
  std::ofstream(dir_ / "gateway.toml") << fmt::format(
      "[log]\nstats_interval_s = 1\n[windows]\nallowed_lateness_ms = {}\n[ingest]\nring_capacity_chunks = 1024\n"
      "[uplink]\nresend_after_ms = 2000\nspool_max_mb = 64\nspool_segment_mb = 1\n"
      "[mqtt]\nclient_id = \"soak-gateway\"\nclean_session = false\n[fault]\ncuda_fail_after_batches = {}\n",
      o_.lateness_ms, o_.gpu_fail_after_batches);
  start_collector();
  start_gateway();

  const int k = std::max(1, std::min(o_.sim_processes, o_.headsets));
  const double signal_s = std::floor(o_.duration_s * o_.speed);
  const std::int64_t start_ns = (sensorgate::wall_clock_ns() / kSecondNs + 2) * kSecondNs;
  std::vector<std::unique_ptr<ChildProcess>> sims;
  int devices_total = 0;
  for (int i = 0; i < k; ++i) {
    const int devices = o_.headsets / k + (i < o_.headsets % k ? 1 : 0);
    devices_total += devices;
    const auto config = dir_ / fmt::format("sim-{}.toml", i);
    std::ofstream(config) << fmt::format(
        "[mqtt]\nclient_id = \"soak-sim-{}\"\nclean_session = false\n[sim]\ndevice_prefix = \"s{}\"\n", i, i);
    sims.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{bin("sensorgate-sim"), "--config", config.string(), "--mqtt", broker_->url(),
                                 "--devices", std::to_string(devices), "--duration", fmt::format("{}", signal_s),
                                 "--speed", fmt::format("{}", o_.speed), "--seed", std::to_string(i + 1),
                                 "--start-time-ns", std::to_string(start_ns)},
        dir_ / fmt::format("sim-{}.log", i)));
  }

  std::map<std::string, int> faults;
  const auto t0 = Clock::now();
  auto next_collector_kill = o_.kill_collector_every_s;
  auto next_gateway_kill = o_.kill_gateway_every_s;
  auto next_broker_restart = o_.restart_broker_every_s;
  double next_sample = 0;
  double collector_back_at = -1;
  double collector_up_since = 0;
  for (;;) {
    std::this_thread::sleep_for(250ms);
    const double t = std::chrono::duration<double>(Clock::now() - t0).count();
    bool sims_running = false;
    for (auto& s : sims) sims_running = s->running() || sims_running;
    if (!sims_running) break;
    if (t >= next_sample) {
      sample_memory(t);
      next_sample += 10;
    }
    if (collector_back_at >= 0 && t >= collector_back_at) {
      start_collector();
      collector_back_at = -1;
      collector_up_since = t;
    }
    if (o_.kill_collector_every_s > 0 && t >= next_collector_kill && collector_back_at < 0) {
      add_collector_duplicates();
      collector_->signal(SIGKILL);
      collector_->wait(10s);
      ++faults["collector kill -9"];
      collector_back_at = t + o_.outage_s;
      next_collector_kill += o_.kill_collector_every_s;
    }
    // Without the journal, not during a collector outage or while the spool drains after
    // one: with the spool's disk full, unacknowledged messages live in the gateway's memory
    // only, and a crash then loses them (docs/soak.md). The journal covers that case.
    if (!o_.journal && o_.kill_gateway_every_s > 0 && t >= next_gateway_kill &&
        (collector_back_at >= 0 || t - collector_up_since < 30)) {
      next_gateway_kill = t + 5;
    }
    if (o_.kill_gateway_every_s > 0 && t >= next_gateway_kill) {
      add_gateway_counters();
      gateway_->signal(SIGKILL);
      gateway_->wait(10s);
      ++faults["gateway kill -9"];
      start_gateway();
      next_gateway_kill += o_.kill_gateway_every_s;
    }
    if (o_.restart_broker_every_s > 0 && t >= next_broker_restart) {
      broker_->stop();
      std::this_thread::sleep_for(2s);
      broker_->start();
      ++faults["broker restart"];
      next_broker_restart += o_.restart_broker_every_s;
    }
  }
  if (collector_back_at >= 0) start_collector();
  const double stream_wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  int sim_failures = 0;
  for (auto& s : sims) sim_failures += s->wait(10s) != 0 ? 1 : 0;

  // Drain: wait until the gateway has taken every queued frame (frames_in still for 10 s)
  // and the collector has acknowledged everything (spool and in flight empty); then a
  // clean stop flushes the open windows and waits for the last acks.
  std::uint64_t last_frames = 0;
  auto still_since = Clock::now();
  const auto drain_deadline = Clock::now() + 600s;
  while (Clock::now() < drain_deadline) {
    std::this_thread::sleep_for(1s);
    const auto s = gateway_stats();
    const auto frames = s.value("frames_in", std::uint64_t{0});
    if (frames != last_frames) {
      last_frames = frames;
      still_since = Clock::now();
    }
    if (Clock::now() - still_since > 10s && s.value("uplink_in_flight", std::uint64_t{1}) == 0 &&
        s.value("spool_pending", std::uint64_t{1}) == 0) {
      break;
    }
  }
  sample_memory(std::chrono::duration<double>(Clock::now() - t0).count());
  gateway_->signal(SIGTERM);
  const int gateway_exit = gateway_->wait(120s);
  const auto collector_metrics = sensorgate::testing::http_get(collector_http_, "/metrics").body;
  collector_->signal(SIGTERM);
  collector_->wait(30s);
  broker_->stop();
  const auto stats = nlohmann::json::parse(sensorgate::testing::read_file(dir_ / "gateway-stats.json"));
  // Each counter over every gateway process (the killed ones as last written, up to a
  // second before the kill) and the final one.
  std::map<std::string, std::uint64_t> totals = gateway_totals_;
  for (const char* name : kGatewayCounters) totals[name] += stats.value(name, std::uint64_t{0});

  // The truth: every (device, channel, window) once.
  const auto rows = sensorgate::testing::read_window_rows(dir_ / "soak.sqlite");
  const auto windows_per_device = static_cast<std::int64_t>(signal_s);  // 1 s windows
  std::int64_t expected = 0;
  std::int64_t found = 0;
  std::int64_t partial = 0;
  std::set<std::string> devices;
  for (const auto& [key, row] : rows) {
    devices.insert(std::get<0>(key));
    if (row.count < 256) ++partial;
  }
  expected = static_cast<std::int64_t>(devices_total) * 16 * windows_per_device;
  for (const auto& [key, row] : rows) {
    const auto index = (std::get<2>(key) - start_ns) / kSecondNs;
    if (index >= 0 && index < windows_per_device) ++found;
  }
  // Memory: from the first sample after a minute of warm-up (rings and buffers filled) to
  // the last; the whole series is in the JSON.
  nlohmann::json memory = nlohmann::json::object();
  for (const auto& [name, series] : memory_) {
    auto warm = std::find_if(series.begin(), series.end(), [&](const auto& p) { return p.first >= 60; });
    if (warm == series.end()) warm = series.begin();
    nlohmann::json all = nlohmann::json::array();
    for (const auto& [t, bytes] : series) all.push_back({t, bytes});
    memory[name] = {{"first_s", warm->first},
                    {"first_bytes", warm->second},
                    {"series", all},
                    {"last_s", series.back().first},
                    {"last_bytes", series.back().second},
                    {"max_bytes", std::max_element(series.begin(), series.end(),
                                                   [](const auto& a, const auto& b) { return a.second < b.second; })
                                      ->second},
                    {"samples", series.size()}};
  }
  if (mounted_) ::umount(spool_dir_.c_str());
  return {
      {"headsets", devices_total},
      {"sim_processes", k},
      {"speed", o_.speed},
      {"signal_seconds_per_device", signal_s},
      {"stream_wall_seconds", stream_wall_s},
      {"windows_expected", expected},
      {"windows_stored", rows.size()},
      {"windows_stored_in_range", found},
      {"windows_partial", partial},
      {"devices_seen", devices.size()},
      {"duplicates_absorbed_by_collector",
       collector_duplicates_ + std::max(0.0, metric(collector_metrics, "sensorgate_collector_rows_duplicate_total"))},
      {"faults", faults},
      {"allowed_lateness_ms", o_.lateness_ms},
      {"journal", o_.journal},
      {"late_frames", totals["late"]},
      {"gpu_failures_injected", totals["gpu_failures"]},
      {"cpu_fallback_batches", totals["cpu_fallback_batches"]},
      {"spool_write_failures", totals["spool_write_failures"]},
      {"spool_dropped_overflow", totals["spool_dropped_overflow"]},
      {"journal_replayed_batches", totals["journal_replayed"]},
      {"journal_replay_rejected", totals["journal_replay_rejected"]},
      {"journal_dropped_overflow", totals["journal_dropped_overflow"]},
      {"journal_write_failures", totals["journal_write_failures"]},
      {"gateway_final_exit", gateway_exit},
      {"sim_failures", sim_failures},
      {"memory", memory},
      {"work_dir", dir_.string()}};
}

std::string markdown(const nlohmann::json& r) {
  std::string out = fmt::format(
      "| what | value |\n| --- | --- |\n| headsets x channels | {} x 16 at 256 Hz, {}x real time, {} simulator "
      "processes, allowed lateness {} ms |\n| streaming wall time | {:.0f} s ({} s of signal per headset) |\n| windows "
      "expected | {} |\n"
      "| windows stored (distinct keys) | {} |\n| of them partial (< 256 frames) | {} |\n| duplicates absorbed by "
      "the collector | {} |\n",
      r["headsets"].get<int>(), r["speed"].get<double>(), r["sim_processes"].get<int>(),
      r["allowed_lateness_ms"].get<int>(), r["stream_wall_seconds"].get<double>(),
      r["signal_seconds_per_device"].get<double>(), r["windows_expected"].get<std::int64_t>(),
      r["windows_stored"].get<std::size_t>(), r["windows_partial"].get<std::int64_t>(),
      r["duplicates_absorbed_by_collector"].get<double>());
  for (const auto& [kind, n] : r["faults"].items()) out += fmt::format("| faults: {} | {} |\n", kind, n.get<int>());
  out += fmt::format(
      "| faults: injected compute-backend failure (switched to the CPU) | {} (then {} CPU fallback batches) |\n"
      "| spool writes refused by the full disk | {} |\n| late frames (dropped, counted) | {} |\n"
      "| ingest journal | {}: {} batches replayed after the kills, {} not replayable, {} dropped by its size bound, "
      "{} write failures |\n",
      r["gpu_failures_injected"].get<std::uint64_t>(), r["cpu_fallback_batches"].get<std::uint64_t>(),
      r["spool_write_failures"].get<std::uint64_t>(), r["late_frames"].get<std::uint64_t>(),
      r["journal"].get<bool>() ? "on" : "off", r["journal_replayed_batches"].get<std::uint64_t>(),
      r["journal_replay_rejected"].get<std::uint64_t>(), r["journal_dropped_overflow"].get<std::uint64_t>(),
      r["journal_write_failures"].get<std::uint64_t>());
  for (const auto& [name, m] : r["memory"].items()) {
    out += fmt::format("| RSS {} | {:.1f} MiB at {:.0f} s -> {:.1f} MiB at {:.0f} s (max {:.1f} MiB) |\n", name,
                       m["first_bytes"].get<double>() / 1048576, m["first_s"].get<double>(),
                       m["last_bytes"].get<double>() / 1048576, m["last_s"].get<double>(),
                       m["max_bytes"].get<double>() / 1048576);
  }
  return out;
}

int run(int argc, char** argv) {
  Options o;
  CLI::App app{
      "sensorgate-soak: compressed soak run with kill -9, broker restarts, a full spool disk and an "
      "injected backend failure; checks every window is stored exactly once",
      "sensorgate-soak"};
  app.add_option("--headsets", o.headsets, "simulated headsets (16 ch x 256 Hz)")->check(CLI::PositiveNumber);
  app.add_option("--sim-processes", o.sim_processes, "simulator processes sharing them")->check(CLI::PositiveNumber);
  app.add_option("--speed", o.speed, "signal seconds per wall second")->check(CLI::PositiveNumber);
  app.add_option("--duration-s", o.duration_s, "wall seconds of streaming")->check(CLI::PositiveNumber);
  app.add_option("--kill-collector-every-s", o.kill_collector_every_s, "0: never");
  app.add_option("--outage-s", o.outage_s, "how long the collector stays down");
  app.add_option("--kill-gateway-every-s", o.kill_gateway_every_s, "0: never");
  app.add_option("--restart-broker-every-s", o.restart_broker_every_s, "0: never");
  app.add_option("--spool-tmpfs-mb", o.spool_tmpfs_mb, "size of the spool's tmpfs (root); 0: no tmpfs");
  app.add_option("--gpu-fail-after-batches", o.gpu_fail_after_batches,
                 "inject a compute-backend failure after this many batches (fault.cuda_fail_after_batches); 0: none");
  app.add_option("--lateness-ms", o.lateness_ms, "the gateway's windows.allowed_lateness_ms (see docs/soak.md)");
  app.add_flag("!--no-journal", o.journal,
               "run the gateway without its ingest journal (a kill -9 then loses open windows; docs/soak.md)");
  app.add_option("--bin-dir", o.bin_dir, "build directory with the executables");
  app.add_option("--work-dir", o.work_dir, "where logs, spool and database go")->required();
  app.add_option("--report", o.report, "also write the markdown table here");
  if (int rc = sensorgate::parse_cli(app, argc, argv); rc >= 0) return rc;
  const auto result = Soak(o).run();
  std::cout << result.dump(2) << "\n";
  if (!o.report.empty()) std::ofstream(o.report) << markdown(result);
  const bool ok = result["windows_stored_in_range"] == result["windows_expected"] &&
                  result["windows_stored"] == result["windows_expected"];
  std::cerr << (ok ? "soak: every expected window stored exactly once\n" : "soak: windows missing or extra\n");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return sensorgate::guarded_main(argc, argv, run);
}
