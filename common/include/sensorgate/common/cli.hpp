#pragma once
// Command-line conventions shared by the sensorgate executables: --config FILE.toml,
// --log-level, --version; flags override config keys; usage and config errors exit 2.

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "sensorgate/common/config_file.hpp"

namespace sensorgate {

struct CommonFlags {
  std::string config_path;
  std::optional<std::string> log_level;
  bool check_config = false;

  /// Adds --config, --check-config, --log-level and --version to `app`.
  void add_to(CLI::App& app);
  /// The config file named by --config, or an empty configuration.
  [[nodiscard]] ConfigFile load_config() const;
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
