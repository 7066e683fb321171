#include "sensorgate/common/config_file.hpp"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <sstream>

namespace sensorgate {
namespace {

std::string describe_type(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date/time";
  }
}

}  // namespace

ConfigFile ConfigFile::load(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw ConfigError(fmt::format("{}: cannot read config file (missing or not a regular file)", path.string()));
  }
  try {
    ConfigFile file;
    file.table_ = toml::parse_file(path.string());
    file.origin_ = path.string();
    return file;
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}:{}: TOML syntax error: {}", path.string(), e.source().begin.line,
                                  e.source().begin.column, e.description()));
  }
}

ConfigFile ConfigFile::parse(std::string_view text, std::string origin) {
  try {
    ConfigFile file;
    file.table_ = toml::parse(text, origin);
    file.origin_ = std::move(origin);
    return file;
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}:{}: TOML syntax error: {}", origin, e.source().begin.line,
                                  e.source().begin.column, e.description()));
  }
}

template <typename T>
void ConfigFile::insert(std::string_view dotted_key, T value, std::string flag) {
  // Walk/create the intermediate tables, then replace the leaf.
  toml::table* table = &table_;
  std::string_view rest = dotted_key;
  for (auto dot = rest.find('.'); dot != std::string_view::npos; dot = rest.find('.')) {
    auto part = rest.substr(0, dot);
    auto [it, inserted] = table->insert(part, toml::table{});
    table = it->second.as_table();
    if (table == nullptr) {
      throw ConfigError(fmt::format("{}: key '{}' is not a table", origin_, part));
    }
    rest.remove_prefix(dot + 1);
  }
  table->insert_or_assign(rest, std::move(value));
  flag_for_key_[std::string(dotted_key)] = std::move(flag);
}

void ConfigFile::set_override(std::string_view dotted_key, std::string value, std::string flag) {
  insert(dotted_key, std::move(value), std::move(flag));
}
void ConfigFile::set_override(std::string_view dotted_key, std::int64_t value, std::string flag) {
  insert(dotted_key, value, std::move(flag));
}
void ConfigFile::set_override(std::string_view dotted_key, double value, std::string flag) {
  insert(dotted_key, value, std::move(flag));
}
void ConfigFile::set_override(std::string_view dotted_key, bool value, std::string flag) {
  insert(dotted_key, value, std::move(flag));
}

const toml::node* ConfigFile::lookup(std::string_view dotted_key) {
  used_.emplace(dotted_key);
  return table_.at_path(dotted_key).node();
}

std::string ConfigFile::where(std::string_view dotted_key) const {
  if (auto it = flag_for_key_.find(dotted_key); it != flag_for_key_.end()) {
    return fmt::format("command line ({})", it->second);
  }
  if (const auto* node = table_.at_path(dotted_key).node()) {
    return fmt::format("{}:{}", origin_, node->source().begin.line);
  }
  return origin_;
}

void ConfigFile::fail(std::string_view dotted_key, std::string_view problem) const {
  throw ConfigError(fmt::format("{}: key '{}': {}", where(dotted_key), dotted_key, problem));
}

std::string ConfigFile::get_string(std::string_view key, std::string fallback) {
  const auto* node = lookup(key);
  if (node == nullptr) return fallback;
  if (const auto* s = node->as_string()) return s->get();
  fail(key, fmt::format("expected a string, got {}", describe_type(*node)));
}

bool ConfigFile::get_bool(std::string_view key, bool fallback) {
  const auto* node = lookup(key);
  if (node == nullptr) return fallback;
  if (const auto* b = node->as_boolean()) return b->get();
  fail(key, fmt::format("expected true or false, got {}", describe_type(*node)));
}

std::int64_t ConfigFile::get_int(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max) {
  const auto* node = lookup(key);
  if (node == nullptr) return fallback;
  const auto* i = node->as_integer();
  if (i == nullptr) fail(key, fmt::format("expected an integer, got {}", describe_type(*node)));
  if (i->get() < min || i->get() > max) {
    fail(key, fmt::format("expected an integer between {} and {}, got {}", min, max, i->get()));
  }
  return i->get();
}

double ConfigFile::get_double(std::string_view key, double fallback, double min, double max) {
  const auto* node = lookup(key);
  if (node == nullptr) return fallback;
  double value = 0;
  if (const auto* f = node->as_floating_point()) {
    value = f->get();
  } else if (const auto* i = node->as_integer()) {
    value = static_cast<double>(i->get());
  } else {
    fail(key, fmt::format("expected a number, got {}", describe_type(*node)));
  }
  if (!(value >= min && value <= max)) {
    fail(key, fmt::format("expected a number between {} and {}, got {}", min, max, value));
  }
  return value;
}

std::vector<double> ConfigFile::get_number_array(std::string_view key, std::vector<double> fallback) {
  const auto* node = lookup(key);
  if (node == nullptr) return fallback;
  const auto* array = node->as_array();
  if (array == nullptr) fail(key, fmt::format("expected an array of numbers, got {}", describe_type(*node)));
  std::vector<double> values;
  for (const auto& element : *array) {
    if (const auto* f = element.as_floating_point()) {
      values.push_back(f->get());
    } else if (const auto* i = element.as_integer()) {
      values.push_back(static_cast<double>(i->get()));
    } else {
      fail(key, fmt::format("expected an array of numbers, element {} is {}", values.size(), describe_type(element)));
    }
    if (!std::isfinite(values.back())) fail(key, fmt::format("element {} is not a finite number", values.size() - 1));
  }
  return values;
}

std::string ConfigFile::get_choice(std::string_view key, std::string fallback,
                                   std::initializer_list<std::string_view> choices) {
  std::string value = get_string(key, std::move(fallback));
  for (auto choice : choices) {
    if (value == choice) return value;
  }
  fail(key, fmt::format("expected one of {}, got \"{}\"", fmt::join(choices, "|"), value));
}

void ConfigFile::reject_unknown_keys() const {
  std::function<void(const toml::table&, const std::string&)> walk = [&](const toml::table& table,
                                                                         const std::string& prefix) {
    for (const auto& [name, node] : table) {
      std::string key = prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
      if (const auto* sub = node.as_table()) {
        walk(*sub, key);
      } else if (!used_.contains(key)) {
        fail(key, "unknown key (misspelt, or not valid for this program)");
      }
    }
  };
  walk(table_, "");
}

}  // namespace sensorgate
