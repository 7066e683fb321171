// The executables' command-line contract: --help and --version succeed, and a bad config
// or flag exits 2 with a message naming the file (or flag) and the key; the configuration
// schema (--print-default-config, --print-config-schema) and the example configs agree.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "sensorgate/testing/processes.hpp"

namespace sensorgate {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::vector<std::string> binaries() {
  return {SENSORGATE_SIM_BIN, SENSORGATE_GATEWAY_BIN, SENSORGATE_COLLECTOR_BIN};
}

/// Each binary and its example configuration.
std::vector<std::pair<std::string, std::string>> example_configs() {
  return {{SENSORGATE_GATEWAY_BIN, SENSORGATE_SOURCE_DIR "/config/gateway.toml"},
          {SENSORGATE_COLLECTOR_BIN, SENSORGATE_SOURCE_DIR "/config/collector.toml"},
          {SENSORGATE_SIM_BIN, SENSORGATE_SOURCE_DIR "/config/sim.toml"}};
}

/// The dotted keys a TOML document shows, set or commented out: "key = value" lines, and
/// "# key = value" lines whose value looks like one (a string, number, array or boolean,
/// or nothing: a "not set" default), each under its [table].
std::set<std::string> shown_keys(const std::string& text) {
  static const std::regex table(R"(^\[([A-Za-z0-9_.-]+)\]\s*(#.*)?$)");
  static const std::regex set_key(R"(^([A-Za-z0-9_-]+)\s*=)");
  static const std::regex commented_key(R"(^#\s?([a-z][a-z0-9_]*) =(\s*$| ["\[0-9-]| true\b| false\b))");
  std::set<std::string> keys;
  std::string prefix;
  std::istringstream in(text);
  std::smatch match;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_search(line, match, table)) {
      prefix = match[1].str() + ".";
    } else if (std::regex_search(line, match, set_key) || std::regex_search(line, match, commented_key)) {
      keys.insert(prefix + match[1].str());
    }
  }
  return keys;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

nlohmann::json schema_of(const std::string& bin) {
  std::string out;
  EXPECT_EQ(testing::run_program({bin, "--print-config-schema"}, out, 10s), 0) << bin << "\n" << out;
  return nlohmann::json::parse(out);
}

std::set<std::string> schema_keys(const nlohmann::json& schema) {
  std::set<std::string> keys;
  for (const auto& key : schema["keys"]) keys.insert(key["key"].get<std::string>());
  return keys;
}

std::vector<std::string> difference(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::vector<std::string> out;
  std::ranges::set_difference(a, b, std::back_inserter(out));
  return out;
}

TEST(Cli, Help_EveryBinary_ExitsZeroAndListsConfigFlag) {
  for (const auto& bin : binaries()) {
    std::string out;
    EXPECT_EQ(testing::run_program({bin, "--help"}, out, 10s), 0) << bin;
    EXPECT_THAT(out, HasSubstr("--config")) << bin;
  }
}

TEST(Cli, Version_EveryBinary_PrintsVersion) {
  for (const auto& bin : binaries()) {
    std::string out;
    EXPECT_EQ(testing::run_program({bin, "--version"}, out, 10s), 0) << bin;
    EXPECT_THAT(out, HasSubstr("sensorgate 0.")) << bin;
  }
}

TEST(Cli, ShippedConfigs_AreAccepted) {
  // config/*.toml must parse and validate; --help after --config would not load it, so use
  // an unreachable endpoint check instead: a config error exits 2, anything else does not.
  for (const auto& [bin, config] : example_configs()) {
    std::string out;
    EXPECT_EQ(testing::run_program({bin, "--config", config, "--check-config"}, out, 10s), 0) << bin << "\n" << out;
  }
}

TEST(Cli, WrongTypeInConfig_ExitsTwoNamingFileLineAndKey) {
  testing::TempDir dir;
  const auto config = dir.path() / "gw.toml";
  std::ofstream(config) << "[windows]\nlength_ms = \"one second\"\n";
  std::string out;
  EXPECT_EQ(testing::run_program({SENSORGATE_GATEWAY_BIN, "--config", config.string()}, out, 10s), 2);
  EXPECT_THAT(out, HasSubstr(config.string() + ":2"));
  EXPECT_THAT(out, HasSubstr("windows.length_ms"));
}

TEST(Cli, UnknownKeyInConfig_ExitsTwo) {
  testing::TempDir dir;
  const auto config = dir.path() / "c.toml";
  std::ofstream(config) << "[storage]\nsqlite_pth = \"x.sqlite\"\n";
  std::string out;
  EXPECT_EQ(testing::run_program({SENSORGATE_COLLECTOR_BIN, "--config", config.string()}, out, 10s), 2);
  EXPECT_THAT(out, HasSubstr("storage.sqlite_pth"));
  EXPECT_THAT(out, HasSubstr("unknown key"));
}

TEST(Cli, BadFlagValue_ExitsTwoNamingTheFlag) {
  std::string out;
  EXPECT_EQ(testing::run_program({SENSORGATE_SIM_BIN, "--speed", "fast"}, out, 10s), 2);
  EXPECT_THAT(out, HasSubstr("--speed"));
  EXPECT_THAT(out, HasSubstr("sim.speed"));
}

TEST(Cli, MissingConfigFile_ExitsTwo) {
  std::string out;
  EXPECT_EQ(testing::run_program({SENSORGATE_GATEWAY_BIN, "--config", "/nonexistent.toml"}, out, 10s), 2);
  EXPECT_THAT(out, HasSubstr("/nonexistent.toml"));
}

TEST(Cli, PrintDefaultConfig_EveryBinary_OutputPassesCheckConfig) {
  testing::TempDir dir;
  for (const auto& bin : binaries()) {
    std::string defaults;
    ASSERT_EQ(testing::run_program({bin, "--print-default-config"}, defaults, 10s), 0) << bin << "\n" << defaults;
    EXPECT_THAT(defaults, HasSubstr("[log]")) << bin;
    const auto config = dir.path() / "defaults.toml";
    std::ofstream(config) << defaults;
    std::string out;
    EXPECT_EQ(testing::run_program({bin, "--config", config.string(), "--check-config"}, out, 10s), 0) << bin << "\n"
                                                                                                       << out << "\n"
                                                                                                       << defaults;
    EXPECT_THAT(out, HasSubstr("configuration valid")) << bin;
  }
}

TEST(Cli, PrintDefaultConfig_IgnoresConfigFileAndFlags) {
  testing::TempDir dir;
  const auto config = dir.path() / "c.toml";
  std::ofstream(config) << "[collector]\nbatch_max_messages = 7\n";
  std::string out;
  ASSERT_EQ(testing::run_program({SENSORGATE_COLLECTOR_BIN, "--config", config.string(), "--bind", "tcp://127.0.0.1:1",
                                  "--print-default-config"},
                                 out, 10s),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("\nbatch_max_messages = 1024\n"));
  EXPECT_THAT(out, HasSubstr("\nbind = \"tcp://127.0.0.1:5560\"\n"));
}

TEST(Cli, PrintDefaultConfig_MachineDependentDefaults_CommentedOut) {
  std::string out;
  ASSERT_EQ(testing::run_program({SENSORGATE_GATEWAY_BIN, "--print-default-config"}, out, 10s), 0) << out;
  EXPECT_THAT(out, HasSubstr("[gateway]\n# This gateway's id"));
  EXPECT_THAT(out, HasSubstr("# Default: the host name\n# id = \""));
  EXPECT_THAT(out, HasSubstr("# client_id = \"sensorgate-gw-"));
}

TEST(Cli, PrintConfigSchema_EveryBinary_EveryKeyHasDocAndADefault) {
  for (const auto& bin : binaries()) {
    const auto schema = schema_of(bin);
    ASSERT_FALSE(schema["keys"].empty()) << bin;
    for (const auto& key : schema["keys"]) {
      EXPECT_FALSE(key["doc"].get<std::string>().empty()) << bin << ": " << key["key"];
      EXPECT_TRUE(!key["default"].is_null() || key.contains("default_note"))
          << bin << ": " << key["key"] << " has neither a default nor a note saying what it is";
    }
  }
}

TEST(Cli, PrintDefaultConfig_EveryBinary_ShowsEveryKeyOfTheSchema) {
  for (const auto& bin : binaries()) {
    std::string defaults;
    ASSERT_EQ(testing::run_program({bin, "--print-default-config"}, defaults, 10s), 0) << bin;
    const auto keys = schema_keys(schema_of(bin));
    const auto shown = shown_keys(defaults);
    EXPECT_THAT(difference(keys, shown), ::testing::IsEmpty()) << bin << ": schema keys missing from the output";
    EXPECT_THAT(difference(shown, keys), ::testing::IsEmpty()) << bin << ": output keys not in the schema";
  }
}

TEST(Cli, ExampleConfigs_AgreeWithTheSchema) {
  // config/<program>.toml documents every key the program reads (set or commented out),
  // and nothing else.
  for (const auto& [bin, config] : example_configs()) {
    const auto keys = schema_keys(schema_of(bin));
    const auto shown = shown_keys(read_text(config));
    EXPECT_THAT(difference(keys, shown), ::testing::IsEmpty()) << config << ": keys the program reads but not shown";
    EXPECT_THAT(difference(shown, keys), ::testing::IsEmpty()) << config << ": keys the program does not read";
  }
}

}  // namespace
}  // namespace sensorgate
