#include "commands.hpp"

#include <fmt/format.h>

#include <ctime>
#include <exception>

namespace sensorgate::collector {

std::vector<Command> add_commands(CLI::App& app, std::optional<std::string>& db) {
  return {add_keygen_command(app),   add_train_command(app, db),    add_label_command(app, db),
          add_push_command(app, db), add_rollback_command(app, db), add_models_command(app, db)};
}

void add_db_option(CLI::App& command, std::optional<std::string>& db) {
  command.add_option("--db", db,
                     "SQLite database file or postgresql://user@host:port/db URL (storage.url), e.g. "
                     "sensorgate.sqlite");
}

std::string format_time_ns(std::int64_t ns) {
  // Floor division, so times before 1970 still get a millisecond part in [0, 999].
  const std::int64_t ms = (ns >= 0 ? ns : ns - 999'999) / 1'000'000;
  const std::int64_t seconds = (ms >= 0 ? ms : ms - 999) / 1000;
  const auto time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  if (::gmtime_r(&time, &utc) == nullptr) return std::to_string(ns);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, ms - (seconds * 1000));
}

int report_error(int code, const std::string& message) {
  fmt::print(stderr, "error: {}\n", message);
  return code;
}

int run_command(const Command& command, const CommandContext& context) {
  try {
    return command.run(context);
  } catch (const std::exception& e) {
    return report_error(kExitFailure, fmt::format("{}: {}", command.app->get_name(), e.what()));
  }
}

}  // namespace sensorgate::collector
