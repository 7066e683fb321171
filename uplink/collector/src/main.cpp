// sensorgate-collector: receives window summaries from gateways over ZeroMQ and stores
// them exactly once in SQLite.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <thread>

#include "sensorgate/collector/collector_server.hpp"
#include "sensorgate/collector/sqlite_store.hpp"
#include "sensorgate/common/cli.hpp"
#include "sensorgate/common/config_file.hpp"
#include "sensorgate/common/runtime.hpp"
#include "sensorgate/common/stop_signal.hpp"

namespace {

struct Settings {
  sensorgate::collector::CollectorOptions server;
  std::string db_path;
  std::chrono::seconds stats_interval{10};
  std::string log_level;
};

Settings read_settings(sensorgate::ConfigFile& config) {
  Settings s;
  s.server.bind = config.get_string("collector.bind", "tcp://127.0.0.1:5560");
  s.server.batch_max_messages =
      static_cast<std::size_t>(config.get_int("collector.batch_max_messages", 1024, 1, 1'000'000));
  s.server.batch_max_wait = std::chrono::milliseconds(config.get_int("collector.batch_max_wait_ms", 20, 0, 10'000));
  s.db_path = config.get_string("storage.sqlite_path", "sensorgate.sqlite");
  s.stats_interval = std::chrono::seconds(config.get_int("log.stats_interval_s", 10, 0, 86'400));
  s.log_level = config.get_choice("log.level", "info", {"trace", "debug", "info", "warn", "error", "off"});
  config.reject_unknown_keys();
  return s;
}

int run(int argc, char** argv) {
  sensorgate::StopSignal stop_signal;
  CLI::App app{"sensorgate-collector: stores gateway summaries (ZeroMQ in, SQLite out)", "sensorgate-collector"};
  sensorgate::CommonFlags common;
  common.add_to(app);
  std::optional<std::string> bind;
  std::optional<std::string> db;
  app.add_option("--bind", bind, "ZeroMQ endpoint to bind (collector.bind), e.g. tcp://127.0.0.1:5560");
  app.add_option("--db", db, "SQLite database file (storage.sqlite_path)");
  if (int rc = sensorgate::parse_cli(app, argc, argv); rc >= 0) return rc;

  Settings settings;
  try {
    auto config = common.load_config();
    if (bind) config.set_override("collector.bind", *bind, "--bind");
    if (db) config.set_override("storage.sqlite_path", *db, "--db");
    settings = read_settings(config);
  } catch (const sensorgate::ConfigError& e) {
    return sensorgate::report_config_error(e);
  }
  if (common.check_config) {
    fmt::print("configuration valid ({})\n", common.config_path.empty() ? "defaults and flags" : common.config_path);
    return 0;
  }
  sensorgate::init_logging("collector", common.log_level.value_or(settings.log_level));

  try {
    sensorgate::collector::SqliteStore store(settings.db_path);
    zmq::context_t context(1);
    sensorgate::collector::CollectorServer server(context, settings.server, store);
    spdlog::info("collector: listening on {}, storing into {} (schema v{}, {} window rows, {} events already)",
                 server.endpoint(), settings.db_path, store.schema_version(), store.count_window_rows(),
                 store.count_event_rows());

    std::atomic<bool> stop{false};
    std::thread worker([&] { server.run(stop); });
    const auto& c = server.counters();
    auto log_stats = [&] {
      spdlog::info("collector: messages {} (bad {}), rows stored {} (duplicates {}), acks {}, store failures {}",
                   c.messages.load(), c.bad_messages.load(), c.rows_stored.load(), c.rows_duplicate.load(),
                   c.acks_sent.load(), c.store_failures.load());
    };
    const std::optional<std::chrono::milliseconds> tick =
        settings.stats_interval.count() > 0 ? std::optional<std::chrono::milliseconds>(settings.stats_interval)
                                            : std::nullopt;
    int sig = 0;
    while ((sig = stop_signal.wait_for(tick)) == 0) log_stats();
    spdlog::info("collector: signal {} received, stopping", sig);
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
