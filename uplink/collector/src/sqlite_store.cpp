#include "sensorgate/collector/sqlite_store.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sqlite3.h>

#include <array>
#include <chrono>
#include <cmath>
#include <concepts>
#include <span>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "store_common.hpp"

namespace sensorgate::collector {
namespace {

using detail::kBands;
using detail::nan_to_null;
using detail::wall_clock_ns;

// Migration N (1-based) brings the schema from version N-1 to N. Never edit a shipped
// migration: append a new one. postgres_store.cpp has the same list in PostgreSQL's
// dialect; a migration added here is added there under the same number.
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
    // 5: model push. The window's label, the live model's prediction and version, and its
    // prequential accuracy, repeated on each channel row (NULL: none); ground-truth label
    // intervals; trained models; push requests; what each gateway answered. The index
    // serves load_windows' time ranges (the primary key starts with the gateway).
    R"sql(
ALTER TABLE windows ADD COLUMN label INTEGER;
ALTER TABLE windows ADD COLUMN prediction REAL;
ALTER TABLE windows ADD COLUMN model_version INTEGER;
ALTER TABLE windows ADD COLUMN prequential_accuracy REAL;
CREATE INDEX windows_by_start ON windows (window_start_ns);
CREATE TABLE labels (
  device_id TEXT    NOT NULL,
  start_ns  INTEGER NOT NULL,
  end_ns    INTEGER NOT NULL,
  label     INTEGER NOT NULL,
  source    TEXT    NOT NULL,
  stored_ns INTEGER NOT NULL,
  PRIMARY KEY (device_id, start_ns, end_ns, source)
) WITHOUT ROWID;
CREATE TABLE models (
  version       INTEGER PRIMARY KEY,
  kind          TEXT    NOT NULL CHECK (kind IN ('kmeans', 'logistic_regression', 'linear_regression')),
  feature_spec  TEXT    NOT NULL,
  created_at_ns INTEGER NOT NULL,
  envelope      BLOB    NOT NULL,
  metrics_json  TEXT    NOT NULL,
  stored_ns     INTEGER NOT NULL
);
CREATE TABLE model_pushes (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  version      INTEGER NOT NULL,
  gateway_id   TEXT    NOT NULL,
  rollback     INTEGER NOT NULL,
  requested_ns INTEGER NOT NULL,
  completed_ns INTEGER
);
CREATE TABLE model_deployments (
  gateway_id TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  status     TEXT    NOT NULL,
  detail     TEXT    NOT NULL,
  updated_ns INTEGER NOT NULL,
  PRIMARY KEY (gateway_id, version)
) WITHOUT ROWID;
)sql",
    // 6: capture mode's raw frames, one row per uplinked record: `frames` frames of
    // `channels` samples, frame-major little-endian float32 in `samples`.
    R"sql(
CREATE TABLE raw_frames (
  gateway_id     TEXT    NOT NULL,
  device_id      TEXT    NOT NULL,
  first_seq      INTEGER NOT NULL,
  first_time_ns  INTEGER NOT NULL,
  sample_rate_hz REAL    NOT NULL,
  channels       INTEGER NOT NULL,
  frames         INTEGER NOT NULL,
  samples        BLOB    NOT NULL,
  stored_ns      INTEGER NOT NULL,
  PRIMARY KEY (gateway_id, device_id, first_seq)
) WITHOUT ROWID;
)sql",
};

// Every window row with its label: the one it carried from the stream, else the label
// interval containing its midpoint (latest start first, then latest end, then source, all
// descending). That order is the labels primary key (device_id, start_ns, end_ns, source)
// read backwards, so the lookup is an index range scan that stops at the first interval
// covering the midpoint. Any other order (stored_ns, or source ascending) made SQLite sort
// every earlier label of the device for every row: quadratic, 300 s for 20,000 windows.
constexpr const char* kLoadWindows =
    "SELECT w.gateway_id, w.device_id, w.channel, w.window_start_ns, w.window_end_ns, w.count, w.min, w.max, w.mean, "
    "w.variance, w.revision, w.band_delta, w.band_theta, w.band_alpha, w.band_beta, w.band_gamma, w.anomaly_score, "
    "w.label, w.prediction, w.model_version, w.prequential_accuracy, "
    "CASE WHEN w.label IS NOT NULL THEN w.label ELSE (SELECT l.label FROM labels l WHERE l.device_id = w.device_id "
    "AND l.start_ns <= w.window_start_ns + (w.window_end_ns - w.window_start_ns) / 2 "
    "AND l.end_ns > w.window_start_ns + (w.window_end_ns - w.window_start_ns) / 2 "
    "ORDER BY l.start_ns DESC, l.end_ns DESC, l.source DESC LIMIT 1) END "
    "FROM windows w WHERE w.window_start_ns >= ?1 AND w.window_end_ns <= ?2 AND (?3 = '' OR w.gateway_id = ?3) "
    "AND (?4 IS NULL OR w.device_id IN (SELECT value FROM json_each(?4))) "
    "ORDER BY w.window_start_ns, w.gateway_id, w.device_id, w.channel";

// One row per window (its lowest channel: the model fields repeat on every channel row);
// the last reported accuracy is the newest non-NULL one of the (gateway, version).
constexpr const char* kAccuracyByModel =
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
    "FROM per_window WHERE nth = 1 GROUP BY gateway_id, model_version ORDER BY gateway_id, model_version";

}  // namespace

/// A prepared statement: binds by 1-based index, steps, reads columns; finalized on
/// destruction.
class SqliteStore::Statement {
 public:
  Statement(sqlite3* db, const std::string& path, const char* sql, bool persistent) : db_(db), path_(path) {
    if (sqlite3_prepare_v3(db, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(fmt::format("{}: prepare: {} ({})", path_, sqlite3_errmsg(db), sql));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  /// Readies the statement for new bindings (the previous ones are cleared).
  Statement& reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    return *this;
  }
  template <std::integral T>
  Statement& bind(int index, T value) {
    sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(value));
    return *this;
  }
  Statement& bind(int index, double value) {
    sqlite3_bind_double(stmt_, index, value);
    return *this;
  }
  // SQLITE_TRANSIENT: the text is copied, so temporaries can be bound.
  Statement& bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int index, std::span<const std::uint8_t> blob) {
    sqlite3_bind_blob(stmt_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    return *this;
  }
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    if (value) return bind(index, *value);
    sqlite3_bind_null(stmt_, index);
    return *this;
  }

  /// True: a row is ready; false: done. Throws naming `what` on error.
  bool step(std::string_view what) {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(fmt::format("{}: {}: {}", path_, what, sqlite3_errmsg(db_)));
  }
  /// Runs a statement that returns no rows; returns the rows it changed.
  std::uint64_t run(std::string_view what) {
    step(what);
    const auto changed = static_cast<std::uint64_t>(sqlite3_changes(db_));
    sqlite3_reset(stmt_);
    return changed;
  }

  [[nodiscard]] bool null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  [[nodiscard]] std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  [[nodiscard]] double real(int column) const { return sqlite3_column_double(stmt_, column); }
  [[nodiscard]] std::string text(int column) const {
    const auto* bytes = sqlite3_column_text(stmt_, column);
    return bytes != nullptr ? std::string(reinterpret_cast<const char*>(bytes),
                                          static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
                            : std::string();
  }
  [[nodiscard]] std::vector<std::uint8_t> blob(int column) const {
    const auto* bytes = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column));
    return bytes != nullptr ? std::vector<std::uint8_t>(bytes, bytes + size) : std::vector<std::uint8_t>();
  }
  [[nodiscard]] std::optional<double> optional_real(int column) const {
    return null(column) ? std::nullopt : std::optional<double>(real(column));
  }
  [[nodiscard]] std::optional<std::int64_t> optional_int64(int column) const {
    return null(column) ? std::nullopt : std::optional<std::int64_t>(int64(column));
  }

 private:
  sqlite3* db_;
  const std::string& path_;
  sqlite3_stmt* stmt_ = nullptr;
};

void SqliteStore::CloseDb::operator()(sqlite3* db) const {
  sqlite3_close(db);
}

SqliteStore::~SqliteStore() = default;

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
  // Switching a new file to WAL needs an exclusive lock and SQLite returns SQLITE_BUSY at
  // once, without the busy handler, while another connection opens the same file: retry
  // for as long as the busy timeout would have waited.
  for (int attempt = 0;; ++attempt) {
    const int wal = sqlite3_exec(db_.get(), "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    if (wal == SQLITE_OK) break;
    if (wal != SQLITE_BUSY || attempt == 500) exec("PRAGMA journal_mode=WAL");  // throws, with SQLite's message
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Gateways drop a message once it is acknowledged, and the collector acknowledges only
  // after COMMIT, so a commit must survive a power loss too: synchronous=FULL. Batching
  // many windows per transaction keeps the number of fsyncs low.
  exec("PRAGMA synchronous=FULL");
  migrate();
  const auto prepare = [this](const char* sql) { return std::make_unique<Statement>(db_.get(), path_, sql, true); };
  // A redelivered message changes nothing; a correction (higher revision) replaces the row.
  insert_window_ = prepare(
      "INSERT INTO windows (gateway_id, device_id, channel, window_start_ns, window_end_ns, count, min, max, mean, "
      "variance, revision, histogram, band_delta, band_theta, band_alpha, band_beta, band_gamma, stored_ns, "
      "anomaly_score, label, prediction, model_version, prequential_accuracy) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
      "?23) "
      "ON CONFLICT (gateway_id, device_id, channel, window_start_ns) DO UPDATE SET "
      "window_end_ns = excluded.window_end_ns, count = excluded.count, min = excluded.min, max = excluded.max, "
      "mean = excluded.mean, variance = excluded.variance, revision = excluded.revision, "
      "histogram = excluded.histogram, band_delta = excluded.band_delta, band_theta = excluded.band_theta, "
      "band_alpha = excluded.band_alpha, band_beta = excluded.band_beta, band_gamma = excluded.band_gamma, "
      "stored_ns = excluded.stored_ns, anomaly_score = excluded.anomaly_score, label = excluded.label, "
      "prediction = excluded.prediction, model_version = excluded.model_version, "
      "prequential_accuracy = excluded.prequential_accuracy "
      "WHERE excluded.revision > windows.revision");
  // A record is what the gateway accepted, so a redelivery holds the same frames.
  insert_raw_frames_ = prepare(
      "INSERT INTO raw_frames (gateway_id, device_id, first_seq, first_time_ns, sample_rate_hz, channels, frames, "
      "samples, stored_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
      "ON CONFLICT (gateway_id, device_id, first_seq) DO NOTHING");
  // The final report (ongoing = 0) replaces an ongoing one, and a longer ongoing report a
  // shorter one; nothing replaces a closed event, so a resent ongoing report arriving after
  // the final one changes nothing, and neither does a redelivery.
  upsert_event_ = prepare(
      "INSERT INTO anomaly_events (gateway_id, device_id, start_ns, end_ns, peak_score, peak_window_start_ns, "
      "windows, channels, ongoing, stored_ns) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
      "ON CONFLICT (gateway_id, device_id, start_ns) DO UPDATE SET "
      "end_ns = excluded.end_ns, peak_score = excluded.peak_score, "
      "peak_window_start_ns = excluded.peak_window_start_ns, windows = excluded.windows, "
      "channels = excluded.channels, ongoing = excluded.ongoing, stored_ns = excluded.stored_ns "
      "WHERE anomaly_events.ongoing = 1 AND (excluded.ongoing = 0 OR excluded.end_ns > anomaly_events.end_ns)");
  // The latest value wins; storing the same value again writes nothing, so a redelivery
  // counts no row.
  upsert_label_ = prepare(
      "INSERT INTO labels (device_id, start_ns, end_ns, label, source, stored_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT (device_id, start_ns, end_ns, source) DO UPDATE SET label = excluded.label, "
      "stored_ns = excluded.stored_ns WHERE labels.label <> excluded.label");
  delete_stream_label_ =
      prepare("DELETE FROM labels WHERE device_id = ?1 AND start_ns = ?2 AND end_ns = ?3 AND source = 'stream'");
}

void SqliteStore::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error(fmt::format("{}: {}", path_, message));
  }
}

template <typename Body>
auto SqliteStore::in_transaction(Body&& body) {
  exec("BEGIN IMMEDIATE");
  try {
    auto result = std::forward<Body>(body)();
    exec("COMMIT");
    return result;
  } catch (...) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::uint64_t SqliteStore::count(const char* sql) {
  Statement stmt(db_.get(), path_, sql, false);
  return stmt.step("count") ? static_cast<std::uint64_t>(stmt.int64(0)) : 0;
}

int SqliteStore::schema_version() {
  Statement stmt(db_.get(), path_, "PRAGMA user_version", false);
  return stmt.step("schema version") ? static_cast<int>(stmt.int64(0)) : -1;
}

std::string SqliteStore::describe() const {
  return "sqlite:" + path_;
}

void SqliteStore::migrate() {
  // One transaction per migration, the version read inside it: BEGIN IMMEDIATE takes the
  // write lock, so a second process opening the same file at the same time waits and then
  // sees the migrations already applied instead of applying them twice.
  for (;;) {
    const bool done = in_transaction([this] {
      const int current = schema_version();
      if (current > static_cast<int>(kMigrations.size())) {
        throw std::runtime_error(fmt::format("{}: schema version {} is newer than this collector knows ({})", path_,
                                             current, kMigrations.size()));
      }
      if (current == static_cast<int>(kMigrations.size())) return true;
      exec(kMigrations.at(static_cast<std::size_t>(current)));
      exec(fmt::format("PRAGMA user_version = {}", current + 1).c_str());
      return false;
    });
    if (done) return;
  }
}

std::uint64_t SqliteStore::store(std::span<const StoredWindow> windows) {
  return in_transaction([&] {
    const auto stored_ns = wall_clock_ns();
    std::uint64_t inserted = 0;
    std::string histogram;
    for (const auto& [gateway_id, w] : windows) {
      const std::size_t bins = w.histogram_edges.empty() ? 0 : w.histogram_edges.size() + 1;
      const bool has_bands = w.band_powers.size() >= w.channels.size() * kBands && !w.band_powers.empty();
      std::uint64_t written = 0;
      for (std::size_t i = 0; i < w.channels.size(); ++i) {
        const auto& c = w.channels[i];
        auto& stmt = insert_window_->reset();
        stmt.bind(1, gateway_id)
            .bind(2, w.device_id)
            .bind(3, c.channel)
            .bind(4, w.window_start_ns)
            .bind(5, w.window_end_ns)
            .bind(6, c.count)
            .bind(7, static_cast<double>(c.min))
            .bind(8, static_cast<double>(c.max))
            .bind(9, c.mean)
            .bind(10, c.variance)
            .bind(11, w.revision);
        if (bins > 0 && w.histogram_counts.size() >= (i + 1) * bins) {
          const auto counts = std::span(w.histogram_counts).subspan(i * bins, bins);
          histogram = fmt::format(R"({{"edges":[{}],"counts":[{}]}})", fmt::join(w.histogram_edges, ","),
                                  fmt::join(counts, ","));
          stmt.bind(12, histogram);
        }
        if (has_bands) {
          for (std::size_t b = 0; b < kBands; ++b) {
            stmt.bind(13 + static_cast<int>(b), static_cast<double>(w.band_powers[i * kBands + b]));
          }
        }
        stmt.bind(18, stored_ns)
            .bind(19, nan_to_null(w.anomaly_score))
            .bind(20, w.label >= 0 ? std::optional<std::int64_t>(w.label) : std::nullopt)
            .bind(21, nan_to_null(w.prediction))
            .bind(22, w.model_version > 0 ? std::optional<std::int64_t>(w.model_version) : std::nullopt)
            .bind(23, nan_to_null(w.prequential_accuracy));
        written += stmt.run("insert window");
      }
      inserted += written;
      // The stream's label follows the stored revision of its window: written with it, and
      // removed when a correction no longer carries one.
      if (written == 0) continue;
      if (w.label >= 0) {
        upsert_label_->reset()
            .bind(1, w.device_id)
            .bind(2, w.window_start_ns)
            .bind(3, w.window_end_ns)
            .bind(4, w.label)
            .bind(5, detail::kStreamSource)
            .bind(6, stored_ns)
            .run("upsert stream label");
      } else if (w.revision > 0) {
        delete_stream_label_->reset()
            .bind(1, w.device_id)
            .bind(2, w.window_start_ns)
            .bind(3, w.window_end_ns)
            .run("delete stream label");
      }
    }
    return inserted;
  });
}

std::uint64_t SqliteStore::store_raw_frames(std::span<const StoredRawFrames> records) {
  return in_transaction([&] {
    const auto stored_ns = wall_clock_ns();
    std::uint64_t written = 0;
    for (const auto& [gateway_id, r] : records) {
      const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(r.samples.data()),
                                                r.samples.size() * sizeof(float));
      if (insert_raw_frames_->reset()
              .bind(1, gateway_id)
              .bind(2, r.device_id)
              .bind(3, static_cast<std::int64_t>(r.first_seq))
              .bind(4, r.first_time_ns)
              .bind(5, r.sample_rate_hz)
              .bind(6, static_cast<std::int64_t>(r.channels))
              .bind(7, static_cast<std::int64_t>(r.frames()))
              .bind(8, bytes)
              .bind(9, stored_ns)
              .run("insert raw frames") > 0) {
        written += r.frames();
      }
    }
    return written;
  });
}

std::uint64_t SqliteStore::store_events(std::span<const StoredEvent> events) {
  return in_transaction([&] {
    const auto stored_ns = wall_clock_ns();
    std::uint64_t written = 0;
    for (const auto& [gateway_id, e] : events) {
      written += upsert_event_->reset()
                     .bind(1, gateway_id)
                     .bind(2, e.device_id)
                     .bind(3, e.start_ns)
                     .bind(4, e.end_ns)
                     .bind(5, e.peak_score)
                     .bind(6, e.peak_window_start_ns)
                     .bind(7, e.windows)
                     .bind(8, fmt::format("{}", fmt::join(e.channels, ",")))
                     .bind(9, e.ongoing ? 1 : 0)
                     .bind(10, stored_ns)
                     .run("upsert event");
    }
    return written;
  });
}

std::uint64_t SqliteStore::store_labels(std::span<const LabelInterval> labels) {
  return in_transaction([&] {
    const auto stored_ns = wall_clock_ns();
    std::uint64_t written = 0;
    for (const auto& l : labels) {
      written += upsert_label_->reset()
                     .bind(1, l.device_id)
                     .bind(2, l.start_ns)
                     .bind(3, l.end_ns)
                     .bind(4, l.label)
                     .bind(5, l.source)
                     .bind(6, stored_ns)
                     .run("upsert label");
    }
    return written;
  });
}

std::vector<LabelledWindow> SqliteStore::load_windows(const WindowQuery& query) {
  Statement stmt(db_.get(), path_, kLoadWindows, false);
  stmt.bind(1, query.from_ns).bind(2, query.to_ns).bind(3, query.gateway_id);
  if (!query.devices.empty()) stmt.bind(4, detail::json_string_array(query.devices));
  detail::WindowAssembler assembler;
  while (stmt.step("load windows")) {
    detail::WindowRow row;
    row.gateway_id = stmt.text(0);
    row.device_id = stmt.text(1);
    row.stats.channel = static_cast<std::uint16_t>(stmt.int64(2));
    row.window_start_ns = stmt.int64(3);
    row.window_end_ns = stmt.int64(4);
    row.stats.count = static_cast<std::uint64_t>(stmt.int64(5));
    row.stats.min = static_cast<float>(stmt.real(6));
    row.stats.max = static_cast<float>(stmt.real(7));
    row.stats.mean = stmt.real(8);
    row.stats.variance = stmt.real(9);
    row.revision = static_cast<std::uint32_t>(stmt.int64(10));
    for (std::size_t b = 0; b < kBands; ++b) row.bands.at(b) = stmt.optional_real(11 + static_cast<int>(b));
    row.anomaly_score = stmt.optional_real(16);
    if (!stmt.null(17)) row.label = static_cast<std::int32_t>(stmt.int64(17));
    row.prediction = stmt.optional_real(18);
    row.model_version = stmt.optional_int64(19);
    row.prequential_accuracy = stmt.optional_real(20);
    if (!stmt.null(21)) row.interval_label = static_cast<std::int32_t>(stmt.int64(21));
    assembler.add(std::move(row));
  }
  return std::move(assembler).finish();
}

std::uint32_t SqliteStore::next_model_version() {
  return static_cast<std::uint32_t>(count("SELECT COALESCE(MAX(version), 0) + 1 FROM models"));
}

std::uint32_t SqliteStore::add_model(const StoredModel& model) {
  return in_transaction([&] {
    const std::uint32_t version = next_model_version();
    if (model.version != 0 && model.version != version) {
      throw std::runtime_error(
          fmt::format("{}: model version {} is taken (the next version is {}): another add_model "
                      "came first; sign the model again with the new version",
                      path_, model.version, version));
    }
    Statement stmt(db_.get(), path_,
                   "INSERT INTO models (version, kind, feature_spec, created_at_ns, envelope, metrics_json, stored_ns) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                   false);
    stmt.bind(1, version)
        .bind(2, detail::model_kind_name(model.kind))
        .bind(3, model.feature_spec)
        .bind(4, model.created_at_ns)
        .bind(5, std::span<const std::uint8_t>(model.envelope))
        .bind(6, model.metrics_json)
        .bind(7, wall_clock_ns())
        .run("add model");
    return version;
  });
}

namespace {
constexpr const char* kSelectModels =
    "SELECT version, kind, feature_spec, created_at_ns, envelope, metrics_json FROM models";
}  // namespace

std::optional<StoredModel> SqliteStore::model(std::uint32_t version) {
  Statement stmt(db_.get(), path_, fmt::format("{} WHERE version = ?1", kSelectModels).c_str(), false);
  stmt.bind(1, version);
  if (!stmt.step("model")) return std::nullopt;
  return StoredModel{version,     detail::parse_model_kind(stmt.text(1)), stmt.text(2), stmt.int64(3), stmt.blob(4),
                     stmt.text(5)};
}

std::vector<StoredModel> SqliteStore::models() {
  Statement stmt(db_.get(), path_, fmt::format("{} ORDER BY version", kSelectModels).c_str(), false);
  std::vector<StoredModel> out;
  while (stmt.step("models")) {
    out.push_back(StoredModel{static_cast<std::uint32_t>(stmt.int64(0)), detail::parse_model_kind(stmt.text(1)),
                              stmt.text(2), stmt.int64(3), stmt.blob(4), stmt.text(5)});
  }
  return out;
}

std::int64_t SqliteStore::request_push(std::uint32_t version, const std::string& gateway_id, bool rollback) {
  Statement stmt(db_.get(), path_,
                 "INSERT INTO model_pushes (version, gateway_id, rollback, requested_ns) VALUES (?1, ?2, ?3, ?4)",
                 false);
  stmt.bind(1, version).bind(2, gateway_id).bind(3, rollback ? 1 : 0).bind(4, wall_clock_ns()).run("request push");
  return sqlite3_last_insert_rowid(db_.get());
}

std::vector<PushRequest> SqliteStore::pending_pushes() {
  Statement stmt(db_.get(), path_,
                 "SELECT id, version, gateway_id, rollback FROM model_pushes WHERE completed_ns IS NULL ORDER BY id",
                 false);
  std::vector<PushRequest> out;
  while (stmt.step("pending pushes")) {
    out.push_back(
        PushRequest{stmt.int64(0), static_cast<std::uint32_t>(stmt.int64(1)), stmt.text(2), stmt.int64(3) != 0});
  }
  return out;
}

void SqliteStore::complete_push(std::int64_t id) {
  Statement stmt(db_.get(), path_, "UPDATE model_pushes SET completed_ns = ?2 WHERE id = ?1 AND completed_ns IS NULL",
                 false);
  stmt.bind(1, id).bind(2, wall_clock_ns()).run("complete push");
}

void SqliteStore::record_deployment(const Deployment& deployment) {
  // An answer older than the stored one (a late redelivery) does not overwrite it.
  Statement stmt(db_.get(), path_,
                 "INSERT INTO model_deployments (gateway_id, version, status, detail, updated_ns) "
                 "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (gateway_id, version) DO UPDATE SET "
                 "status = excluded.status, detail = excluded.detail, updated_ns = excluded.updated_ns "
                 "WHERE excluded.updated_ns >= model_deployments.updated_ns",
                 false);
  stmt.bind(1, deployment.gateway_id)
      .bind(2, deployment.version)
      .bind(3, deployment.status)
      .bind(4, deployment.detail)
      .bind(5, deployment.updated_ns != 0 ? deployment.updated_ns : wall_clock_ns())
      .run("record deployment");
}

std::vector<Deployment> SqliteStore::deployments() {
  Statement stmt(db_.get(), path_,
                 "SELECT gateway_id, version, status, detail, updated_ns FROM model_deployments "
                 "ORDER BY gateway_id, version",
                 false);
  std::vector<Deployment> out;
  while (stmt.step("deployments")) {
    out.push_back(
        Deployment{stmt.text(0), static_cast<std::uint32_t>(stmt.int64(1)), stmt.text(2), stmt.text(3), stmt.int64(4)});
  }
  return out;
}

std::vector<ModelAccuracy> SqliteStore::accuracy_by_model() {
  Statement stmt(db_.get(), path_, kAccuracyByModel, false);
  std::vector<ModelAccuracy> out;
  while (stmt.step("accuracy by model")) {
    out.push_back(ModelAccuracy{stmt.text(0), static_cast<std::uint32_t>(stmt.int64(1)),
                                static_cast<std::uint64_t>(stmt.int64(2)), static_cast<std::uint64_t>(stmt.int64(3)),
                                stmt.optional_real(4).value_or(std::nan(""))});
  }
  return out;
}

std::uint64_t SqliteStore::count_window_rows() {
  return count("SELECT count(*) FROM windows");
}

std::uint64_t SqliteStore::count_raw_frames() {
  return count("SELECT coalesce(sum(frames), 0) FROM raw_frames");
}

std::uint64_t SqliteStore::count_event_rows() {
  return count("SELECT count(*) FROM anomaly_events");
}

std::uint64_t SqliteStore::count_label_rows() {
  return count("SELECT count(*) FROM labels");
}

}  // namespace sensorgate::collector
