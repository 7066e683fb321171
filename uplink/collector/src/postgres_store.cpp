#include "sensorgate/collector/postgres_store.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <pqxx/pqxx>
#include <stdexcept>
#include <tuple>

#include "store_common.hpp"

namespace sensorgate::collector {
namespace {

using detail::kBands;
using detail::nan_to_null;
using detail::wall_clock_ns;

// The same migrations as SqliteStore's kMigrations, in PostgreSQL's dialect and under the
// same numbers: ns as BIGINT, REAL as DOUBLE PRECISION, BLOB as BYTEA, AUTOINCREMENT as
// BIGSERIAL. Flags stay INTEGER 0/1 as in SQLite, so queries work on both. Never edit a
// shipped migration: append a new one (to both lists).
constexpr std::array kMigrations = {
    R"sql(
CREATE TABLE windows (
  gateway_id      TEXT             NOT NULL,
  device_id       TEXT             NOT NULL,
  channel         INTEGER          NOT NULL,
  window_start_ns BIGINT           NOT NULL,
  window_end_ns   BIGINT           NOT NULL,
  count           BIGINT           NOT NULL,
  min             DOUBLE PRECISION NOT NULL,
  max             DOUBLE PRECISION NOT NULL,
  mean            DOUBLE PRECISION NOT NULL,
  variance        DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (gateway_id, device_id, channel, window_start_ns)
);
)sql",
    R"sql(
ALTER TABLE windows
  ADD COLUMN revision   BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN histogram  TEXT,
  ADD COLUMN band_delta DOUBLE PRECISION,
  ADD COLUMN band_theta DOUBLE PRECISION,
  ADD COLUMN band_alpha DOUBLE PRECISION,
  ADD COLUMN band_beta  DOUBLE PRECISION,
  ADD COLUMN band_gamma DOUBLE PRECISION;
)sql",
    R"sql(
ALTER TABLE windows ADD COLUMN stored_ns BIGINT;
)sql",
    R"sql(
CREATE TABLE anomaly_events (
  gateway_id           TEXT             NOT NULL,
  device_id            TEXT             NOT NULL,
  start_ns             BIGINT           NOT NULL,
  end_ns               BIGINT           NOT NULL,
  peak_score           DOUBLE PRECISION NOT NULL,
  peak_window_start_ns BIGINT           NOT NULL,
  windows              BIGINT           NOT NULL,
  channels             TEXT             NOT NULL,
  ongoing              INTEGER          NOT NULL,
  stored_ns            BIGINT           NOT NULL,
  PRIMARY KEY (gateway_id, device_id, start_ns)
);
ALTER TABLE windows ADD COLUMN anomaly_score DOUBLE PRECISION;
)sql",
    R"sql(
ALTER TABLE windows
  ADD COLUMN label                INTEGER,
  ADD COLUMN prediction           DOUBLE PRECISION,
  ADD COLUMN model_version        BIGINT,
  ADD COLUMN prequential_accuracy DOUBLE PRECISION;
CREATE INDEX windows_by_start ON windows (window_start_ns);
CREATE TABLE labels (
  device_id TEXT    NOT NULL,
  start_ns  BIGINT  NOT NULL,
  end_ns    BIGINT  NOT NULL,
  label     INTEGER NOT NULL,
  source    TEXT    NOT NULL,
  stored_ns BIGINT  NOT NULL,
  PRIMARY KEY (device_id, start_ns, end_ns, source)
);
CREATE TABLE models (
  version       BIGINT PRIMARY KEY,
  kind          TEXT   NOT NULL CHECK (kind IN ('kmeans', 'logistic_regression', 'linear_regression')),
  feature_spec  TEXT   NOT NULL,
  created_at_ns BIGINT NOT NULL,
  envelope      BYTEA  NOT NULL,
  metrics_json  TEXT   NOT NULL,
  stored_ns     BIGINT NOT NULL
);
CREATE TABLE model_pushes (
  id           BIGSERIAL PRIMARY KEY,
  version      BIGINT    NOT NULL,
  gateway_id   TEXT      NOT NULL,
  rollback     INTEGER   NOT NULL,
  requested_ns BIGINT    NOT NULL,
  completed_ns BIGINT
);
CREATE TABLE model_deployments (
  gateway_id TEXT   NOT NULL,
  version    BIGINT NOT NULL,
  status     TEXT   NOT NULL,
  detail     TEXT   NOT NULL,
  updated_ns BIGINT NOT NULL,
  PRIMARY KEY (gateway_id, version)
);
)sql",
    R"sql(
CREATE TABLE raw_frames (
  gateway_id     TEXT             NOT NULL,
  device_id      TEXT             NOT NULL,
  first_seq      BIGINT           NOT NULL,
  first_time_ns  BIGINT           NOT NULL,
  sample_rate_hz DOUBLE PRECISION NOT NULL,
  channels       INTEGER          NOT NULL,
  frames         INTEGER          NOT NULL,
  samples        BYTEA            NOT NULL,
  stored_ns      BIGINT           NOT NULL,
  PRIMARY KEY (gateway_id, device_id, first_seq)
);
)sql",
};

// Held (for the migrating transaction only) by every collector that starts on this
// database, so that several starting at once apply each migration once. Any constant
// does; this one is "sensorga" in ASCII.
constexpr std::int64_t kMigrationLock = 0x73656e736f726761;

// The statements, prepared once per connection (libpqxx prepares them again after a
// reconnect). Their SQL and upsert rules are SqliteStore's; see there for the reasons.
constexpr std::array<std::pair<const char*, const char*>, 21> kStatements = {{
    {"insert_raw_frames",
     "INSERT INTO raw_frames (gateway_id, device_id, first_seq, first_time_ns, sample_rate_hz, channels, frames, "
     "samples, stored_ns) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
     "ON CONFLICT (gateway_id, device_id, first_seq) DO NOTHING"},
    {"count_raw_frames", "SELECT coalesce(sum(frames), 0) FROM raw_frames"},
    {"insert_window",
     "INSERT INTO windows (gateway_id, device_id, channel, window_start_ns, window_end_ns, count, min, max, mean, "
     "variance, revision, histogram, band_delta, band_theta, band_alpha, band_beta, band_gamma, stored_ns, "
     "anomaly_score, label, prediction, model_version, prequential_accuracy) "
     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, "
     "$23) "
     "ON CONFLICT (gateway_id, device_id, channel, window_start_ns) DO UPDATE SET "
     "window_end_ns = excluded.window_end_ns, count = excluded.count, min = excluded.min, max = excluded.max, "
     "mean = excluded.mean, variance = excluded.variance, revision = excluded.revision, "
     "histogram = excluded.histogram, band_delta = excluded.band_delta, band_theta = excluded.band_theta, "
     "band_alpha = excluded.band_alpha, band_beta = excluded.band_beta, band_gamma = excluded.band_gamma, "
     "stored_ns = excluded.stored_ns, anomaly_score = excluded.anomaly_score, label = excluded.label, "
     "prediction = excluded.prediction, model_version = excluded.model_version, "
     "prequential_accuracy = excluded.prequential_accuracy "
     "WHERE excluded.revision > windows.revision"},
    {"upsert_event",
     "INSERT INTO anomaly_events (gateway_id, device_id, start_ns, end_ns, peak_score, peak_window_start_ns, "
     "windows, channels, ongoing, stored_ns) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
     "ON CONFLICT (gateway_id, device_id, start_ns) DO UPDATE SET "
     "end_ns = excluded.end_ns, peak_score = excluded.peak_score, "
     "peak_window_start_ns = excluded.peak_window_start_ns, windows = excluded.windows, "
     "channels = excluded.channels, ongoing = excluded.ongoing, stored_ns = excluded.stored_ns "
     "WHERE anomaly_events.ongoing = 1 AND (excluded.ongoing = 0 OR excluded.end_ns > anomaly_events.end_ns)"},
    {"upsert_label",
     "INSERT INTO labels (device_id, start_ns, end_ns, label, source, stored_ns) VALUES ($1, $2, $3, $4, $5, $6) "
     "ON CONFLICT (device_id, start_ns, end_ns, source) DO UPDATE SET label = excluded.label, "
     "stored_ns = excluded.stored_ns WHERE labels.label <> excluded.label"},
    {"delete_stream_label",
     "DELETE FROM labels WHERE device_id = $1 AND start_ns = $2 AND end_ns = $3 AND source = 'stream'"},
    {"load_windows",
     "SELECT w.gateway_id, w.device_id, w.channel, w.window_start_ns, w.window_end_ns, w.count, w.min, w.max, "
     "w.mean, w.variance, w.revision, w.band_delta, w.band_theta, w.band_alpha, w.band_beta, w.band_gamma, "
     "w.anomaly_score, w.label, w.prediction, w.model_version, w.prequential_accuracy, "
     "CASE WHEN w.label IS NOT NULL THEN w.label ELSE (SELECT l.label FROM labels l WHERE l.device_id = w.device_id "
     "AND l.start_ns <= w.window_start_ns + (w.window_end_ns - w.window_start_ns) / 2 "
     "AND l.end_ns > w.window_start_ns + (w.window_end_ns - w.window_start_ns) / 2 "
     "ORDER BY l.start_ns DESC, l.end_ns DESC, l.source DESC LIMIT 1) END "
     "FROM windows w WHERE w.window_start_ns >= $1 AND w.window_end_ns <= $2 AND ($3 = '' OR w.gateway_id = $3) "
     "AND ($4::jsonb IS NULL OR w.device_id IN (SELECT jsonb_array_elements_text($4::jsonb))) "
     "ORDER BY w.window_start_ns, w.gateway_id, w.device_id, w.channel"},
    {"next_model_version", "SELECT COALESCE(MAX(version), 0) + 1 FROM models"},
    {"insert_model",
     "INSERT INTO models (version, kind, feature_spec, created_at_ns, envelope, metrics_json, stored_ns) "
     "VALUES ($1, $2, $3, $4, $5, $6, $7)"},
    {"model",
     "SELECT version, kind, feature_spec, created_at_ns, envelope, metrics_json FROM models WHERE version = $1"},
    {"models",
     "SELECT version, kind, feature_spec, created_at_ns, envelope, metrics_json FROM models ORDER BY version"},
    {"request_push",
     "INSERT INTO model_pushes (version, gateway_id, rollback, requested_ns) VALUES ($1, $2, $3, $4) RETURNING id"},
    {"pending_pushes",
     "SELECT id, version, gateway_id, rollback FROM model_pushes WHERE completed_ns IS NULL ORDER BY id"},
    {"complete_push", "UPDATE model_pushes SET completed_ns = $2 WHERE id = $1 AND completed_ns IS NULL"},
    {"record_deployment",
     "INSERT INTO model_deployments (gateway_id, version, status, detail, updated_ns) VALUES ($1, $2, $3, $4, $5) "
     "ON CONFLICT (gateway_id, version) DO UPDATE SET status = excluded.status, detail = excluded.detail, "
     "updated_ns = excluded.updated_ns WHERE excluded.updated_ns >= model_deployments.updated_ns"},
    {"deployments",
     "SELECT gateway_id, version, status, detail, updated_ns FROM model_deployments ORDER BY gateway_id, version"},
    {"accuracy_by_model",
     "WITH per_window AS (SELECT gateway_id, model_version, label, prediction, "
     "ROW_NUMBER() OVER (PARTITION BY gateway_id, device_id, window_start_ns ORDER BY channel) AS nth, "
     "FIRST_VALUE(prequential_accuracy) OVER (PARTITION BY gateway_id, model_version "
     "ORDER BY prequential_accuracy IS NULL, window_start_ns DESC, device_id DESC "
     "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last_accuracy "
     "FROM windows WHERE model_version IS NOT NULL) "
     "SELECT gateway_id, model_version, "
     "SUM(CASE WHEN label IS NOT NULL AND prediction IS NOT NULL THEN 1 ELSE 0 END), "
     "SUM(CASE WHEN label IS NOT NULL AND prediction IS NOT NULL "
     "AND (CASE WHEN prediction >= 0.5 THEN 1 ELSE 0 END) = label THEN 1 ELSE 0 END), "
     "MAX(last_accuracy) "
     "FROM per_window WHERE nth = 1 GROUP BY gateway_id, model_version ORDER BY gateway_id, model_version"},
    {"count_windows", "SELECT count(*) FROM windows"},
    {"count_events", "SELECT count(*) FROM anomaly_events"},
    {"count_labels", "SELECT count(*) FROM labels"},
    {"schema_version", "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"},
}};

template <typename T>
std::optional<T> optional_field(const pqxx::field& field) {
  return field.is_null() ? std::nullopt : std::optional<T>(field.as<T>());
}

StoredModel model_from_row(const pqxx::row& row) {
  const pqxx::binarystring envelope(row[4]);
  return StoredModel{row[0].as<std::uint32_t>(),
                     detail::parse_model_kind(row[1].as<std::string>()),
                     row[2].as<std::string>(),
                     row[3].as<std::int64_t>(),
                     std::vector<std::uint8_t>(envelope.data(), envelope.data() + envelope.size()),
                     row[5].as<std::string>()};
}

/// libpq's messages end in a newline; a log line should not.
std::string trimmed(std::string_view message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.remove_suffix(1);
  return std::string(message);
}

}  // namespace

struct PostgresStore::Impl {
  explicit Impl(const std::string& url) : connection(url) {}
  pqxx::connection connection;
};

template <typename Body>
auto PostgresStore::guarded(const char* what, Body&& body) {
  try {
    return std::forward<Body>(body)();
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: {}: {}", description_, what, trimmed(e.what())));
  }
}

PostgresStore::PostgresStore(const std::string& url) : description_(detail::redact_url(url)) {
  try {
    impl_ = std::make_unique<Impl>(url);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: cannot connect to PostgreSQL: {}", description_, trimmed(e.what())));
  }
  auto& c = impl_->connection;
  const char* host = c.hostname();
  description_ = fmt::format("postgresql:{}:{}/{}", host != nullptr && *host != '\0' ? host : "localhost",
                             c.port() != nullptr ? c.port() : "", c.dbname() != nullptr ? c.dbname() : "");
  migrate();
  guarded("prepare", [&] {
    for (const auto& [name, sql] : kStatements) c.prepare(name, sql);
    return 0;
  });
}

PostgresStore::~PostgresStore() = default;

std::string PostgresStore::describe() const {
  return description_;
}

void PostgresStore::migrate() {
  guarded("migrate", [&] {
    pqxx::work tx(impl_->connection, "migrate");
    // The lock is the transaction's: released at COMMIT or ROLLBACK, also when this
    // process dies. The table is created under it so that concurrent starts do not race
    // on CREATE TABLE IF NOT EXISTS either.
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
    tx.exec0("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ns BIGINT NOT NULL)");
    const int current = tx.exec1("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0].as<int>();
    if (current > static_cast<int>(kMigrations.size())) {
      throw std::runtime_error(
          fmt::format("schema version {} is newer than this collector knows ({})", current, kMigrations.size()));
    }
    for (auto v = static_cast<std::size_t>(current); v < kMigrations.size(); ++v) {
      tx.exec(kMigrations.at(v));
      tx.exec_params0("INSERT INTO schema_migrations (version, applied_ns) VALUES ($1, $2)", static_cast<int>(v + 1),
                      wall_clock_ns());
    }
    tx.commit();
    return 0;
  });
}

std::uint64_t PostgresStore::store(std::span<const StoredWindow> windows) {
  return guarded("store windows", [&] {
    // Rows go in key order, and the labels after all windows: two collectors storing
    // overlapping batches then take their row locks in the same order and cannot deadlock.
    std::vector<std::size_t> order(windows.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    const auto key = [&](std::size_t i) {
      return std::tie(windows[i].gateway_id, windows[i].window.device_id, windows[i].window.window_start_ns);
    };
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });

    pqxx::work tx(impl_->connection, "store");
    const auto stored_ns = wall_clock_ns();
    std::uint64_t inserted = 0;
    std::vector<const uplink::WindowSummaryRecord*> written_windows;
    for (const std::size_t index : order) {
      const auto& [gateway_id, w] = windows[index];
      const std::size_t bins = w.histogram_edges.empty() ? 0 : w.histogram_edges.size() + 1;
      const bool has_bands = !w.band_powers.empty() && w.band_powers.size() >= w.channels.size() * kBands;
      std::uint64_t written = 0;
      for (std::size_t i = 0; i < w.channels.size(); ++i) {
        const auto& c = w.channels[i];
        std::optional<std::string> histogram;
        if (bins > 0 && w.histogram_counts.size() >= (i + 1) * bins) {
          const auto counts = std::span(w.histogram_counts).subspan(i * bins, bins);
          histogram = fmt::format(R"({{"edges":[{}],"counts":[{}]}})", fmt::join(w.histogram_edges, ","),
                                  fmt::join(counts, ","));
        }
        std::array<std::optional<double>, kBands> bands;
        if (has_bands) {
          for (std::size_t b = 0; b < kBands; ++b) bands.at(b) = w.band_powers[i * kBands + b];
        }
        const auto result = tx.exec_prepared(
            "insert_window", gateway_id, w.device_id, static_cast<int>(c.channel), w.window_start_ns, w.window_end_ns,
            static_cast<std::int64_t>(c.count), static_cast<double>(c.min), static_cast<double>(c.max), c.mean,
            c.variance, static_cast<std::int64_t>(w.revision), histogram, bands[0], bands[1], bands[2], bands[3],
            bands[4], stored_ns, nan_to_null(w.anomaly_score),
            w.label >= 0 ? std::optional<int>(w.label) : std::nullopt, nan_to_null(w.prediction),
            w.model_version > 0 ? std::optional<std::int64_t>(w.model_version) : std::nullopt,
            nan_to_null(w.prequential_accuracy));
        written += static_cast<std::uint64_t>(result.affected_rows());
      }
      inserted += written;
      if (written > 0 && (w.label >= 0 || w.revision > 0)) written_windows.push_back(&w);
    }
    std::stable_sort(written_windows.begin(), written_windows.end(), [](const auto* a, const auto* b) {
      return std::tie(a->device_id, a->window_start_ns, a->window_end_ns) <
             std::tie(b->device_id, b->window_start_ns, b->window_end_ns);
    });
    for (const auto* w : written_windows) {
      if (w->label >= 0) {
        tx.exec_prepared("upsert_label", w->device_id, w->window_start_ns, w->window_end_ns, w->label,
                         std::string(detail::kStreamSource), stored_ns);
      } else {
        tx.exec_prepared("delete_stream_label", w->device_id, w->window_start_ns, w->window_end_ns);
      }
    }
    tx.commit();
    return inserted;
  });
}

std::uint64_t PostgresStore::store_raw_frames(std::span<const StoredRawFrames> records) {
  return guarded("store raw frames", [&] {
    pqxx::work tx(impl_->connection, "store_raw_frames");
    const auto stored_ns = wall_clock_ns();
    std::uint64_t written = 0;
    for (const auto& [gateway_id, r] : records) {
      const pqxx::binarystring samples(r.samples.data(), r.samples.size() * sizeof(float));
      if (tx.exec_prepared("insert_raw_frames", gateway_id, r.device_id, static_cast<std::int64_t>(r.first_seq),
                           r.first_time_ns, r.sample_rate_hz, static_cast<int>(r.channels),
                           static_cast<std::int64_t>(r.frames()), samples, stored_ns)
              .affected_rows() > 0) {
        written += r.frames();
      }
    }
    tx.commit();
    return written;
  });
}

std::uint64_t PostgresStore::store_events(std::span<const StoredEvent> events) {
  return guarded("store events", [&] {
    pqxx::work tx(impl_->connection, "store_events");
    const auto stored_ns = wall_clock_ns();
    std::uint64_t written = 0;
    for (const auto& [gateway_id, e] : events) {
      written += static_cast<std::uint64_t>(
          tx.exec_prepared("upsert_event", gateway_id, e.device_id, e.start_ns, e.end_ns, e.peak_score,
                           e.peak_window_start_ns, static_cast<std::int64_t>(e.windows),
                           fmt::format("{}", fmt::join(e.channels, ",")), e.ongoing ? 1 : 0, stored_ns)
              .affected_rows());
    }
    tx.commit();
    return written;
  });
}

std::uint64_t PostgresStore::store_labels(std::span<const LabelInterval> labels) {
  return guarded("store labels", [&] {
    pqxx::work tx(impl_->connection, "store_labels");
    const auto stored_ns = wall_clock_ns();
    std::uint64_t written = 0;
    for (const auto& l : labels) {
      written += static_cast<std::uint64_t>(
          tx.exec_prepared("upsert_label", l.device_id, l.start_ns, l.end_ns, l.label, l.source, stored_ns)
              .affected_rows());
    }
    tx.commit();
    return written;
  });
}

std::vector<LabelledWindow> PostgresStore::load_windows(const WindowQuery& query) {
  return guarded("load windows", [&] {
    pqxx::read_transaction tx(impl_->connection, "load_windows");
    const std::optional<std::string> devices =
        query.devices.empty() ? std::nullopt : std::optional<std::string>(detail::json_string_array(query.devices));
    const auto result = tx.exec_prepared("load_windows", query.from_ns, query.to_ns, query.gateway_id, devices);
    detail::WindowAssembler assembler;
    for (const auto& r : result) {
      detail::WindowRow row;
      row.gateway_id = r[0].as<std::string>();
      row.device_id = r[1].as<std::string>();
      row.stats.channel = static_cast<std::uint16_t>(r[2].as<int>());
      row.window_start_ns = r[3].as<std::int64_t>();
      row.window_end_ns = r[4].as<std::int64_t>();
      row.stats.count = static_cast<std::uint64_t>(r[5].as<std::int64_t>());
      row.stats.min = static_cast<float>(r[6].as<double>());
      row.stats.max = static_cast<float>(r[7].as<double>());
      row.stats.mean = r[8].as<double>();
      row.stats.variance = r[9].as<double>();
      row.revision = static_cast<std::uint32_t>(r[10].as<std::int64_t>());
      for (std::size_t b = 0; b < kBands; ++b) {
        row.bands.at(b) = optional_field<double>(r[static_cast<pqxx::row::size_type>(11 + b)]);
      }
      row.anomaly_score = optional_field<double>(r[16]);
      row.label = optional_field<std::int32_t>(r[17]);
      row.prediction = optional_field<double>(r[18]);
      row.model_version = optional_field<std::int64_t>(r[19]);
      row.prequential_accuracy = optional_field<double>(r[20]);
      row.interval_label = optional_field<std::int32_t>(r[21]);
      assembler.add(std::move(row));
    }
    return std::move(assembler).finish();
  });
}

std::uint32_t PostgresStore::next_model_version() {
  return static_cast<std::uint32_t>(count("next_model_version"));
}

std::uint32_t PostgresStore::add_model(const StoredModel& model) {
  return guarded("add model", [&] {
    pqxx::work tx(impl_->connection, "add_model");
    const auto version = tx.exec_prepared1("next_model_version")[0].as<std::uint32_t>();
    if (model.version != 0 && model.version != version) {
      throw std::runtime_error(
          fmt::format("model version {} is taken (the next version is {}): another add_model "
                      "came first; sign the model again with the new version",
                      model.version, version));
    }
    // A concurrent add that read the same next version fails here on the primary key.
    tx.exec_prepared0("insert_model", static_cast<std::int64_t>(version),
                      std::string(detail::model_kind_name(model.kind)), model.feature_spec, model.created_at_ns,
                      pqxx::binarystring(model.envelope.data(), model.envelope.size()), model.metrics_json,
                      wall_clock_ns());
    tx.commit();
    return version;
  });
}

std::optional<StoredModel> PostgresStore::model(std::uint32_t version) {
  return guarded("model", [&]() -> std::optional<StoredModel> {
    pqxx::read_transaction tx(impl_->connection, "model");
    const auto result = tx.exec_prepared("model", static_cast<std::int64_t>(version));
    if (result.empty()) return std::nullopt;
    return model_from_row(result[0]);
  });
}

std::vector<StoredModel> PostgresStore::models() {
  return guarded("models", [&] {
    pqxx::read_transaction tx(impl_->connection, "models");
    std::vector<StoredModel> out;
    for (const auto& row : tx.exec_prepared("models")) out.push_back(model_from_row(row));
    return out;
  });
}

std::int64_t PostgresStore::request_push(std::uint32_t version, const std::string& gateway_id, bool rollback) {
  return guarded("request push", [&] {
    pqxx::work tx(impl_->connection, "request_push");
    const auto id = tx.exec_prepared1("request_push", static_cast<std::int64_t>(version), gateway_id, rollback ? 1 : 0,
                                      wall_clock_ns())[0]
                        .as<std::int64_t>();
    tx.commit();
    return id;
  });
}

std::vector<PushRequest> PostgresStore::pending_pushes() {
  return guarded("pending pushes", [&] {
    pqxx::read_transaction tx(impl_->connection, "pending_pushes");
    std::vector<PushRequest> out;
    for (const auto& row : tx.exec_prepared("pending_pushes")) {
      out.push_back(PushRequest{row[0].as<std::int64_t>(), row[1].as<std::uint32_t>(), row[2].as<std::string>(),
                                row[3].as<int>() != 0});
    }
    return out;
  });
}

void PostgresStore::complete_push(std::int64_t id) {
  guarded("complete push", [&] {
    pqxx::work tx(impl_->connection, "complete_push");
    tx.exec_prepared0("complete_push", id, wall_clock_ns());
    tx.commit();
    return 0;
  });
}

void PostgresStore::record_deployment(const Deployment& deployment) {
  guarded("record deployment", [&] {
    pqxx::work tx(impl_->connection, "record_deployment");
    tx.exec_prepared0("record_deployment", deployment.gateway_id, static_cast<std::int64_t>(deployment.version),
                      deployment.status, deployment.detail,
                      deployment.updated_ns != 0 ? deployment.updated_ns : wall_clock_ns());
    tx.commit();
    return 0;
  });
}

std::vector<Deployment> PostgresStore::deployments() {
  return guarded("deployments", [&] {
    pqxx::read_transaction tx(impl_->connection, "deployments");
    std::vector<Deployment> out;
    for (const auto& row : tx.exec_prepared("deployments")) {
      out.push_back(Deployment{row[0].as<std::string>(), row[1].as<std::uint32_t>(), row[2].as<std::string>(),
                               row[3].as<std::string>(), row[4].as<std::int64_t>()});
    }
    return out;
  });
}

std::vector<ModelAccuracy> PostgresStore::accuracy_by_model() {
  return guarded("accuracy by model", [&] {
    pqxx::read_transaction tx(impl_->connection, "accuracy_by_model");
    std::vector<ModelAccuracy> out;
    for (const auto& row : tx.exec_prepared("accuracy_by_model")) {
      out.push_back(ModelAccuracy{row[0].as<std::string>(), row[1].as<std::uint32_t>(), row[2].as<std::uint64_t>(),
                                  row[3].as<std::uint64_t>(), optional_field<double>(row[4]).value_or(std::nan(""))});
    }
    return out;
  });
}

std::uint64_t PostgresStore::count(const char* statement) {
  return guarded(statement, [&] {
    pqxx::read_transaction tx(impl_->connection, statement);
    return tx.exec_prepared1(statement)[0].as<std::uint64_t>();
  });
}

std::uint64_t PostgresStore::count_window_rows() {
  return count("count_windows");
}

std::uint64_t PostgresStore::count_raw_frames() {
  return count("count_raw_frames");
}

std::uint64_t PostgresStore::count_event_rows() {
  return count("count_events");
}

std::uint64_t PostgresStore::count_label_rows() {
  return count("count_labels");
}

int PostgresStore::schema_version() {
  return static_cast<int>(count("schema_version"));
}

}  // namespace sensorgate::collector
