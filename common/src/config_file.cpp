#include "sensorgate/common/config_file.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
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

/// A float as TOML writes it: always with a fraction or an exponent, so it reads back as a float.
std::string toml_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

/// A key name as TOML writes it: bare when it can be, quoted otherwise.
std::string toml_key(std::string_view name) {
  const bool bare = !name.empty() && std::ranges::all_of(name, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
  return bare ? std::string(name) : toml_string(name);
}

std::string toml_value(const ConfigValue& value) {
  struct Visitor {
    std::string operator()(const std::string& s) const { return toml_string(s); }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return toml_float(d); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(const std::vector<double>& values) const {
      std::vector<std::string> parts;
      parts.reserve(values.size());
      for (const double d : values) parts.push_back(toml_float(d));
      return fmt::format("[{}]", fmt::join(parts, ", "));
    }
  };
  return std::visit(Visitor{}, value);
}

/// A bound in words: integers as they are, floats without a forced ".0".
std::string bound_text(const ConfigValue& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return fmt::format("{}", *d);
  return toml_value(value);
}

bool is_unbounded(const ConfigValue& value, bool is_min) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) {
    return *i == (is_min ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max());
  }
  if (const auto* d = std::get_if<double>(&value)) return std::isinf(*d);
  return false;
}

/// "integer, 1 to 3600", "choice: a|b", ...: what follows a key's doc line.
std::string describe_schema(const ConfigKeySchema& entry) {
  std::string text(to_string(entry.type));
  if (entry.type == ConfigKeySchema::Type::kChoice) return fmt::format("choice: {}", fmt::join(entry.choices, "|"));
  if (entry.min && entry.max) {
    const bool no_min = is_unbounded(*entry.min, true);
    const bool no_max = is_unbounded(*entry.max, false);
    if (no_min && !no_max) {
      text += ", <= " + bound_text(*entry.max);
    } else if (!no_min && no_max) {
      text += ", >= " + bound_text(*entry.min);
    } else if (!no_min && !no_max) {
      text += fmt::format(", {} to {}", bound_text(*entry.min), bound_text(*entry.max));
    }
  }
  return text;
}

nlohmann::ordered_json to_json(const ConfigValue& value) {
  return std::visit([](const auto& v) { return nlohmann::ordered_json(v); }, value);
}

}  // namespace

std::string_view to_string(ConfigKeySchema::Type type) {
  switch (type) {
    case ConfigKeySchema::Type::kString: return "string";
    case ConfigKeySchema::Type::kInteger: return "integer";
    case ConfigKeySchema::Type::kFloat: return "float";
    case ConfigKeySchema::Type::kBoolean: return "boolean";
    case ConfigKeySchema::Type::kChoice: return "choice";
    case ConfigKeySchema::Type::kNumberArray: return "number array";
  }
  return "string";
}

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

void ConfigFile::fail_at(const toml::node& node, std::string_view dotted_key, std::string_view problem) const {
  if (flag_for_key_.contains(dotted_key)) fail(dotted_key, problem);
  throw ConfigError(fmt::format("{}:{}: key '{}': {}", origin_, node.source().begin.line, dotted_key, problem));
}

ConfigKeySchema* ConfigFile::record(std::string_view key, ConfigKeySchema::Type type, ConfigValue fallback,
                                    const KeyDoc& doc) {
  if (std::ranges::any_of(schema_, [&](const ConfigKeySchema& known) { return known.key == key; })) return nullptr;
  ConfigKeySchema& entry = schema_.emplace_back();
  entry.key = key;
  entry.type = type;
  entry.fallback = std::move(fallback);
  entry.doc = doc.doc;
  entry.default_note = doc.default_note;
  return &entry;
}

std::string ConfigFile::read_string(std::string_view key, std::string fallback) {
  const auto* node = lookup(key);
  if (node == nullptr) return fallback;
  if (const auto* s = node->as_string()) return s->get();
  fail(key, fmt::format("expected a string, got {}", describe_type(*node)));
}

std::string ConfigFile::get_string(std::string_view key, std::string fallback, KeyDoc doc) {
  record(key, ConfigKeySchema::Type::kString, fallback, doc);
  return read_string(key, std::move(fallback));
}

bool ConfigFile::get_bool(std::string_view key, bool fallback, KeyDoc doc) {
  record(key, ConfigKeySchema::Type::kBoolean, fallback, doc);
  const auto* node = lookup(key);
  if (node == nullptr) return fallback;
  if (const auto* b = node->as_boolean()) return b->get();
  fail(key, fmt::format("expected true or false, got {}", describe_type(*node)));
}

std::int64_t ConfigFile::get_int(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max,
                                 KeyDoc doc) {
  if (auto* entry = record(key, ConfigKeySchema::Type::kInteger, fallback, doc)) {
    entry->fallback_valid = fallback >= min && fallback <= max;
    entry->min = min;
    entry->max = max;
  }
  const auto* node = lookup(key);
  if (node == nullptr) return fallback;
  const auto* i = node->as_integer();
  if (i == nullptr) fail(key, fmt::format("expected an integer, got {}", describe_type(*node)));
  if (i->get() < min || i->get() > max) {
    fail(key, fmt::format("expected an integer between {} and {}, got {}", min, max, i->get()));
  }
  return i->get();
}

double ConfigFile::get_double(std::string_view key, double fallback, double min, double max, KeyDoc doc) {
  if (auto* entry = record(key, ConfigKeySchema::Type::kFloat, fallback, doc)) {
    entry->fallback_valid = fallback >= min && fallback <= max;
    entry->min = min;
    entry->max = max;
  }
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

std::vector<double> ConfigFile::get_number_array(std::string_view key, std::vector<double> fallback, KeyDoc doc) {
  record(key, ConfigKeySchema::Type::kNumberArray, fallback, doc);
  const auto* node = lookup(key);
  if (node == nullptr) return fallback;
  const auto* array = node->as_array();
  if (array == nullptr) fail(key, fmt::format("expected an array of numbers, got {}", describe_type(*node)));
  std::vector<double> values;
  for (const auto& element : *array) {
    // An element's own line: a long array spans several.
    if (const auto* f = element.as_floating_point()) {
      values.push_back(f->get());
    } else if (const auto* i = element.as_integer()) {
      values.push_back(static_cast<double>(i->get()));
    } else {
      fail_at(element, key,
              fmt::format("expected an array of numbers, element {} is {}", values.size(), describe_type(element)));
    }
    if (!std::isfinite(values.back())) {
      fail_at(element, key, fmt::format("element {} is not a finite number", values.size() - 1));
    }
  }
  return values;
}

std::string ConfigFile::get_choice(std::string_view key, std::string fallback,
                                   std::initializer_list<std::string_view> choices, KeyDoc doc) {
  if (auto* entry = record(key, ConfigKeySchema::Type::kChoice, fallback, doc)) {
    entry->fallback_valid = std::ranges::find(choices, std::string_view(fallback)) != choices.end();
    entry->choices.assign(choices.begin(), choices.end());
  }
  std::string value = read_string(key, std::move(fallback));
  for (auto choice : choices) {
    if (value == choice) return value;
  }
  fail(key, fmt::format("expected one of {}, got \"{}\"", fmt::join(choices, "|"), value));
}

void ConfigFile::reject_unknown_keys() const {
  // A quoted name with a dot ("mqtt.url" = ...) is one key, not the path the program reads,
  // so it is unknown too; an empty table is unknown unless the program reads keys under it
  // (a [section] whose keys are all commented out is fine).
  const auto read_under = [&](const std::string& table) {
    const std::string prefix = table + ".";
    return std::ranges::any_of(used_, [&](const std::string& key) { return key.starts_with(prefix); });
  };
  std::function<void(const toml::table&, const std::string&)> walk = [&](const toml::table& table,
                                                                         const std::string& prefix) {
    for (const auto& [name, node] : table) {
      std::string key = prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
      const bool addressable = name.str().find_first_of(".[]") == std::string_view::npos;
      if (const auto* sub = node.as_table(); sub != nullptr && addressable) {
        if (sub->empty() && !read_under(key))
          fail_at(node, key, "unknown table (misspelt, or not valid for this program)");
        walk(*sub, key);
      } else if (!addressable || !used_.contains(key)) {
        fail_at(node, key, "unknown key (misspelt, or not valid for this program)");
      }
    }
  };
  walk(table_, "");
}

std::string ConfigFile::default_config_toml(std::string_view program) const {
  // Tables in the order their first key was read, keys in reading order within each.
  std::vector<std::pair<std::string, std::vector<const ConfigKeySchema*>>> tables;
  for (const auto& entry : schema_) {
    const auto dot = entry.key.rfind('.');
    const std::string table = dot == std::string::npos ? std::string() : entry.key.substr(0, dot);
    auto it = std::ranges::find(tables, table, &std::pair<std::string, std::vector<const ConfigKeySchema*>>::first);
    if (it == tables.end()) it = tables.insert(table.empty() ? tables.begin() : tables.end(), {table, {}});
    it->second.push_back(&entry);
  }
  std::string out = fmt::format(
      "# {0} configuration: every key with its default (`{0} --print-default-config`).\n"
      "# Keys whose default depends on the machine or on other keys are commented out.\n"
      "# Check a file with `{0} --config FILE --check-config`; docs/configuration.md explains.\n",
      program);
  for (const auto& [table, entries] : tables) {
    out += "\n";
    if (!table.empty()) out += fmt::format("[{}]\n", table);
    for (const auto* entry : entries) {
      const std::string name = toml_key(entry->key.substr(table.empty() ? 0 : table.size() + 1));
      out += entry->doc.empty() ? fmt::format("# ({})\n", describe_schema(*entry))
                                : fmt::format("# {} ({})\n", entry->doc, describe_schema(*entry));
      if (!entry->default_note.empty()) out += fmt::format("# Default: {}\n", entry->default_note);
      if (!entry->fallback_valid) {
        out += fmt::format("# {} =\n", name);
      } else if (!entry->default_note.empty()) {
        out += fmt::format("# {} = {}\n", name, toml_value(entry->fallback));
      } else {
        out += fmt::format("{} = {}\n", name, toml_value(entry->fallback));
      }
    }
  }
  return out;
}

std::string ConfigFile::schema_json(std::string_view program) const {
  auto keys = nlohmann::ordered_json::array();
  for (const auto& entry : schema_) {
    nlohmann::ordered_json key;
    key["key"] = entry.key;
    key["type"] = to_string(entry.type);
    key["default"] = entry.fallback_valid ? to_json(entry.fallback) : nlohmann::ordered_json(nullptr);
    if (entry.min) key["min"] = to_json(*entry.min);
    if (entry.max) key["max"] = to_json(*entry.max);
    if (!entry.choices.empty()) key["choices"] = entry.choices;
    key["doc"] = entry.doc;
    if (!entry.default_note.empty()) key["default_note"] = entry.default_note;
    keys.push_back(std::move(key));
  }
  nlohmann::ordered_json document;
  document["program"] = program;
  document["keys"] = std::move(keys);
  return document.dump(2) + "\n";
}

}  // namespace sensorgate
