#pragma once
// The subcommands of sensorgate-collector besides the server (docs/training.md): keygen,
// train, label, push, rollback, models. Each file adds one command's options to the app
// and returns how to run it, so main.cpp only parses, reads the configuration and picks.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sensorgate::collector {

/// Exit codes: 0 done, 1 a runtime failure (store, files, training), 2 a usage or
/// configuration error (the sensorgate convention, common/cli.hpp).
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

/// What a subcommand gets once the configuration is read.
struct CommandContext {
  std::string db_url;  ///< --db, else storage.url / storage.sqlite_path from --config
};

/// A subcommand: its CLI11 app (parsed() says it was chosen) and what runs it. `run`
/// returns the exit code; an exception escaping it is a runtime failure (exit 1).
struct Command {
  CLI::App* app = nullptr;
  std::function<int(const CommandContext&)> run;
};

/// Adds every subcommand to `app`. Those that use the store take --db too, written to
/// `db` exactly like the server's --db.
std::vector<Command> add_commands(CLI::App& app, std::optional<std::string>& db);

/// Runs the chosen command with errors reported as "error: ..." on stderr.
int run_command(const Command& command, const CommandContext& context);

// One per file (keygen_command.cpp, train_command.cpp, ...).
Command add_keygen_command(CLI::App& app);
Command add_train_command(CLI::App& app, std::optional<std::string>& db);
Command add_label_command(CLI::App& app, std::optional<std::string>& db);
Command add_push_command(CLI::App& app, std::optional<std::string>& db);
Command add_rollback_command(CLI::App& app, std::optional<std::string>& db);
Command add_models_command(CLI::App& app, std::optional<std::string>& db);

/// The --db option of a subcommand (same text as the server's).
void add_db_option(CLI::App& command, std::optional<std::string>& db);

/// "2024-05-01T12:00:00.250Z" (UTC, milliseconds) for nanoseconds since the epoch.
std::string format_time_ns(std::int64_t ns);

/// Prints "error: <message>" to stderr and returns `code`.
int report_error(int code, const std::string& message);

}  // namespace sensorgate::collector
