#include "sensorgate/common/config_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sensorgate {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ConfigFile, GetInt_WrongType_NamesFileLineAndKey) {
  auto file = ConfigFile::parse("[windows]\n\nlength_ms = \"long\"\n", "gw.toml");
  const auto message = error_of([&] { (void)file.get_int("windows.length_ms", 1000, 1, 10); });
  EXPECT_THAT(message, HasSubstr("gw.toml:3"));
  EXPECT_THAT(message, HasSubstr("windows.length_ms"));
  EXPECT_THAT(message, HasSubstr("expected an integer, got a string"));
}

TEST(ConfigFile, GetInt_OutOfRange_SaysTheRange) {
  auto file = ConfigFile::parse("a = 0\n", "x.toml");
  EXPECT_THAT(error_of([&] { (void)file.get_int("a", 5, 1, 10); }), HasSubstr("between 1 and 10, got 0"));
}

TEST(ConfigFile, Getters_AbsentKeys_ReturnDefaults) {
  ConfigFile file;
  EXPECT_EQ(file.get_int("a.b", 42, 0, 100), 42);
  EXPECT_EQ(file.get_string("s", "x"), "x");
  EXPECT_TRUE(file.get_bool("flag", true));
  EXPECT_DOUBLE_EQ(file.get_double("d", 1.5, 0, 2), 1.5);
}

TEST(ConfigFile, GetDouble_IntegerValue_Accepted) {
  auto file = ConfigFile::parse("rate = 256\n", "x.toml");
  EXPECT_DOUBLE_EQ(file.get_double("rate", 1, 1, 1000), 256.0);
}

TEST(ConfigFile, RejectUnknownKeys_Typo_NamesTheKeyAndLine) {
  auto file = ConfigFile::parse("[mqtt]\nurl = \"tcp://x:1\"\nulr = \"oops\"\n", "gw.toml");
  (void)file.get_string("mqtt.url", "");
  const auto message = error_of([&] { file.reject_unknown_keys(); });
  EXPECT_THAT(message, HasSubstr("gw.toml:3"));
  EXPECT_THAT(message, HasSubstr("mqtt.ulr"));
  EXPECT_THAT(message, HasSubstr("unknown key"));
}

TEST(ConfigFile, SetOverride_ReplacesFileValue_AndErrorsNameTheFlag) {
  auto file = ConfigFile::parse("[sim]\ndevices = 4\n", "sim.toml");
  file.set_override("sim.devices", std::int64_t{8}, "--devices");
  EXPECT_EQ(file.get_int("sim.devices", 1, 1, 100), 8);
  file.set_override("sim.devices", std::int64_t{0}, "--devices");
  EXPECT_THAT(error_of([&] { (void)file.get_int("sim.devices", 1, 1, 100); }), HasSubstr("command line (--devices)"));
}

TEST(ConfigFile, SetOverride_NewNestedKey_CreatesTables) {
  ConfigFile file;
  file.set_override("uplink.endpoint", std::string("tcp://127.0.0.1:1"), "--uplink");
  EXPECT_EQ(file.get_string("uplink.endpoint", ""), "tcp://127.0.0.1:1");
  EXPECT_NO_THROW(file.reject_unknown_keys());
}

TEST(ConfigFile, Parse_SyntaxError_NamesFileAndLine) {
  EXPECT_THAT(error_of([] { (void)ConfigFile::parse("a = 1\nb = = 2\n", "bad.toml"); }), HasSubstr("bad.toml:2"));
}

TEST(ConfigFile, Load_MissingFile_SaysSo) {
  EXPECT_THAT(error_of([] { (void)ConfigFile::load("/nonexistent/x.toml"); }), HasSubstr("/nonexistent/x.toml"));
}

TEST(ConfigFile, GetChoice_InvalidValue_ListsChoices) {
  auto file = ConfigFile::parse("backend = \"gpu\"\n", "x.toml");
  EXPECT_THAT(error_of([&] {
                (void)file.get_choice("backend", "cpu", {"auto", "cpu", "cuda"});
              }),
              HasSubstr("auto|cpu|cuda"));
}

}  // namespace
}  // namespace sensorgate
