// sensorgate-gateway: MQTT and serial ingest -> event-time windows -> ZeroMQ uplink.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sensorgate/common/cli.hpp"
#include "sensorgate/common/mqtt_cli_flags.hpp"
#include "sensorgate/common/mqtt_connection.hpp"
#include "sensorgate/common/runtime.hpp"
#include "sensorgate/common/stop_signal.hpp"
#include "sensorgate/compare/compare.hpp"
#include "sensorgate/evaluation/evaluation.hpp"
#include "sensorgate/gateway/gateway.hpp"
#include "sensorgate/gateway/gateway_http.hpp"

namespace {

/// Replaces `path` atomically (write a temporary file, rename), so readers never see half a file.
void write_stats(const std::string& path, const sensorgate::GatewaySnapshot& snapshot) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << sensorgate::to_json(snapshot) << "\n";
    if (!out) {
      spdlog::warn("gateway: cannot write statistics to {}", temporary);
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) spdlog::warn("gateway: cannot move statistics into {}: {}", path, ec.message());
}

/// One line of counters; `rate` is "<frames/s> frames/s" over the last interval, or "final".
void log_stats(const sensorgate::GatewaySnapshot& now, const std::string& rate) {
  spdlog::info(
      "gateway: {} devices, {}; frames in {} windowed {}; bad payloads {}, duplicates {}, "
      "reordered {}, missing {}, late {}, ring waits {}, dropped oldest {}, rejected batches {}; windows {}, "
      "uplink sent {} acked {} in flight {}",
      now.devices, rate, now.frames_in, now.frames_windowed, now.bad_payloads, now.duplicates, now.reordered,
      now.missing, now.late, now.ring_full_waits, now.frames_dropped_oldest, now.rejected_batches, now.windows,
      now.uplink_sent, now.uplink_acked, now.uplink_in_flight);
  spdlog::info(
      "gateway: anomaly scoring: windows scored {}, unscorable {}, events {}; GPU failures {}, CPU fallback "
      "batches {}",
      now.windows_scored, now.windows_unscorable, now.anomaly_events, now.gpu_failures, now.cpu_fallback_batches);
  if (now.spool_bytes > 0 || now.spool_recovered > 0 || now.spool_dropped_overflow > 0 ||
      now.spool_write_failures > 0) {
    spdlog::info("gateway: spool {} bytes, recovered {}, dropped (size bound) {}, corrupt {}, write failures {}",
                 now.spool_bytes, now.spool_recovered, now.spool_dropped_overflow, now.spool_corrupt,
                 now.spool_write_failures);
  }
  if (now.journal_bytes > 0 || now.journal_replayed > 0 || now.journal_write_failures > 0) {
    spdlog::info(
        "gateway: journal {} bytes, {} batches pending; replayed {}, not replayable {}, dropped (size bound) {}, "
        "corrupt {}, write failures {}",
        now.journal_bytes, now.journal_pending, now.journal_replayed, now.journal_replay_rejected,
        now.journal_dropped_overflow, now.journal_corrupt, now.journal_write_failures);
  }
  if (now.mqtt_connection_losses > 0) {
    spdlog::info("gateway: mqtt connects {}, connection losses {}, reconnects {}", now.mqtt_connects,
                 now.mqtt_connection_losses, now.mqtt_reconnects);
  }
  if (now.serial) {
    const auto& r = *now.serial;
    spdlog::info(
        "gateway: serial {} ({}): bytes {}, frames {}, packets {}, lost packets {}, resyncs {} ({} bytes skipped), "
        "crc errors {}, cobs errors {}, oversize {}, bad payloads {}, unpaired daisy {}, read errors {}, reopens {}",
        r.port, r.format, r.bytes_read, r.frames, r.packets, r.lost_packets, r.resyncs, r.bytes_discarded, r.crc_errors,
        r.cobs_errors, r.oversize, r.bad_payloads, r.unpaired_daisy, r.read_errors, r.reopens);
  }
}

/// The `evaluate` subcommand's own flags.
struct EvaluateFlags {
  CLI::App* command = nullptr;
  sensorgate::evaluation::EvaluateOptions options;
  std::optional<std::string> labels;
  std::optional<std::string> method;

  void add_to(CLI::App& app) {
    command = app.add_subcommand(
        "evaluate",
        "play recordings or synthetic EEG through the gateway's windows and anomaly scoring, and measure the "
        "detector against labels: per-window ROC-AUC, per-event recall, false alarms per hour, detection latency. "
        "Writes scores.csv, features.csv, events.csv and summary.json into --out");
    // Gateway flags (--config, --backend, --window-ms, ...) may follow "evaluate" too.
    command->fallthrough();
    command->add_option("--reference", options.references,
                        "recording (EDF, CSV, text) or synthetic:SECONDS that only trains the model, played first");
    command
        ->add_option("--input", options.inputs,
                     "recording or synthetic:SECONDS (with labelled anomalies) to score; several play back to back")
        ->required();
    command->add_option("--labels", labels,
                        "CSV device_id,type,start_ns,end_ns,channels of anomalous intervals, ns from the first input's "
                        "start (synthetic inputs bring their own)");
    command->add_option("--out", options.out_dir, "output directory (created)")->required();
    command->add_option("--channels", options.channels, "channels of the recordings, e.g. 0-7 or C3,Cz,C4");
    command->add_option("--file-rate", options.file_rate_hz, "sampling rate of recordings that state none, in Hz");
    command->add_option("--method", method, "kmeans|knn|lof (anomaly.method)");
    command->add_option("--seed", options.seed, "seed of synthetic inputs");
    command->add_option("--learn-online", options.learn_online,
                        "true: keep learning on the inputs as the gateway does; default: only without --reference");
    command
        ->add_option("--anomaly-rate-per-hour", options.anomaly_rate_per_hour,
                     "anomalies per hour injected into synthetic inputs")
        ->check(CLI::PositiveNumber);
  }

  [[nodiscard]] int run(const sensorgate::GatewayConfig& config) {
    options.config = config;
    if (labels) options.labels = *labels;
    try {
      const auto summary = sensorgate::evaluation::run_evaluation(options);
      fmt::print("{}\n", sensorgate::evaluation::to_json(summary));
    } catch (const std::exception& e) {
      spdlog::error("evaluate: {}", e.what());
      return 1;
    }
    return 0;
  }
};

/// The `compare` subcommand's own flags (docs/compare.md).
struct CompareFlags {
  CLI::App* command = nullptr;
  CLI::App* merge = nullptr;
  sensorgate::compare::CompareOptions options;
  std::vector<std::string> reports;
  std::string out_dir;
  std::string web_root;

  void add_to(CLI::App& app) {
    command = app.add_subcommand(
        "compare",
        "play the same input through the gateway's hot path (decode, ingest, workers, uplink ring) for every "
        "combination of backend, worker count and window length, and measure throughput, window latency, stages "
        "and drops; writes report.json and a self-contained report.html into --out. `compare merge` joins the "
        "reports of several machines");
    // Gateway flags (--config, --lateness-ms, ...) may follow "compare" too.
    command->fallthrough();
    command
        ->add_option("--input", options.input,
                     "recording (EDF, CSV, text) or synthetic:SECONDS that every device plays")
        ->capture_default_str();
    command->add_option("--devices", options.devices, "devices, each playing the input under its own id")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    command->add_option("--backends", options.backends, "compute backends, comma-separated: cpu|cuda|auto")
        ->delimiter(',')
        ->check(CLI::IsMember({"cpu", "cuda", "auto"}))
        ->capture_default_str();
    command->add_option("--workers", options.workers, "worker thread counts, comma-separated, e.g. 1,2,4")
        ->delimiter(',')
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    command
        ->add_option("--window-ms", options.window_ms,
                     "window lengths in ms, comma-separated (default: windows.length_ms)")
        ->delimiter(',')
        ->check(CLI::Range(1, 3'600'000));
    command->add_option("--repeat", options.repeat, "repetitions of each run, each with a fresh pipeline")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    command->add_option("--label", options.label, "this machine's name in the report (default: host name)");
    command->add_option("--channels", options.channels, "channels of a recording, e.g. 0-7 or C3,Cz,C4");
    command->add_option("--file-rate", options.file_rate_hz, "sampling rate of a recording that states none, in Hz");
    command->add_option("--web-root", web_root,
                        "directory holding report.js and report.css (default: <exe dir>/../share/sensorgate/web)");
    command->add_option("--out", out_dir, "output directory (created)")->required();
    merge = command->add_subcommand("merge", "join report.json files of several machines into one report");
    merge->fallthrough();  // --out and --web-root follow "merge"
    merge->add_option("reports", reports, "report.json files")->required();
  }

  [[nodiscard]] int run(const sensorgate::GatewayConfig& config) {
    namespace compare = sensorgate::compare;
    try {
      std::filesystem::create_directories(out_dir);
      nlohmann::json report;
      if (*merge) {
        report = compare::merge_reports({reports.begin(), reports.end()});
      } else {
        options.config = config;
        report = compare::run_compare(options);
      }
      fmt::print("{}", compare::format_table(report));
      compare::write_report(report, out_dir,
                            web_root.empty() ? sensorgate::default_web_root() : std::filesystem::path(web_root));
      spdlog::info("compare: wrote {0}/report.json and {0}/report.html", out_dir);
    } catch (const std::exception& e) {
      spdlog::error("compare: {}", e.what());
      return 1;
    }
    return 0;
  }
};

int run(int argc, char** argv) {
  sensorgate::StopSignal stop_signal;
  CLI::App app{
      "sensorgate-gateway: ingests sensor frames over MQTT, computes event-time window statistics and "
      "uplinks them to a collector over ZeroMQ",
      "sensorgate-gateway"};
  sensorgate::CommonFlags common;
  common.add_to(app);
  sensorgate::MqttCliFlags mqtt_flags;
  std::optional<std::string> mqtt_url;
  std::optional<std::string> uplink;
  std::optional<std::string> gateway_id;
  std::optional<std::int64_t> window_ms;
  std::optional<std::int64_t> slide_ms;
  std::optional<std::int64_t> lateness_ms;
  std::optional<std::string> late_policy;
  std::optional<std::int64_t> idle_ms;
  std::optional<std::int64_t> workers;
  std::optional<std::string> backend;
  std::optional<std::string> serial_port;
  std::optional<std::string> serial_format;
  std::optional<std::int64_t> baud;
  std::optional<std::string> serial_device_id;
  std::optional<std::string> spool_dir;
  std::optional<std::string> journal_dir;
  std::optional<std::int64_t> http_port;
  std::string stats_json;
  app.add_option("--mqtt", mqtt_url, "MQTT broker URL (mqtt.url), e.g. tcp://127.0.0.1:1883");
  app.add_option("--uplink", uplink, "collector ZeroMQ endpoint (uplink.endpoint), e.g. tcp://127.0.0.1:5560");
  app.add_option("--gateway-id", gateway_id, "this gateway's id (gateway.id; default: host name)");
  app.add_option("--window-ms", window_ms, "window length in ms (windows.length_ms)");
  app.add_option("--slide-ms", slide_ms, "window slide in ms, <= the length; sliding windows (windows.slide_ms)");
  app.add_option("--lateness-ms", lateness_ms, "allowed lateness in ms (windows.allowed_lateness_ms)");
  app.add_option("--late-policy", late_policy, "drop|update: late frames (windows.late_policy)");
  app.add_option("--idle-timeout-ms", idle_ms, "close a silent device's windows after ms (windows.idle_timeout_ms)");
  app.add_option("--workers", workers, "processing threads (processing.workers)");
  app.add_option("--backend", backend, "compute backend auto|cpu|cuda (processing.backend)");
  app.add_option("--serial", serial_port,
                 "read frames from this serial device, e.g. /dev/ttyUSB0 (serial.port); MQTT is then off unless "
                 "--mqtt is given");
  app.add_option("--serial-format", serial_format, "framed|openbci-cyton|openbci-daisy (serial.format)");
  app.add_option("--baud", baud, "serial baud rate, e.g. 115200 (serial.baud)");
  app.add_option("--serial-device-id", serial_device_id, "device id of an OpenBCI board's stream (serial.device_id)");
  app.add_option("--spool-dir", spool_dir,
                 "keep unacknowledged messages in this directory too, so they survive a crash (uplink.spool_dir)");
  app.add_option("--journal-dir", journal_dir,
                 "journal accepted frame batches in this directory, replayed after a crash until their windows are "
                 "safe (ingest.journal_dir)");
  app.add_option("--http-port", http_port,
                 "serve /metrics, the JSON API and the dashboard on this port, 0 = off (http.port; bound to "
                 "http.bind, 127.0.0.1 by default)");
  app.add_option("--stats-json", stats_json,
                 "write the counters (totals and per device) as JSON to this file at every statistics interval and "
                 "at exit");
  mqtt_flags.add_to(app);
  EvaluateFlags evaluate;
  evaluate.add_to(app);
  CompareFlags compare;
  compare.add_to(app);
  if (int rc = sensorgate::parse_cli(app, argc, argv); rc >= 0) return rc;
  if (int rc = common.print_config_if_asked(
          [](sensorgate::ConfigFile& file) { (void)sensorgate::GatewayConfig::from(file); });
      rc >= 0) {
    return rc;
  }

  sensorgate::GatewayConfig config;
  try {
    auto file = common.load_config();
    if (mqtt_url) {
      file.set_override("mqtt.url", *mqtt_url, "--mqtt");
      file.set_override("mqtt.enabled", true, "--mqtt");
    }
    mqtt_flags.apply_to(file);
    if (serial_port) file.set_override("serial.port", *serial_port, "--serial");
    if (serial_format) file.set_override("serial.format", *serial_format, "--serial-format");
    if (baud) file.set_override("serial.baud", *baud, "--baud");
    if (serial_device_id) file.set_override("serial.device_id", *serial_device_id, "--serial-device-id");
    if (uplink) file.set_override("uplink.endpoint", *uplink, "--uplink");
    if (spool_dir) file.set_override("uplink.spool_dir", *spool_dir, "--spool-dir");
    if (journal_dir) file.set_override("ingest.journal_dir", *journal_dir, "--journal-dir");
    if (http_port) file.set_override("http.port", *http_port, "--http-port");
    if (gateway_id) file.set_override("gateway.id", *gateway_id, "--gateway-id");
    if (window_ms) file.set_override("windows.length_ms", *window_ms, "--window-ms");
    if (slide_ms) file.set_override("windows.slide_ms", *slide_ms, "--slide-ms");
    if (lateness_ms) file.set_override("windows.allowed_lateness_ms", *lateness_ms, "--lateness-ms");
    if (late_policy) file.set_override("windows.late_policy", *late_policy, "--late-policy");
    if (idle_ms) file.set_override("windows.idle_timeout_ms", *idle_ms, "--idle-timeout-ms");
    if (workers) file.set_override("processing.workers", *workers, "--workers");
    if (backend) file.set_override("processing.backend", *backend, "--backend");
    if (evaluate.method) file.set_override("anomaly.method", *evaluate.method, "--method");
    config = sensorgate::GatewayConfig::from(file);
  } catch (const sensorgate::ConfigError& e) {
    return sensorgate::report_config_error(e);
  }
  if (common.check_config) {
    fmt::print("configuration valid ({})\n", common.config_path.empty() ? "defaults and flags" : common.config_path);
    return 0;
  }
  sensorgate::init_logging("gateway", common.log_level.value_or(config.log_level));
  if (*evaluate.command) return evaluate.run(config);
  if (*compare.command) return compare.run(config);

  try {
    sensorgate::Gateway gateway(config);
    gateway.start();
    std::optional<sensorgate::GatewayHttp> http;
    if (config.http.port != 0) {
      http.emplace(gateway, common.config_path.empty() ? std::string("defaults and flags") : common.config_path);
      http->start();
    }
    const auto interval = config.stats_interval;
    const std::optional<std::chrono::milliseconds> tick =
        interval.count() > 0 ? std::optional<std::chrono::milliseconds>(interval) : std::nullopt;
    auto before = gateway.snapshot();
    auto before_time = std::chrono::steady_clock::now();
    int sig = 0;
    while ((sig = stop_signal.wait_for(tick)) == 0) {
      const auto now = gateway.snapshot();
      const auto now_time = std::chrono::steady_clock::now();
      const double seconds = std::chrono::duration<double>(now_time - before_time).count();
      log_stats(now, fmt::format("{:.0f} frames/s", static_cast<double>(now.frames_in - before.frames_in) / seconds));
      if (!stats_json.empty()) write_stats(stats_json, now);
      before = now;
      before_time = now_time;
    }
    spdlog::info("gateway: signal {} received; flushing open windows and waiting for acks (up to {} ms)", sig,
                 config.shutdown_timeout.count());
    if (http) http->stop();
    const std::size_t unacked = gateway.stop();
    const auto final_stats = gateway.snapshot();
    log_stats(final_stats, "final");
    if (!stats_json.empty()) write_stats(stats_json, final_stats);
    if (unacked > 0) {
      spdlog::error("gateway: {} window summaries were not acknowledged by the collector before exit", unacked);
      return 3;
    }
    spdlog::info("gateway: stopped cleanly, every window acknowledged");
  } catch (const sensorgate::MqttConnectError& e) {
    spdlog::critical("gateway: {}", e.what());
    return sensorgate::kExitMqttConnectFailed;
  } catch (const std::exception& e) {
    spdlog::critical("gateway: {}", e.what());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return sensorgate::guarded_main(argc, argv, run);
}
