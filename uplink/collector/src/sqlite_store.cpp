#include "sensorgate/collector/sqlite_store.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sqlite3.h>

#include <array>
#include <chrono>
#include <cmath>
#include <span>
#include <stdexcept>

namespace sensorgate::collector {
namespace {

// Migration N (1-based) brings the schema from version N-1 to N. Never edit a shipped
// migration: append a new one.
constexpr std::array kMigrations = {
    R"sql(
CREATE TABLE windows (
  gateway_id      TEXT    NOT NULL,
  device_id       TEXT    NOT NULL,
  channel         INTEGER NOT NULL,
  window_start_ns INTEGER NOT NULL,
  window_end_ns   INTEGER NOT NULL,
  count           INTEGER NOT NULL,
  min             REAL    NOT NULL,
  max             REAL    NOT NULL,
  mean            REAL    NOT NULL,
  variance        REAL    NOT NULL,
  PRIMARY KEY (gateway_id, device_id, channel, window_start_ns)
) WITHOUT ROWID;
)sql",
    // 2: corrected windows (revision), histograms (JSON: edges and counts), band powers.
    R"sql(
ALTER TABLE windows ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE windows ADD COLUMN histogram TEXT;
ALTER TABLE windows ADD COLUMN band_delta REAL;
ALTER TABLE windows ADD COLUMN band_theta REAL;
ALTER TABLE windows ADD COLUMN band_alpha REAL;
ALTER TABLE windows ADD COLUMN band_beta REAL;
ALTER TABLE windows ADD COLUMN band_gamma REAL;
)sql",
    // 3: when the collector stored the row (ns since the epoch, its wall clock), so that
    // end-to-end latency (stored_ns - window_end_ns) can be read from the data.
    R"sql(
ALTER TABLE windows ADD COLUMN stored_ns INTEGER;
)sql",
    // 4: anomaly events, one row per event (channels: comma-separated, most responsible
    // first; ongoing: 1 until the final report replaces the row), and the window's anomaly
    // score, repeated on each channel row of the window (NULL: not scored).
    R"sql(
CREATE TABLE anomaly_events (
  gateway_id           TEXT    NOT NULL,
  device_id            TEXT    NOT NULL,
  start_ns             INTEGER NOT NULL,
  end_ns               INTEGER NOT NULL,
  peak_score           REAL    NOT NULL,
  peak_window_start_ns INTEGER NOT NULL,
  windows              INTEGER NOT NULL,
  channels             TEXT    NOT NULL,
  ongoing              INTEGER NOT NULL,
  stored_ns            INTEGER NOT NULL,
  PRIMARY KEY (gateway_id, device_id, start_ns)
) WITHOUT ROWID;
ALTER TABLE windows ADD COLUMN anomaly_score REAL;
)sql",
};

constexpr std::size_t kBands = 5;

std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint64_t count_rows(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  const std::uint64_t n =
      sqlite3_step(stmt) == SQLITE_ROW ? static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 0)) : 0;
  sqlite3_finalize(stmt);
  return n;
}

}  // namespace

void SqliteStore::CloseDb::operator()(sqlite3* db) const {
  sqlite3_close(db);
}
void SqliteStore::FinalizeStmt::operator()(sqlite3_stmt* stmt) const {
  sqlite3_finalize(stmt);
}

SqliteStore::SqliteStore(const std::filesystem::path& path) : path_(path.string()) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_.reset(db);  // sqlite3_open_v2 may return a handle even when it fails
  if (rc != SQLITE_OK) {
    throw std::runtime_error(fmt::format("{}: cannot open SQLite database: {}", path_,
                                         db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
  }
  sqlite3_busy_timeout(db_.get(), 5000);
  exec("PRAGMA journal_mode=WAL");
  // Gateways drop a message once it is acknowledged, and the collector acknowledges only
  // after COMMIT, so a commit must survive a power loss too: synchronous=FULL. Batching
  // many windows per transaction keeps the number of fsyncs low.
  exec("PRAGMA synchronous=FULL");
  migrate();
  const auto prepare = [this](const char* sql, const char* what) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(fmt::format("{}: prepare {}: {}", path_, what, sqlite3_errmsg(db_.get())));
    }
    return stmt;
  };
  // A redelivered message changes nothing; a correction (higher revision) replaces the row.
  insert_window_.reset(prepare(
      "INSERT INTO windows (gateway_id, device_id, channel, window_start_ns, window_end_ns, count, min, max, mean, "
      "variance, revision, histogram, band_delta, band_theta, band_alpha, band_beta, band_gamma, stored_ns, "
      "anomaly_score) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) "
      "ON CONFLICT (gateway_id, device_id, channel, window_start_ns) DO UPDATE SET "
      "window_end_ns = excluded.window_end_ns, count = excluded.count, min = excluded.min, max = excluded.max, "
      "mean = excluded.mean, variance = excluded.variance, revision = excluded.revision, "
      "histogram = excluded.histogram, band_delta = excluded.band_delta, band_theta = excluded.band_theta, "
      "band_alpha = excluded.band_alpha, band_beta = excluded.band_beta, band_gamma = excluded.band_gamma, "
      "stored_ns = excluded.stored_ns, anomaly_score = excluded.anomaly_score "
      "WHERE excluded.revision > windows.revision",
      "insert"));
  // The final report (ongoing = 0) replaces an ongoing one, and a longer ongoing report a
  // shorter one; nothing replaces a closed event, so a resent ongoing report arriving after
  // the final one changes nothing, and neither does a redelivery.
  upsert_event_.reset(
      prepare("INSERT INTO anomaly_events (gateway_id, device_id, start_ns, end_ns, peak_score, peak_window_start_ns, "
              "windows, channels, ongoing, stored_ns) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
              "ON CONFLICT (gateway_id, device_id, start_ns) DO UPDATE SET "
              "end_ns = excluded.end_ns, peak_score = excluded.peak_score, "
              "peak_window_start_ns = excluded.peak_window_start_ns, windows = excluded.windows, "
              "channels = excluded.channels, ongoing = excluded.ongoing, stored_ns = excluded.stored_ns "
              "WHERE anomaly_events.ongoing = 1 AND (excluded.ongoing = 0 OR excluded.end_ns > anomaly_events.end_ns)",
              "upsert event"));
}

void SqliteStore::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error(fmt::format("{}: {}", path_, message));
  }
}

int SqliteStore::schema_version() {
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db_.get(), "PRAGMA user_version", -1, &stmt, nullptr);
  int version = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  return version;
}

void SqliteStore::migrate() {
  const int current = schema_version();
  if (current > static_cast<int>(kMigrations.size())) {
    throw std::runtime_error(fmt::format("{}: schema version {} is newer than this collector knows ({})", path_,
                                         current, kMigrations.size()));
  }
  for (auto v = static_cast<std::size_t>(current); v < kMigrations.size(); ++v) {
    exec("BEGIN IMMEDIATE");
    try {
      exec(kMigrations[v]);
      exec(fmt::format("PRAGMA user_version = {}", v + 1).c_str());
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
}

std::uint64_t SqliteStore::store(std::span<const StoredWindow> windows) {
  exec("BEGIN IMMEDIATE");
  const auto stored_ns = wall_clock_ns();
  std::uint64_t inserted = 0;
  try {
    std::string histogram;
    for (const auto& [gateway_id, w] : windows) {
      const std::size_t bins = w.histogram_edges.empty() ? 0 : w.histogram_edges.size() + 1;
      for (std::size_t i = 0; i < w.channels.size(); ++i) {
        const auto& c = w.channels[i];
        sqlite3_bind_text(insert_window_.get(), 1, gateway_id.data(), static_cast<int>(gateway_id.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(insert_window_.get(), 2, w.device_id.data(), static_cast<int>(w.device_id.size()),
                          SQLITE_STATIC);
        sqlite3_bind_int(insert_window_.get(), 3, c.channel);
        sqlite3_bind_int64(insert_window_.get(), 4, w.window_start_ns);
        sqlite3_bind_int64(insert_window_.get(), 5, w.window_end_ns);
        sqlite3_bind_int64(insert_window_.get(), 6, static_cast<sqlite3_int64>(c.count));
        sqlite3_bind_double(insert_window_.get(), 7, c.min);
        sqlite3_bind_double(insert_window_.get(), 8, c.max);
        sqlite3_bind_double(insert_window_.get(), 9, c.mean);
        sqlite3_bind_double(insert_window_.get(), 10, c.variance);
        sqlite3_bind_int64(insert_window_.get(), 11, w.revision);
        if (bins > 0) {
          const auto counts = std::span(w.histogram_counts).subspan(i * bins, bins);
          histogram = fmt::format(R"({{"edges":[{}],"counts":[{}]}})", fmt::join(w.histogram_edges, ","),
                                  fmt::join(counts, ","));
          sqlite3_bind_text(insert_window_.get(), 12, histogram.data(), static_cast<int>(histogram.size()),
                            SQLITE_STATIC);
        } else {
          sqlite3_bind_null(insert_window_.get(), 12);
        }
        for (std::size_t b = 0; b < kBands; ++b) {
          const int column = 13 + static_cast<int>(b);
          if (w.band_powers.empty()) {
            sqlite3_bind_null(insert_window_.get(), column);
          } else {
            sqlite3_bind_double(insert_window_.get(), column, w.band_powers[i * kBands + b]);
          }
        }
        sqlite3_bind_int64(insert_window_.get(), 18, stored_ns);
        if (std::isnan(w.anomaly_score)) {
          sqlite3_bind_null(insert_window_.get(), 19);
        } else {
          sqlite3_bind_double(insert_window_.get(), 19, w.anomaly_score);
        }
        const int rc = sqlite3_step(insert_window_.get());
        sqlite3_reset(insert_window_.get());
        if (rc != SQLITE_DONE) {
          throw std::runtime_error(fmt::format("{}: insert window: {}", path_, sqlite3_errmsg(db_.get())));
        }
        inserted += static_cast<std::uint64_t>(sqlite3_changes(db_.get()));
      }
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  return inserted;
}

std::uint64_t SqliteStore::store_events(std::span<const StoredEvent> events) {
  exec("BEGIN IMMEDIATE");
  const auto stored_ns = wall_clock_ns();
  std::uint64_t written = 0;
  try {
    std::string channels;
    for (const auto& [gateway_id, e] : events) {
      auto* stmt = upsert_event_.get();
      channels = fmt::format("{}", fmt::join(e.channels, ","));
      sqlite3_bind_text(stmt, 1, gateway_id.data(), static_cast<int>(gateway_id.size()), SQLITE_STATIC);
      sqlite3_bind_text(stmt, 2, e.device_id.data(), static_cast<int>(e.device_id.size()), SQLITE_STATIC);
      sqlite3_bind_int64(stmt, 3, e.start_ns);
      sqlite3_bind_int64(stmt, 4, e.end_ns);
      sqlite3_bind_double(stmt, 5, e.peak_score);
      sqlite3_bind_int64(stmt, 6, e.peak_window_start_ns);
      sqlite3_bind_int64(stmt, 7, e.windows);
      sqlite3_bind_text(stmt, 8, channels.data(), static_cast<int>(channels.size()), SQLITE_STATIC);
      sqlite3_bind_int(stmt, 9, e.ongoing ? 1 : 0);
      sqlite3_bind_int64(stmt, 10, stored_ns);
      const int rc = sqlite3_step(stmt);
      sqlite3_reset(stmt);
      if (rc != SQLITE_DONE) {
        throw std::runtime_error(fmt::format("{}: upsert event: {}", path_, sqlite3_errmsg(db_.get())));
      }
      written += static_cast<std::uint64_t>(sqlite3_changes(db_.get()));
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  return written;
}

std::uint64_t SqliteStore::count_window_rows() {
  return count_rows(db_.get(), "SELECT count(*) FROM windows");
}

std::uint64_t SqliteStore::count_event_rows() {
  return count_rows(db_.get(), "SELECT count(*) FROM anomaly_events");
}

}  // namespace sensorgate::collector
