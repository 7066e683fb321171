#include "sensorgate/collector/store.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>

#include "sensorgate/collector/sqlite_store.hpp"
#include "store_common.hpp"
#ifdef SENSORGATE_HAVE_POSTGRES
#include "sensorgate/collector/postgres_store.hpp"
#endif

namespace sensorgate::collector {

std::unique_ptr<Store> open_store(const std::string& url) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
#ifdef SENSORGATE_HAVE_POSTGRES
    return std::make_unique<PostgresStore>(url);
#else
    throw std::runtime_error(fmt::format(
        "{}: this collector was built without PostgreSQL support (configure with -DSENSORGATE_POSTGRES=ON and "
        "libpqxx-dev installed), use a SQLite path instead",
        detail::redact_url(url)));
#endif
  }
  std::string_view path = url;
  // "sqlite:PATH"; "sqlite://PATH" too, so "sqlite:///var/lib/x.sqlite" is the absolute path.
  if (path.starts_with("sqlite:")) {
    path.remove_prefix(7);
    if (path.starts_with("//")) path.remove_prefix(2);
  }
  if (path.empty()) throw std::runtime_error(fmt::format("'{}': no SQLite database path given", url));
  if (path.find("://") != std::string_view::npos) {
    throw std::runtime_error(
        fmt::format("{}: unknown database URL scheme (expected postgresql://, postgres://, sqlite:PATH or a file path)",
                    detail::redact_url(url)));
  }
  return std::make_unique<SqliteStore>(std::filesystem::path(path));
}

namespace detail {

std::string_view model_kind_name(uplink::ModelKind kind) {
  switch (kind) {
    case uplink::ModelKind::kKMeans: return "kmeans";
    case uplink::ModelKind::kLogisticRegression: return "logistic_regression";
    case uplink::ModelKind::kLinearRegression: return "linear_regression";
  }
  throw std::runtime_error(fmt::format("unknown model kind {}", static_cast<int>(kind)));
}

uplink::ModelKind parse_model_kind(std::string_view name) {
  for (const auto kind :
       {uplink::ModelKind::kKMeans, uplink::ModelKind::kLogisticRegression, uplink::ModelKind::kLinearRegression}) {
    if (model_kind_name(kind) == name) return kind;
  }
  throw std::runtime_error(fmt::format("unknown model kind '{}' in the models table", name));
}

std::string json_string_array(const std::vector<std::string>& values) {
  return nlohmann::json(values).dump();
}

std::string redact_url(std::string_view url) {
  std::string out(url);
  // scheme://user:password@host...: the user-info part ends at the authority's last '@'.
  if (const auto scheme = out.find("://"); scheme != std::string::npos) {
    const auto authority = scheme + 3;
    const auto end = std::min(out.find_first_of("/?", authority), out.size());
    const auto at = out.rfind('@', end);
    if (at != std::string::npos && at >= authority) {
      const auto colon = out.find(':', authority);
      if (colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ...?password=...&... (libpq takes it as a parameter too).
  for (auto pos = out.find("password="); pos != std::string::npos; pos = out.find("password=", pos + 1)) {
    if (pos == 0 || (out[pos - 1] != '?' && out[pos - 1] != '&')) continue;
    const auto value = pos + 9;
    out.replace(value, std::min(out.find('&', value), out.size()) - value, "***");
  }
  return out;
}

void WindowAssembler::add(WindowRow&& row) {
  const bool same = !windows_.empty() && windows_.back().window.window_start_ns == row.window_start_ns &&
                    windows_.back().gateway_id == row.gateway_id && windows_.back().window.device_id == row.device_id;
  if (!same) {
    LabelledWindow lw;
    lw.gateway_id = std::move(row.gateway_id);
    auto& w = lw.window;
    w.device_id = std::move(row.device_id);
    w.window_start_ns = row.window_start_ns;
    w.window_end_ns = row.window_end_ns;
    w.revision = row.revision;
    // The window-level fields repeat on every channel row: the first row has them.
    w.anomaly_score = static_cast<float>(row.anomaly_score.value_or(std::nan("")));
    w.label = row.label.value_or(-1);
    w.prediction = static_cast<float>(row.prediction.value_or(std::nan("")));
    w.model_version = static_cast<std::uint32_t>(row.model_version.value_or(0));
    w.prequential_accuracy = static_cast<float>(row.prequential_accuracy.value_or(std::nan("")));
    // The label the window itself carried (the majority of its frames, from the stream)
    // is what live classification was scored against, so training uses it too; the label
    // table covers windows that came unlabelled.
    lw.label = row.label ? row.label : row.interval_label;
    windows_.push_back(std::move(lw));
    bands_complete_.push_back(true);
  }
  auto& w = windows_.back().window;
  w.channels.push_back(row.stats);
  for (const auto& band : row.bands) {
    if (!band) {
      bands_complete_.back() = false;
      break;
    }
  }
  if (bands_complete_.back()) {
    for (const auto& band : row.bands) w.band_powers.push_back(static_cast<float>(*band));
  }
}

std::vector<LabelledWindow> WindowAssembler::finish() && {
  for (std::size_t i = 0; i < windows_.size(); ++i) {
    if (!bands_complete_[i]) windows_[i].window.band_powers.clear();
  }
  return std::move(windows_);
}

}  // namespace detail
}  // namespace sensorgate::collector
