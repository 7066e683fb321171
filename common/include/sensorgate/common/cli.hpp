#pragma once
// Command-line conventions shared by the sensorgate executables: --config FILE.toml,
// --log-level, --version; flags override config keys; usage and config errors exit 2;
// --print-default-config and --print-config-schema print what the program reads.

#include <functional>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "sensorgate/common/config_file.hpp"

namespace sensorgate {

struct CommonFlags {
  std::string config_path;
  std::optional<std::string> log_level;
  bool check_config = false;
  bool print_default_config = false;
  bool print_config_schema = false;
  /// The executable's name (the app's), for the printed configuration's header.
  std::string program;

  /// Adds --config, --check-config, --print-default-config, --print-config-schema,
  /// --log-level and --version to `app`.
  void add_to(CLI::App& app);
  /// The config file named by --config, or an empty configuration.
  [[nodiscard]] ConfigFile load_config() const;
  /// After parse_cli: with --print-default-config or --print-config-schema, runs `read` (the
  /// program's whole configuration reader) on an empty configuration (no file, no flags),
  /// prints the keys it read as a TOML document of defaults or as a JSON schema, and returns
  /// the exit code (0; 2 if the defaults themselves are rejected). Otherwise returns -1.
  [[nodiscard]] int print_config_if_asked(const std::function<void(ConfigFile&)>& read) const;
};

/// Parses the command line. Returns -1 to go on, or the exit code to return from main
/// (0 after --help/--version, 2 after a usage error, with the message printed).
int parse_cli(CLI::App& app, int argc, char** argv);

/// Runs `run(argc, argv)` and turns any exception that escapes it into a message on stderr
/// and exit status 1, so no executable ends in std::terminate.
int guarded_main(int argc, char** argv, int (*run)(int, char**));

/// Prints "error: <what>" to stderr and returns the exit code for configuration errors (2).
int report_config_error(const ConfigError& error);

}  // namespace sensorgate
