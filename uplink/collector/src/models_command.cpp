// sensorgate-collector models: what was trained, where it went, how it does live.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <memory>

#include "commands.hpp"
#include "sensorgate/collector/store.hpp"

namespace sensorgate::collector {
namespace {

using Row = std::vector<std::string>;

void print_table(const std::string& title, const Row& header, const std::vector<Row>& rows) {
  fmt::print("{}\n", title);
  if (rows.empty()) {
    fmt::print("  (none)\n\n");
    return;
  }
  std::vector<std::size_t> widths(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    widths[c] = header[c].size();
    for (const auto& row : rows) widths[c] = std::max(widths[c], row[c].size());
  }
  const auto print_row = [&](const Row& row) {
    std::string line = " ";
    for (std::size_t c = 0; c < row.size(); ++c) {
      // The last column (free text) is not padded, so lines carry no trailing blanks.
      line += c + 1 == row.size() ? " " + row[c] : fmt::format(" {:<{}}", row[c], widths[c]);
    }
    fmt::print("{}\n", line);
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
  fmt::print("\n");
}

std::string kind_name(uplink::ModelKind kind) {
  switch (kind) {
    case uplink::ModelKind::kKMeans: return "kmeans";
    case uplink::ModelKind::kLogisticRegression: return "logistic";
    case uplink::ModelKind::kLinearRegression: return "linear";
  }
  return "unknown";
}

/// The test metrics (or, without a test part, the train ones) as "name=value ...".
std::string summarise_metrics(const std::string& json_text) {
  const auto json = nlohmann::json::parse(json_text, nullptr, false);
  if (!json.is_object()) return json_text;
  const bool has_test = json.value("test_rows", 0) > 0;
  const std::string prefix = has_test ? "test_" : "train_";
  std::string out = fmt::format("{}={}", has_test ? "test_rows" : "train_rows", json.value(prefix + "rows", 0));
  for (const auto& [key, value] : json.items()) {
    if (!key.starts_with(prefix) || key == prefix + "rows") continue;
    const std::string name = key.substr(prefix.size());
    out += value.is_number() ? fmt::format(" {}={:.4g}", name, value.get<double>()) : fmt::format(" {}=-", name);
  }
  return out;
}

}  // namespace

Command add_models_command(CLI::App& app, std::optional<std::string>& db) {
  auto* cmd = app.add_subcommand("models", "list stored models, their deployments and their live accuracy");
  add_db_option(*cmd, db);
  return {
      cmd, [](const CommandContext& context) {
        const auto store = open_store(context.db_url);
        std::vector<Row> models;
        for (const auto& m : store->models()) {
          models.push_back({fmt::format("v{}", m.version), kind_name(m.kind), m.feature_spec,
                            format_time_ns(m.created_at_ns), summarise_metrics(m.metrics_json)});
        }
        print_table("models", {"version", "kind", "feature spec", "created (UTC)", "metrics"}, models);
        std::vector<Row> deployments;
        for (const auto& d : store->deployments()) {
          deployments.push_back(
              {d.gateway_id, fmt::format("v{}", d.version), d.status, format_time_ns(d.updated_ns), d.detail});
        }
        print_table("deployments", {"gateway", "version", "status", "updated (UTC)", "detail"}, deployments);
        std::vector<Row> accuracy;
        for (const auto& a : store->accuracy_by_model()) {
          const double share =
              a.labelled_windows > 0 ? static_cast<double>(a.correct) / static_cast<double>(a.labelled_windows) : 0.0;
          accuracy.push_back({a.gateway_id, fmt::format("v{}", a.model_version), std::to_string(a.labelled_windows),
                              std::to_string(a.correct), a.labelled_windows > 0 ? fmt::format("{:.4f}", share) : "-",
                              std::isnan(a.last_prequential_accuracy)
                                  ? std::string("-")
                                  : fmt::format("{:.4f}", a.last_prequential_accuracy)});
        }
        print_table("live accuracy",
                    {"gateway", "version", "labelled windows", "correct", "accuracy", "last prequential"}, accuracy);
        return 0;
      }};
}

}  // namespace sensorgate::collector
