// sensorgate-collector: receives window summaries from gateways over ZeroMQ and stores
// them exactly once in SQLite or PostgreSQL (docs/storage.md). Without a subcommand it
// runs that server; the subcommands (keygen, train, label, push, rollback, models; see
// commands.hpp and docs/training.md) work on the same store and exit.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <thread>

#include "commands.hpp"
#include "sensorgate/collector/collector_http.hpp"
#include "sensorgate/collector/collector_server.hpp"
#include "sensorgate/collector/store.hpp"
#include "sensorgate/common/cli.hpp"
#include "sensorgate/common/config_file.hpp"
#include "sensorgate/common/runtime.hpp"
#include "sensorgate/common/stop_signal.hpp"

namespace {

struct Settings {
  sensorgate::collector::CollectorOptions server;
  std::string db_url;  ///< a SQLite path (or sqlite:PATH) or a postgresql:// URL
  sensorgate::HttpConfig http;
  std::chrono::seconds stats_interval{10};
  std::string log_level;
};

Settings read_settings(sensorgate::ConfigFile& config) {
  Settings s;
  s.server.bind =
      config.get_string("collector.bind", "tcp://127.0.0.1:5560",
                        "ZeroMQ endpoint to bind, gateways connect to it; tcp://0.0.0.0:5560 accepts other machines");
  s.server.batch_max_messages = static_cast<std::size_t>(
      config.get_int("collector.batch_max_messages", 1024, 1, 1'000'000, "Most messages per storage transaction"));
  s.server.batch_max_wait = std::chrono::milliseconds(
      config.get_int("collector.batch_max_wait_ms", 20, 0, 10'000,
                     "A transaction also ends this many ms after its first message; acks follow the commit"));
  s.server.push_poll = std::chrono::milliseconds(config.get_int(
      "collector.push_poll_ms", 200, 10, 60'000, "How often (ms) to look for queued model pushes and rollbacks"));
  const auto curve_secret =
      config.get_string("collector.curve_secret_key", "",
                        "CurveZMQ: the collector's secret key file; \"\" (with curve_allow_list) = plaintext");
  const auto allow_list = config.get_string("collector.curve_allow_list", "",
                                            "CurveZMQ: file of allowed gateway public keys, one per line");
  const bool plaintext =
      config.get_bool("collector.plaintext", false, "Accept plaintext on a bind address other machines can reach");
  if (curve_secret.empty() != allow_list.empty()) {
    config.fail(curve_secret.empty() ? "collector.curve_secret_key" : "collector.curve_allow_list",
                "CurveZMQ needs both collector.curve_secret_key and collector.curve_allow_list");
  }
  if (!curve_secret.empty()) {
    try {
      s.server.curve_keys = sensorgate::uplink::read_curve_keypair(curve_secret);
      s.server.allow_list = sensorgate::uplink::read_allow_list(allow_list);
    } catch (const std::exception& e) {
      config.fail(s.server.curve_keys ? "collector.curve_allow_list" : "collector.curve_secret_key", e.what());
    }
  } else if (!plaintext && !sensorgate::uplink::is_loopback_endpoint(s.server.bind)) {
    config.fail("collector.bind",
                "accepts gateways from other machines unencrypted and unauthenticated: set "
                "collector.curve_secret_key and collector.curve_allow_list (CurveZMQ), or "
                "collector.plaintext = true to accept that");
  }
  // storage.url names either backend; storage.sqlite_path (older configurations) is the
  // default when it is not set.
  auto sqlite_path = config.get_string("storage.sqlite_path", "sensorgate.sqlite",
                                       {"Older name of url (a SQLite file path), read only when url is not set",
                                        "\"sensorgate.sqlite\"; superseded by url"});
  s.db_url = config.get_string(
      "storage.url", std::move(sqlite_path),
      "A SQLite file path (or sqlite:PATH) or a postgresql:// URL; --db overrides it; default: sqlite_path if set");
  s.http = sensorgate::HttpConfig::from(config);
  s.stats_interval = std::chrono::seconds(
      config.get_int("log.stats_interval_s", 10, 0, 86'400, "Seconds between statistics lines in the log; 0 = none"));
  s.log_level = config.get_choice("log.level", "info", {"trace", "debug", "info", "warn", "error", "off"},
                                  "Log level; --log-level overrides it");
  config.reject_unknown_keys();
  return s;
}

int run(int argc, char** argv) {
  CLI::App app{"sensorgate-collector: stores gateway summaries (ZeroMQ in, SQLite or PostgreSQL out)",
               "sensorgate-collector"};
  sensorgate::CommonFlags common;
  common.add_to(app);
  std::optional<std::string> bind;
  std::optional<std::string> db;
  std::optional<std::int64_t> http_port;
  app.add_option("--http-port", http_port,
                 "serve /metrics, the JSON API and the fleet dashboard on this port, 0 = off (http.port; bound to "
                 "http.bind, 127.0.0.1 by default)");
  app.add_option("--bind", bind, "ZeroMQ endpoint to bind (collector.bind), e.g. tcp://127.0.0.1:5560");
  app.add_option("--db", db,
                 "SQLite database file or postgresql://user@host:port/db URL (storage.url), e.g. "
                 "sensorgate.sqlite");
  // The subcommands: --config, --log-level and the like may follow the subcommand's name
  // (fallthrough is inherited by subcommands made after it is set).
  app.fallthrough();
  const auto commands = sensorgate::collector::add_commands(app, db);
  app.require_subcommand(0, 1);
  if (int rc = sensorgate::parse_cli(app, argc, argv); rc >= 0) return rc;
  if (int rc = common.print_config_if_asked([](sensorgate::ConfigFile& file) { (void)read_settings(file); }); rc >= 0) {
    return rc;
  }

  Settings settings;
  try {
    auto config = common.load_config();
    if (bind) config.set_override("collector.bind", *bind, "--bind");
    if (db) config.set_override("storage.url", *db, "--db");
    if (http_port) config.set_override("http.port", *http_port, "--http-port");
    settings = read_settings(config);
  } catch (const sensorgate::ConfigError& e) {
    return sensorgate::report_config_error(e);
  }
  if (common.check_config) {
    fmt::print("configuration valid ({})\n", common.config_path.empty() ? "defaults and flags" : common.config_path);
    return 0;
  }
  sensorgate::init_logging("collector", common.log_level.value_or(settings.log_level));
  for (const auto& command : commands) {
    if (command.app->parsed()) return sensorgate::collector::run_command(command, {settings.db_url});
  }

  // Only the server blocks SIGINT/SIGTERM (to collect them in this thread): a subcommand
  // stays interruptible with Ctrl-C. Constructed before the server starts any thread.
  sensorgate::StopSignal stop_signal;
  try {
    const auto store_ptr = sensorgate::collector::open_store(settings.db_url);
    auto& store = *store_ptr;
    zmq::context_t context(1);
    sensorgate::collector::CollectorServer server(context, settings.server, store);
    spdlog::info("collector: listening on {} ({}), storing into {} (schema v{}, {} window rows, {} events already)",
                 server.endpoint(),
                 settings.server.curve_keys
                     ? fmt::format("CurveZMQ, {} gateway keys allowed", settings.server.allow_list.size())
                     : std::string("plaintext"),
                 store.describe(), store.schema_version(), store.count_window_rows(), store.count_event_rows());

    std::optional<sensorgate::collector::CollectorHttp> http;
    if (settings.http.port != 0) {
      http.emplace(server, settings.http, settings.db_url);
      http->start();
    }
    std::atomic<bool> stop{false};
    std::thread worker([&] { server.run(stop); });
    const auto& c = server.counters();
    auto log_stats = [&] {
      spdlog::info(
          "collector: messages {} (bad {}, wrong gateway id {}), rows stored {} (duplicates {}), acks {}, store "
          "failures {}, model commands sent {} (answers {}, failures {}){}",
          c.messages.load(), c.bad_messages.load(), c.wrong_gateway_id.load(), c.rows_stored.load(),
          c.rows_duplicate.load(), c.acks_sent.load(), c.store_failures.load(), c.commands_sent.load(),
          c.model_answers.load(), c.push_failures.load(),
          server.zap_counters() != nullptr
              ? fmt::format(", gateways admitted {} refused {}", server.zap_counters()->allowed.load(),
                            server.zap_counters()->denied.load())
              : std::string());
    };
    const std::optional<std::chrono::milliseconds> tick =
        settings.stats_interval.count() > 0 ? std::optional<std::chrono::milliseconds>(settings.stats_interval)
                                            : std::nullopt;
    int sig = 0;
    while ((sig = stop_signal.wait_for(tick)) == 0) log_stats();
    spdlog::info("collector: signal {} received, stopping", sig);
    if (http) http->stop();
    stop = true;
    worker.join();
    log_stats();
  } catch (const std::exception& e) {
    spdlog::critical("collector: {}", e.what());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return sensorgate::guarded_main(argc, argv, run);
}
