// GatewayConfig::from: ids that end up in topics, logs, file names and the collector's
// tables are checked like the device ids of incoming batches.
#include "sensorgate/gateway/gateway_config.hpp"

#include <gtest/gtest.h>

#include "sensorgate/testing/fuzz_reproducer.hpp"

namespace sensorgate {
namespace {

std::string error_of(const std::string& toml) {
  try {
    auto file = ConfigFile::parse(toml, "test.toml");
    (void)GatewayConfig::from(file);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

// fuzz/regressions/config/gateway-id-leading-newline: an id holding a newline was accepted.
TEST(GatewayConfig, GatewayIdWithNewline_RefusedNamingKey) {
  const auto error = error_of(testing::fuzz_reproducer("config/gateway-id-leading-newline"));
  EXPECT_NE(error.find("gateway.id"), std::string::npos) << error;
  EXPECT_NE(error.find("[A-Za-z0-9._-]"), std::string::npos) << error;
  EXPECT_NE(error_of("[gateway]\nid = \"\"\n").find("gateway.id"), std::string::npos);
  EXPECT_NE(error_of("[gateway]\nid = \"" + std::string(65, 'g') + "\"\n").find("gateway.id"), std::string::npos);
  EXPECT_EQ(error_of("[gateway]\nid = \"ward-3.gw_1\"\n"), "no error");
}

TEST(GatewayConfig, SerialDeviceIdOutsideTheIdAlphabet_RefusedNamingKey) {
  const auto error = error_of("[serial]\nport = \"/dev/ttyUSB0\"\ndevice_id = \"board 1\"\n");
  EXPECT_NE(error.find("serial.device_id"), std::string::npos) << error;
}

TEST(IsValidId, Examples) {
  EXPECT_TRUE(is_valid_id("sim-0001"));
  EXPECT_TRUE(is_valid_id(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_id(std::string(65, 'a')));
  EXPECT_FALSE(is_valid_id(""));
  EXPECT_FALSE(is_valid_id("a/b"));
  EXPECT_FALSE(is_valid_id("\n1"));
}

}  // namespace
}  // namespace sensorgate
