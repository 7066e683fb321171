#include "sensorgate/common/config_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sensorgate/testing/fuzz_reproducer.hpp"

namespace sensorgate {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

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

// Every kind of error names the file, the line and the key: "FILE:LINE: key 'KEY': problem".

TEST(ConfigFile, GetInt_OutOfRange_NamesFileLineAndKey) {
  auto file = ConfigFile::parse("[windows]\n\nlength_ms = 0\n", "gw.toml");
  EXPECT_EQ(error_of([&] { (void)file.get_int("windows.length_ms", 1000, 1, 10); }),
            "gw.toml:3: key 'windows.length_ms': expected an integer between 1 and 10, got 0");
}

TEST(ConfigFile, GetDouble_WrongType_NamesFileLineAndKey) {
  auto file = ConfigFile::parse("[serial]\ngain = true\n", "gw.toml");
  EXPECT_EQ(error_of([&] { (void)file.get_double("serial.gain", 24, 1, 24); }),
            "gw.toml:2: key 'serial.gain': expected a number, got a boolean");
}

TEST(ConfigFile, GetDouble_OutOfRange_NamesFileLineAndKey) {
  auto file = ConfigFile::parse("[serial]\n# comment\ngain = 25.5\n", "gw.toml");
  EXPECT_EQ(error_of([&] { (void)file.get_double("serial.gain", 24, 1, 24); }),
            "gw.toml:3: key 'serial.gain': expected a number between 1 and 24, got 25.5");
}

TEST(ConfigFile, GetBool_WrongType_NamesFileLineAndKey) {
  auto file = ConfigFile::parse("[anomaly]\nenabled = \"yes\"\n", "gw.toml");
  EXPECT_EQ(error_of([&] { (void)file.get_bool("anomaly.enabled", true); }),
            "gw.toml:2: key 'anomaly.enabled': expected true or false, got a string");
}

TEST(ConfigFile, GetString_WrongType_NamesFileLineAndKey) {
  auto file = ConfigFile::parse("[mqtt]\n\n\nurl = 1883\n", "sim.toml");
  EXPECT_EQ(error_of([&] { (void)file.get_string("mqtt.url", ""); }),
            "sim.toml:4: key 'mqtt.url': expected a string, got an integer");
}

TEST(ConfigFile, GetChoice_InvalidValue_NamesFileLineAndKey) {
  auto file = ConfigFile::parse("[processing]\nbackend = \"gpu\"\n", "gw.toml");
  EXPECT_EQ(error_of([&] {
              (void)file.get_choice("processing.backend", "cpu", {"auto", "cpu", "cuda"});
            }),
            "gw.toml:2: key 'processing.backend': expected one of auto|cpu|cuda, got \"gpu\"");
}

TEST(ConfigFile, GetNumberArray_WrongElement_NamesTheElementsLine) {
  auto file = ConfigFile::parse("[windows]\nhistogram_edges = [\n  -10,\n  0,\n  \"ten\",\n]\n", "gw.toml");
  EXPECT_EQ(error_of([&] { (void)file.get_number_array("windows.histogram_edges", {}); }),
            "gw.toml:5: key 'windows.histogram_edges': expected an array of numbers, element 2 is a string");
}

TEST(ConfigFile, GetNumberArray_NotAnArray_NamesFileLineAndKey) {
  auto file = ConfigFile::parse("[windows]\nhistogram_edges = 5\n", "gw.toml");
  EXPECT_EQ(error_of([&] { (void)file.get_number_array("windows.histogram_edges", {}); }),
            "gw.toml:2: key 'windows.histogram_edges': expected an array of numbers, got an integer");
}

TEST(ConfigFile, GetInt_TableWhereValueExpected_NamesFileLineAndKey) {
  auto file = ConfigFile::parse("[http]\n[http.port]\nnumber = 1\n", "c.toml");
  EXPECT_EQ(error_of([&] { (void)file.get_int("http.port", 0, 0, 65535); }),
            "c.toml:2: key 'http.port': expected an integer, got a table");
}

TEST(ConfigFile, Fail_KeyInFile_NamesFileLineAndKey) {
  auto file = ConfigFile::parse("[anomaly]\nexit_threshold = 5.0\n", "gw.toml");
  (void)file.get_double("anomaly.exit_threshold", 2, 0, 10);
  EXPECT_EQ(error_of([&] { file.fail("anomaly.exit_threshold", "must not exceed enter_threshold"); }),
            "gw.toml:2: key 'anomaly.exit_threshold': must not exceed enter_threshold");
}

TEST(ConfigFile, RejectUnknownKeys_UnknownKey_NamesFileLineAndKey) {
  auto file = ConfigFile::parse("[log]\nlevel = \"info\"\n\nstats_intervall_s = 5\n", "c.toml");
  (void)file.get_string("log.level", "info");
  EXPECT_EQ(error_of([&] { file.reject_unknown_keys(); }),
            "c.toml:4: key 'log.stats_intervall_s': unknown key (misspelt, or not valid for this program)");
}

TEST(ConfigFile, RejectUnknownKeys_UnknownKeyInInlineTable_NamesFileLineAndKey) {
  auto file = ConfigFile::parse("a = 1\nlog = { level = \"info\", colour = true }\n", "c.toml");
  (void)file.get_int("a", 0, 0, 9);
  (void)file.get_string("log.level", "info");
  EXPECT_THAT(error_of([&] { file.reject_unknown_keys(); }), HasSubstr("c.toml:2: key 'log.colour': unknown key"));
}

TEST(ConfigFile, RejectUnknownKeys_EmptyUnknownTable_NamesFileLineAndTable) {
  auto file = ConfigFile::parse("[log]\nlevel = \"info\"\n\n[colours]\n", "c.toml");
  (void)file.get_string("log.level", "info");
  EXPECT_EQ(error_of([&] { file.reject_unknown_keys(); }),
            "c.toml:4: key 'colours': unknown table (misspelt, or not valid for this program)");
}

TEST(ConfigFile, RejectUnknownKeys_EmptyKnownTable_Accepted) {
  // A [section] whose keys are all commented out, as in the example configs.
  auto file = ConfigFile::parse("[gateway]\n# id = \"lab-gw-1\"\n", "gw.toml");
  (void)file.get_string("gateway.id", "host");
  EXPECT_NO_THROW(file.reject_unknown_keys());
}

TEST(ConfigFile, RejectUnknownKeys_QuotedDottedName_RejectedAsUnknown) {
  // "mqtt.url" = ... is a key named mqtt.url at the top, not the key url in [mqtt].
  auto file = ConfigFile::parse("\"mqtt.url\" = \"tcp://x:1\"\n", "sim.toml");
  EXPECT_EQ(file.get_string("mqtt.url", "default"), "default");
  EXPECT_THAT(error_of([&] { file.reject_unknown_keys(); }), HasSubstr("sim.toml:1: key 'mqtt.url': unknown key"));
}

// The schema: what each get_* call records.

TEST(ConfigFile, Schema_Getters_RecordTypeDefaultRangeChoicesAndDoc) {
  ConfigFile file;
  (void)file.get_int("a.count", 4, 1, 100, "How many");
  (void)file.get_double("a.rate", 0.5, 0, 1, "How often");
  (void)file.get_choice("b.mode", "x", {"x", "y"}, "Which");
  (void)file.get_string("b.name", "n", {"Its name", "the host name"});
  (void)file.get_bool("b.on", true);
  (void)file.get_number_array("b.edges", {1, 2}, "Edges");
  const auto& schema = file.schema();
  ASSERT_EQ(schema.size(), 6U);
  EXPECT_EQ(schema[0].key, "a.count");
  EXPECT_EQ(schema[0].type, ConfigKeySchema::Type::kInteger);
  EXPECT_EQ(std::get<std::int64_t>(schema[0].fallback), 4);
  EXPECT_EQ(std::get<std::int64_t>(*schema[0].min), 1);
  EXPECT_EQ(std::get<std::int64_t>(*schema[0].max), 100);
  EXPECT_EQ(schema[0].doc, "How many");
  EXPECT_EQ(schema[1].type, ConfigKeySchema::Type::kFloat);
  EXPECT_DOUBLE_EQ(std::get<double>(*schema[1].max), 1.0);
  EXPECT_EQ(schema[2].type, ConfigKeySchema::Type::kChoice);
  EXPECT_EQ(schema[2].choices, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(schema[3].default_note, "the host name");
  EXPECT_EQ(schema[4].type, ConfigKeySchema::Type::kBoolean);
  EXPECT_EQ(schema[4].doc, "");
  EXPECT_EQ(std::get<std::vector<double>>(schema[5].fallback), (std::vector<double>{1, 2}));
}

TEST(ConfigFile, Schema_KeyReadTwice_KeepsTheFirstRead) {
  ConfigFile file;
  (void)file.get_int("a", 1, 0, 9, "first");
  (void)file.get_int("a", 2, 0, 9, "second");
  ASSERT_EQ(file.schema().size(), 1U);
  EXPECT_EQ(file.schema()[0].doc, "first");
}

TEST(ConfigFile, Schema_DefaultOutsideRange_MarkedInvalid) {
  ConfigFile file;
  (void)file.get_double("sim.duration_s", -1, 0, 1e9, {"Seconds", "not set: 10 s"});
  // A choice's fallback is checked like a value (no program has such a default).
  EXPECT_THAT(error_of([&] { (void)file.get_choice("c", "none", {"a", "b"}); }), HasSubstr("expected one of a|b"));
  EXPECT_FALSE(file.schema()[0].fallback_valid);
  EXPECT_FALSE(file.schema()[1].fallback_valid);
}

TEST(ConfigFile, Schema_KeysInFile_RecordTheFallbackNotTheFileValue) {
  auto file = ConfigFile::parse("n = 7\n", "x.toml");
  EXPECT_EQ(file.get_int("n", 3, 0, 9), 7);
  EXPECT_EQ(std::get<std::int64_t>(file.schema()[0].fallback), 3);
}

/// The getters of a small program, for the round trip below.
void read_example(ConfigFile& file) {
  (void)file.get_string("gateway.id", "host-1", {"This gateway's id", "the host name"});
  (void)file.get_string("mqtt.url", "tcp://127.0.0.1:1883", R"(Broker "URL"\path)");
  (void)file.get_int("mqtt.keepalive_s", 20, 1, 3600, "Keep-alive");
  (void)file.get_int("sim.start_time_ns", 0, 0, INT64_MAX, "Start");
  (void)file.get_double("serial.gain", 24, 1, 24, "Gain");
  (void)file.get_double("sim.sample_rate_hz", 0, 1, 1e5, {"Rate", "not set: 256 Hz"});
  (void)file.get_bool("anomaly.enabled", true, "Scoring");
  (void)file.get_choice("log.level", "info", {"info", "off"}, "Level");
  (void)file.get_number_array("windows.histogram_edges", {-100, 0, 12.5}, "Edges");
  (void)file.get_number_array("windows.none", {}, "None");
  (void)file.get_string("log.prefix", "quote \" backslash \\ tab \t", "Escapes");
  file.reject_unknown_keys();
}

TEST(ConfigFile, DefaultConfigToml_ReadBack_GivesTheDefaultsAndNoUnknownKeys) {
  ConfigFile defaults;
  read_example(defaults);
  const auto text = defaults.default_config_toml("sensorgate-test");
  auto file = ConfigFile::parse(text, "defaults.toml");
  EXPECT_NO_THROW(read_example(file)) << text;
  EXPECT_EQ(file.get_string("mqtt.url", ""), "tcp://127.0.0.1:1883");
  EXPECT_DOUBLE_EQ(file.get_double("serial.gain", 0, 0, 100), 24.0);
  EXPECT_EQ(file.get_number_array("windows.histogram_edges", {}), (std::vector<double>{-100, 0, 12.5}));
  EXPECT_EQ(file.get_string("log.prefix", ""), "quote \" backslash \\ tab \t");
}

TEST(ConfigFile, DefaultConfigToml_Keys_GroupedByTableWithDocTypeAndRange) {
  ConfigFile defaults;
  read_example(defaults);
  const auto text = defaults.default_config_toml("sensorgate-test");
  EXPECT_THAT(text, HasSubstr("[mqtt]\n# Broker \"URL\"\\path (string)\nurl = \"tcp://127.0.0.1:1883\"\n"
                              "# Keep-alive (integer, 1 to 3600)\nkeepalive_s = 20\n"));
  EXPECT_THAT(text, HasSubstr("# Start (integer, >= 0)\nstart_time_ns = 0\n"));
  EXPECT_THAT(text, HasSubstr("# Gain (float, 1 to 24)\ngain = 24.0\n"));
  EXPECT_THAT(text, HasSubstr("# Level (choice: info|off)\nlevel = \"info\"\n"));
  EXPECT_THAT(text, HasSubstr("histogram_edges = [-100.0, 0.0, 12.5]\n"));
  EXPECT_THAT(text, HasSubstr("none = []\n"));
  EXPECT_THAT(text, HasSubstr("# Scoring (boolean)\nenabled = true\n"));
}

TEST(ConfigFile, DefaultConfigToml_KeyWithDefaultNote_CommentedOut) {
  ConfigFile defaults;
  read_example(defaults);
  const auto text = defaults.default_config_toml("sensorgate-test");
  EXPECT_THAT(text,
              HasSubstr("[gateway]\n# This gateway's id (string)\n# Default: the host name\n# id = \"host-1\"\n"));
  // A sentinel outside the range has no value to show.
  EXPECT_THAT(text, HasSubstr("# Default: not set: 256 Hz\n# sample_rate_hz =\n"));
  EXPECT_THAT(text, Not(HasSubstr("\nid = ")));
}

TEST(ConfigFile, SchemaJson_Keys_CarryTypeDefaultRangeChoicesAndDoc) {
  ConfigFile defaults;
  read_example(defaults);
  const auto schema = nlohmann::json::parse(defaults.schema_json("sensorgate-test"));
  EXPECT_EQ(schema["program"], "sensorgate-test");
  const auto& keys = schema["keys"];
  ASSERT_EQ(keys.size(), 11U);
  EXPECT_EQ(keys[0]["key"], "gateway.id");
  EXPECT_EQ(keys[0]["default_note"], "the host name");
  EXPECT_EQ(keys[2]["type"], "integer");
  EXPECT_EQ(keys[2]["default"], 20);
  EXPECT_EQ(keys[2]["min"], 1);
  EXPECT_EQ(keys[2]["max"], 3600);
  EXPECT_EQ(keys[2]["doc"], "Keep-alive");
  EXPECT_TRUE(keys[5]["default"].is_null());  // the sentinel
  EXPECT_EQ(keys[7]["type"], "choice");
  EXPECT_EQ(keys[7]["choices"], (nlohmann::json{"info", "off"}));
  EXPECT_EQ(keys[8]["type"], "number array");
  EXPECT_FALSE(keys[8].contains("min"));
}

// fuzz/regressions/config/toml-non-ascii-table-name, found by fuzz_config: a non-ASCII
// character in a bare table name reaches a __builtin_unreachable in toml++ 3.3.0's Unicode
// tables when toml++ itself is compiled with UBSan (upstream marzer/tomlplusplus#190 and
// #295). The shipped library refuses the document, and ConfigFile reports a syntax error.
TEST(ConfigFile, NonAsciiBareTableName_SyntaxError) {
  const auto text = sensorgate::testing::fuzz_reproducer("config/toml-non-ascii-table-name");
  try {
    (void)ConfigFile::parse(text, "fuzz.toml");
    ADD_FAILURE() << "parsed";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("fuzz.toml:1:"));
  }
}

}  // namespace
}  // namespace sensorgate
