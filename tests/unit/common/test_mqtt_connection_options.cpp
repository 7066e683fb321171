// MqttConnectionOptions::from: the [mqtt] keys both executables share, and the errors that
// must come before any connection attempt.
#include <gtest/gtest.h>

#include <fstream>

#include "sensorgate/common/mqtt_connection_options.hpp"
#include "sensorgate/testing/fuzz_reproducer.hpp"
#include "sensorgate/testing/processes.hpp"

namespace sensorgate {
namespace {

MqttConnectionOptions read(const std::string& toml) {
  auto file = ConfigFile::parse(toml, "test.toml");
  auto options = MqttConnectionOptions::from(file, "default-id", false);
  file.reject_unknown_keys();
  return options;
}

std::string error_of(const std::string& toml) {
  try {
    (void)read(toml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(MqttConnectionOptions, NoKeys_PlainPersistentSessionWithDefaultClientId) {
  const auto o = read("");
  EXPECT_EQ(o.url, "tcp://127.0.0.1:1883");
  EXPECT_EQ(o.client_id, "default-id");
  EXPECT_FALSE(o.clean_session);
  EXPECT_FALSE(o.uses_tls());
  EXPECT_TRUE(o.verify_server);
  EXPECT_TRUE(o.username.empty());
  EXPECT_EQ(o.reconnect_min, std::chrono::milliseconds(1000));
  EXPECT_EQ(o.reconnect_max, std::chrono::milliseconds(30000));
}

TEST(MqttConnectionOptions, MqttsAndMqttSchemes_MappedToPahoSpelling) {
  EXPECT_EQ(read("[mqtt]\nurl = \"mqtts://broker:8883\"\n").paho_uri(), "ssl://broker:8883");
  EXPECT_TRUE(read("[mqtt]\nurl = \"mqtts://broker:8883\"\n").uses_tls());
  EXPECT_EQ(read("[mqtt]\nurl = \"mqtt://broker:1883\"\n").paho_uri(), "tcp://broker:1883");
  EXPECT_EQ(read("[mqtt]\nurl = \"ssl://broker:8883\"\n").paho_uri(), "ssl://broker:8883");
}

TEST(MqttConnectionOptions, UnknownScheme_ErrorNamesKey) {
  const auto error = error_of("[mqtt]\nurl = \"http://broker\"\n");
  EXPECT_NE(error.find("mqtt.url"), std::string::npos) << error;
  EXPECT_NE(error.find("test.toml"), std::string::npos) << error;
}

TEST(MqttConnectionOptions, PasswordFile_ReadWithoutTrailingNewline) {
  testing::TempDir dir;
  const auto path = dir.path() / "secret";
  std::ofstream(path) << "s3cret\r\n";
  const auto o = read("[mqtt]\nusername = \"gw\"\npassword_file = \"" + path.string() + "\"\n");
  EXPECT_EQ(o.password, "s3cret");
}

TEST(MqttConnectionOptions, PasswordFileProblems_ClearErrors) {
  testing::TempDir dir;
  const auto missing = (dir.path() / "missing").string();
  EXPECT_NE(error_of("[mqtt]\nusername = \"gw\"\npassword_file = \"" + missing + "\"\n").find("cannot read"),
            std::string::npos);
  std::ofstream(dir.path() / "empty") << "\n";
  EXPECT_NE(error_of("[mqtt]\nusername = \"gw\"\npassword_file = \"" + (dir.path() / "empty").string() + "\"\n")
                .find("is empty"),
            std::string::npos);
  std::ofstream(dir.path() / "pw") << "x";
  EXPECT_NE(error_of("[mqtt]\nusername = \"gw\"\npassword = \"y\"\npassword_file = \"" + (dir.path() / "pw").string() +
                     "\"\n")
                .find("either"),
            std::string::npos);
  EXPECT_NE(error_of("[mqtt]\npassword = \"y\"\n").find("needs mqtt.username"), std::string::npos);
}

// fuzz/regressions/config/password-file-is-a-directory: reading a directory threw
// std::ios_base::failure out of the configuration reader and terminated the program.
TEST(MqttConnectionOptions, PasswordFileIsADirectory_ErrorNamesKey) {
  const auto error = error_of(testing::fuzz_reproducer("config/password-file-is-a-directory"));
  EXPECT_NE(error.find("mqtt.password_file"), std::string::npos) << error;
  EXPECT_NE(error.find("is a directory"), std::string::npos) << error;
  testing::TempDir dir;
  const auto tls = error_of("[mqtt]\nurl = \"ssl://127.0.0.1:8883\"\nca_file = \"" + dir.path().string() + "\"\n");
  EXPECT_NE(tls.find("mqtt.ca_file"), std::string::npos) << tls;
  EXPECT_NE(tls.find("is a directory"), std::string::npos) << tls;
}

TEST(MqttConnectionOptions, TlsFiles_MustExistAndNeedTlsUrl) {
  testing::TempDir dir;
  const auto ca = (dir.path() / "ca.crt").string();
  std::ofstream(ca) << "pem";
  EXPECT_EQ(read("[mqtt]\nurl = \"ssl://b:8883\"\nca_file = \"" + ca + "\"\n").ca_file, ca);
  const auto plain = error_of("[mqtt]\nurl = \"tcp://b:1883\"\nca_file = \"" + ca + "\"\n");
  EXPECT_NE(plain.find("mqtt.ca_file"), std::string::npos) << plain;
  EXPECT_NE(plain.find("not ssl://"), std::string::npos) << plain;
  const auto missing = error_of("[mqtt]\nurl = \"ssl://b:8883\"\nca_file = \"" + ca + ".nope\"\n");
  EXPECT_NE(missing.find("cannot read"), std::string::npos) << missing;
  const auto key_only = error_of("[mqtt]\nurl = \"ssl://b:8883\"\nkey_file = \"" + ca + "\"\n");
  EXPECT_NE(key_only.find("needs mqtt.cert_file"), std::string::npos) << key_only;
}

TEST(MqttConnectionOptions, FlagOverride_ErrorNamesTheFlag) {
  auto file = ConfigFile::parse("", "test.toml");
  file.set_override("mqtt.ca_file", std::string("/nonexistent/ca.crt"), "--mqtt-ca");
  file.set_override("mqtt.url", std::string("ssl://b:8883"), "--mqtt");
  try {
    (void)MqttConnectionOptions::from(file, "id", false);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--mqtt-ca"), std::string::npos) << e.what();
  }
}

TEST(MqttConnectionOptions, ReconnectMaxBelowMin_Error) {
  EXPECT_NE(error_of("[mqtt]\nreconnect_min_ms = 5000\nreconnect_max_ms = 2000\n").find("mqtt.reconnect_max_ms"),
            std::string::npos);
}

}  // namespace
}  // namespace sensorgate
