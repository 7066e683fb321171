// The executables' command-line contract: --help and --version succeed, and a bad config
// or flag exits 2 with a message naming the file (or flag) and the key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "sensorgate/testing/processes.hpp"

namespace sensorgate {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::vector<std::string> binaries() {
  return {SENSORGATE_SIM_BIN, SENSORGATE_GATEWAY_BIN, SENSORGATE_COLLECTOR_BIN};
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
  const std::vector<std::pair<std::string, std::string>> shipped{
      {SENSORGATE_GATEWAY_BIN, SENSORGATE_SOURCE_DIR "/config/gateway.toml"},
      {SENSORGATE_COLLECTOR_BIN, SENSORGATE_SOURCE_DIR "/config/collector.toml"},
      {SENSORGATE_SIM_BIN, SENSORGATE_SOURCE_DIR "/config/sim.toml"}};
  for (const auto& [bin, config] : shipped) {
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

}  // namespace
}  // namespace sensorgate
