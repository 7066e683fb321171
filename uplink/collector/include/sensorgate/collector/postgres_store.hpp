#pragma once
// PostgresStore: the collector's storage in a PostgreSQL database (libpqxx), for several
// collectors writing to one database and for querying the data where it is kept. Same
// tables, keys and upsert rules as SqliteStore (see store.hpp and docs/storage.md); the
// migrations share their numbering and are recorded in schema_migrations. Built only with
// -DSENSORGATE_POSTGRES=ON (SENSORGATE_HAVE_POSTGRES is then defined).
//
// One connection per store, used by one thread at a time (as the collector does: its
// server thread). libpqxx reconnects on the next call after a lost connection, so a failed
// batch is left unacknowledged and the next one goes through once the server is back.

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "sensorgate/collector/store.hpp"

namespace sensorgate::collector {

class PostgresStore final : public Store {
 public:
  /// Connects to `url` (a libpq connection URI, postgresql://user@host:port/db?...) and
  /// migrates the schema; throws std::runtime_error naming the database (never its
  /// password).
  explicit PostgresStore(const std::string& url);
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  std::uint64_t store(std::span<const StoredWindow> windows) override;
  std::uint64_t store_events(std::span<const StoredEvent> events) override;
  std::uint64_t store_raw_frames(std::span<const StoredRawFrames> records) override;
  std::uint64_t store_labels(std::span<const LabelInterval> labels) override;
  [[nodiscard]] std::vector<LabelledWindow> load_windows(const WindowQuery& query) override;

  std::uint32_t add_model(const StoredModel& model) override;
  [[nodiscard]] std::uint32_t next_model_version() override;
  [[nodiscard]] std::optional<StoredModel> model(std::uint32_t version) override;
  [[nodiscard]] std::vector<StoredModel> models() override;

  std::int64_t request_push(std::uint32_t version, const std::string& gateway_id, bool rollback) override;
  [[nodiscard]] std::vector<PushRequest> pending_pushes() override;
  void complete_push(std::int64_t id) override;
  void record_deployment(const Deployment& deployment) override;
  [[nodiscard]] std::vector<Deployment> deployments() override;

  [[nodiscard]] std::vector<ModelAccuracy> accuracy_by_model() override;

  [[nodiscard]] std::uint64_t count_window_rows() override;
  [[nodiscard]] std::uint64_t count_event_rows() override;
  [[nodiscard]] std::uint64_t count_raw_frames() override;
  [[nodiscard]] std::uint64_t count_label_rows() override;
  [[nodiscard]] int schema_version() override;
  /// "postgresql:<host>:<port>/<database>".
  [[nodiscard]] std::string describe() const override;

 private:
  // libpqxx stays out of this header, so code that includes it needs no PostgreSQL headers.
  struct Impl;
  template <typename Body>
  auto guarded(const char* what, Body&& body);
  void migrate();
  [[nodiscard]] std::uint64_t count(const char* statement);

  std::string description_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sensorgate::collector
