#pragma once
// ConfigFile: a TOML configuration with typed, range-checked access whose errors name the
// file, the line and the key, plus command-line overrides that report themselves as such.
//
// Every key a program reads is recorded; reject_unknown_keys() then turns a typo in a
// config file into an error instead of a silently ignored setting.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace sensorgate {

/// A configuration problem; what() names the source (file:line or command-line flag) and key.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

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

  [[nodiscard]] std::string get_string(std::string_view dotted_key, std::string fallback);
  [[nodiscard]] bool get_bool(std::string_view dotted_key, bool fallback);
  /// Integer in [min, max].
  [[nodiscard]] std::int64_t get_int(std::string_view dotted_key, std::int64_t fallback, std::int64_t min,
                                     std::int64_t max);
  /// Floating-point number (an integer is accepted) in [min, max].
  [[nodiscard]] double get_double(std::string_view dotted_key, double fallback, double min, double max);
  /// Array of numbers (integers accepted), each finite.
  [[nodiscard]] std::vector<double> get_number_array(std::string_view dotted_key, std::vector<double> fallback);
  /// String that must be one of `choices`.
  [[nodiscard]] std::string get_choice(std::string_view dotted_key, std::string fallback,
                                       std::initializer_list<std::string_view> choices);

  /// Throws ConfigError naming the first key present in the file that no get_* asked for.
  void reject_unknown_keys() const;

  /// Throws ConfigError for `dotted_key` with `problem`, naming where the key was set.
  [[noreturn]] void fail(std::string_view dotted_key, std::string_view problem) const;

  [[nodiscard]] const std::string& origin() const { return origin_; }

 private:
  const toml::node* lookup(std::string_view dotted_key);
  [[nodiscard]] std::string where(std::string_view dotted_key) const;
  template <typename T>
  void insert(std::string_view dotted_key, T value, std::string flag);

  toml::table table_;
  std::string origin_ = "defaults";
  std::set<std::string, std::less<>> used_;
  std::map<std::string, std::string, std::less<>> flag_for_key_;
};

}  // namespace sensorgate
