#pragma once
// SqliteStore: the collector's default storage, one SQLite file in WAL mode (see store.hpp
// for what each table holds and docs/storage.md for the schema). Schema changes are
// numbered migrations applied in order and recorded in PRAGMA user_version.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "sensorgate/collector/store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace sensorgate::collector {

class SqliteStore final : public Store {
 public:
  /// Opens (creating if needed) and migrates the database; throws std::runtime_error.
  explicit SqliteStore(const std::filesystem::path& path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

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
  [[nodiscard]] std::string describe() const override;

 private:
  class Statement;
  void exec(const char* sql);
  void migrate();
  /// Runs `body` between BEGIN IMMEDIATE and COMMIT; rolls back and rethrows on failure.
  template <typename Body>
  auto in_transaction(Body&& body);
  [[nodiscard]] std::uint64_t count(const char* sql);

  // The handle closes itself, also when the constructor throws half way; statements are
  // declared after it, so they are finalized first.
  struct CloseDb {
    void operator()(sqlite3* db) const;
  };
  std::string path_;
  std::unique_ptr<sqlite3, CloseDb> db_;
  std::unique_ptr<Statement> insert_window_;
  std::unique_ptr<Statement> upsert_event_;
  std::unique_ptr<Statement> insert_raw_frames_;
  std::unique_ptr<Statement> upsert_label_;
  std::unique_ptr<Statement> delete_stream_label_;
};

}  // namespace sensorgate::collector
