// sensorgate-collector label: ground truth for stored windows, one interval from flags or
// many from a CSV file. A window that came unlabelled takes the label of the interval
// holding its midpoint.
#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <memory>

#include "commands.hpp"
#include "sensorgate/collector/store.hpp"

namespace sensorgate::collector {
namespace {

struct LabelFlags {
  std::string device;
  std::optional<std::int64_t> from_ns;
  std::optional<std::int64_t> to_ns;
  std::optional<std::int32_t> value;
  std::string file;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

/// Throws std::runtime_error naming file and line.
std::vector<LabelInterval> read_label_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("cannot read {}", path.string()));
  const std::string source = path.filename().string();
  std::vector<LabelInterval> labels;
  std::string line;
  std::size_t line_no = 0;
  const auto fail = [&](const std::string& what) {
    return std::runtime_error(fmt::format("{}:{}: {}", path.string(), line_no, what));
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const auto fields = split_fields(line);
    if (line_no == 1) {
      if (fields.size() != 4 || fields[0] != "device_id" || fields[1] != "start_ns" || fields[2] != "end_ns" ||
          fields[3] != "label") {
        throw fail("the header must be device_id,start_ns,end_ns,label");
      }
      continue;
    }
    if (fields.size() != 4) throw fail(fmt::format("{} fields, expected 4", fields.size()));
    LabelInterval label;
    label.device_id = std::string(fields[0]);
    label.source = source;
    if (label.device_id.empty()) throw fail("empty device_id");
    if (!parse_number(fields[1], label.start_ns)) throw fail(fmt::format("start_ns '{}' is not an integer", fields[1]));
    if (!parse_number(fields[2], label.end_ns)) throw fail(fmt::format("end_ns '{}' is not an integer", fields[2]));
    if (!parse_number(fields[3], label.label)) throw fail(fmt::format("label '{}' is not an integer", fields[3]));
    if (label.end_ns <= label.start_ns) throw fail("end_ns must be after start_ns");
    labels.push_back(std::move(label));
  }
  if (line_no == 0) throw std::runtime_error(fmt::format("{}: empty file, expected a header", path.string()));
  return labels;
}

int run_label(const LabelFlags& flags, const CommandContext& context) {
  std::vector<LabelInterval> labels;
  if (!flags.file.empty()) {
    labels = read_label_file(flags.file);
  } else {
    if (flags.device.empty() || !flags.from_ns || !flags.to_ns || !flags.value) {
      return report_error(kExitUsage, "label: give --device, --from, --to and --value, or --file CSV");
    }
    if (*flags.to_ns <= *flags.from_ns) {
      return report_error(kExitUsage,
                          fmt::format("label: --to {} must be after --from {}", *flags.to_ns, *flags.from_ns));
    }
    labels.push_back({flags.device, *flags.from_ns, *flags.to_ns, *flags.value, "manual"});
  }
  const auto store = open_store(context.db_url);
  const auto written = store->store_labels(labels);
  fmt::print("stored {} label interval{} ({} new or changed) in {}\n", labels.size(), labels.size() == 1 ? "" : "s",
             written, store->describe());
  return 0;
}

}  // namespace

Command add_label_command(CLI::App& app, std::optional<std::string>& db) {
  auto flags = std::make_shared<LabelFlags>();
  auto* cmd = app.add_subcommand("label",
                                 "store ground-truth labels for a device over [from, to): one interval from flags "
                                 "(source \"manual\") or many from --file (source: the file's name)");
  add_db_option(*cmd, db);
  auto* device = cmd->add_option("--device", flags->device, "device id");
  auto* from = cmd->add_option("--from", flags->from_ns, "interval start, ns since the epoch");
  auto* to = cmd->add_option("--to", flags->to_ns, "interval end (exclusive), ns since the epoch");
  auto* value = cmd->add_option("--value", flags->value, "the label, an integer (0/1 for logistic regression)");
  auto* file = cmd->add_option("--file", flags->file, "CSV with the header device_id,start_ns,end_ns,label")
                   ->check(CLI::ExistingFile);
  for (auto* opt : {device, from, to, value}) file->excludes(opt);
  return {cmd, [flags](const CommandContext& context) { return run_label(*flags, context); }};
}

}  // namespace sensorgate::collector
