#include "sensorgate/common/cli.hpp"

#include <fmt/format.h>

#include <cstdio>

#include "sensorgate/common/runtime.hpp"

namespace sensorgate {

void CommonFlags::add_to(CLI::App& app) {
  app.add_option("--config", config_path, "TOML configuration file; command-line flags override its keys");
  app.add_flag("--check-config", check_config, "validate the configuration (file and flags), print it is valid, exit");
  app.add_flag("--print-default-config", print_default_config,
               "print every configuration key with its default, type, range and description as TOML, exit");
  app.add_flag("--print-config-schema", print_config_schema,
               "print every configuration key (type, default, range, choices, description) as JSON, exit");
  program = app.get_name();
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off (log.level)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.set_version_flag("--version", version_string());
}

ConfigFile CommonFlags::load_config() const {
  return config_path.empty() ? ConfigFile{} : ConfigFile::load(config_path);
}

int CommonFlags::print_config_if_asked(const std::function<void(ConfigFile&)>& read) const {
  if (!print_default_config && !print_config_schema) return -1;
  ConfigFile defaults;
  try {
    read(defaults);
  } catch (const ConfigError& e) {
    return report_config_error(e);
  }
  fmt::print("{}", print_config_schema ? defaults.schema_json(program) : defaults.default_config_toml(program));
  return 0;
}

int parse_cli(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return -1;
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
}

int guarded_main(int argc, char** argv, int (*run)(int, char**)) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fatal: %s\n", e.what());
  } catch (...) {
    std::fputs("fatal: unknown exception\n", stderr);
  }
  return 1;
}

int report_config_error(const ConfigError& error) {
  fmt::print(stderr, "error: {}\n", error.what());
  return 2;
}

}  // namespace sensorgate
