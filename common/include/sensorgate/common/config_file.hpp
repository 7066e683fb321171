#pragma once
// ConfigFile: a TOML configuration with typed, range-checked access whose errors name the
// file, the line and the key, plus command-line overrides that report themselves as such.
//
// Every key a program reads is recorded; reject_unknown_keys() then turns a typo in a
// config file into an error instead of a silently ignored setting. Each get_* call also
// records the key's type, default, range and doc line: reading an empty configuration
// through a program's reader yields the program's whole schema (schema(),
// default_config_toml(), schema_json(); --print-default-config, --print-config-schema).

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <toml++/toml.h>

namespace sensorgate {

/// A configuration problem; what() names the source (file:line or command-line flag) and key.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What a get_* call says about its key for the schema: a one-line description and, when the
/// fallback is not a value to print as the default (it depends on the machine or on other
/// keys, or it is a "not set" sentinel), what the default is in words. Such keys are
/// printed commented out by default_config_toml().
struct KeyDoc {
  constexpr KeyDoc() = default;
  // Implicit, so that a call site passes just the doc line: get_int(key, 1, 0, 9, "what it is").
  constexpr KeyDoc(const char* text) : doc(text) {}  // NOLINT(google-explicit-constructor)
  constexpr KeyDoc(std::string_view text, std::string_view default_text) : doc(text), default_note(default_text) {}

  std::string_view doc;
  std::string_view default_note;
};

/// A value in the schema: a default, or a bound of a range.
using ConfigValue = std::variant<std::string, std::int64_t, double, bool, std::vector<double>>;

/// One key a program reads, as recorded by the get_* call that read it first.
struct ConfigKeySchema {
  enum class Type { kString, kInteger, kFloat, kBoolean, kChoice, kNumberArray };

  std::string key;  ///< dotted: "table.key"
  Type type = Type::kString;
  ConfigValue fallback;            ///< the default, as computed on this machine
  bool fallback_valid = true;      ///< false: a sentinel outside the range (see default_note)
  std::optional<ConfigValue> min;  ///< integer and float keys
  std::optional<ConfigValue> max;
  std::vector<std::string> choices;  ///< choice keys
  std::string doc;
  std::string default_note;  ///< non-empty: the default in words; printed commented out
};

/// "string", "integer", "float", "boolean", "choice" or "number array".
std::string_view to_string(ConfigKeySchema::Type type);

class ConfigFile {
 public:
  /// An empty configuration: every key takes its default.
  ConfigFile() = default;

  /// Parses `path`; throws ConfigError naming the file and line on a syntax error.
  static ConfigFile load(const std::filesystem::path& path);
  /// Parses TOML text; `origin` names it in errors (used by tests).
  static ConfigFile parse(std::string_view text, std::string origin);

  /// Sets `dotted_key` from a command-line flag; errors about it name `flag`.
  void set_override(std::string_view dotted_key, std::string value, std::string flag);
  void set_override(std::string_view dotted_key, std::int64_t value, std::string flag);
  void set_override(std::string_view dotted_key, double value, std::string flag);
  void set_override(std::string_view dotted_key, bool value, std::string flag);

  // The getters: the value of `dotted_key`, or `fallback` when it is absent; a value of the
  // wrong type or out of range throws ConfigError naming file:line (or the flag) and the key.
  // `doc` describes the key in the schema.

  [[nodiscard]] std::string get_string(std::string_view dotted_key, std::string fallback, KeyDoc doc = {});
  [[nodiscard]] bool get_bool(std::string_view dotted_key, bool fallback, KeyDoc doc = {});
  /// Integer in [min, max].
  [[nodiscard]] std::int64_t get_int(std::string_view dotted_key, std::int64_t fallback, std::int64_t min,
                                     std::int64_t max, KeyDoc doc = {});
  /// Floating-point number (an integer is accepted) in [min, max].
  [[nodiscard]] double get_double(std::string_view dotted_key, double fallback, double min, double max,
                                  KeyDoc doc = {});
  /// Array of numbers (integers accepted), each finite.
  [[nodiscard]] std::vector<double> get_number_array(std::string_view dotted_key, std::vector<double> fallback,
                                                     KeyDoc doc = {});
  /// String that must be one of `choices`.
  [[nodiscard]] std::string get_choice(std::string_view dotted_key, std::string fallback,
                                       std::initializer_list<std::string_view> choices, KeyDoc doc = {});

  /// Throws ConfigError naming the first key present in the file that no get_* asked for.
  void reject_unknown_keys() const;

  /// Throws ConfigError for `dotted_key` with `problem`, naming where the key was set.
  [[noreturn]] void fail(std::string_view dotted_key, std::string_view problem) const;

  [[nodiscard]] const std::string& origin() const { return origin_; }

  /// Every key read so far, in the order first read.
  [[nodiscard]] const std::vector<ConfigKeySchema>& schema() const { return schema_; }
  /// The schema as a TOML document of defaults, grouped by table, each key preceded by
  /// "# doc (type, range)"; keys with a default_note are commented out. `program` names
  /// the executable in the header.
  [[nodiscard]] std::string default_config_toml(std::string_view program) const;
  /// The schema as JSON: {"program", "keys": [{key, type, default, min, max, choices, doc,
  /// default_note}]} (absent fields left out; default null for a sentinel).
  [[nodiscard]] std::string schema_json(std::string_view program) const;

 private:
  const toml::node* lookup(std::string_view dotted_key);
  [[nodiscard]] std::string where(std::string_view dotted_key) const;
  [[noreturn]] void fail_at(const toml::node& node, std::string_view dotted_key, std::string_view problem) const;
  std::string read_string(std::string_view dotted_key, std::string fallback);
  /// Adds `key` to the schema, or returns nullptr when an earlier call read it.
  ConfigKeySchema* record(std::string_view key, ConfigKeySchema::Type type, ConfigValue fallback, const KeyDoc& doc);
  template <typename T>
  void insert(std::string_view dotted_key, T value, std::string flag);

  toml::table table_;
  std::string origin_ = "defaults";
  std::set<std::string, std::less<>> used_;
  std::map<std::string, std::string, std::less<>> flag_for_key_;
  std::vector<ConfigKeySchema> schema_;
};

}  // namespace sensorgate
