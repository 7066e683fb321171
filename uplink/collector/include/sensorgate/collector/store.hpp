#pragma once
// Store: the collector's storage, one interface with two backends that share one schema
// and one list of versioned migrations: SqliteStore (default, embedded, WAL) and
// PostgresStore (libpqxx; several collectors may write to one database). Every write is
// idempotent, so at-least-once delivery stores everything exactly once:
//   windows        keyed by (gateway_id, device_id, channel, window_start_ns); a higher
//                  revision replaces a row, anything else is a duplicate
//   anomaly_events keyed by (gateway_id, device_id, start_ns); a final report replaces an
//                  ongoing one, nothing replaces a closed one
//   raw_frames     keyed by (gateway_id, device_id, first_seq): capture mode's frames
//   labels         keyed by (device_id, start_ns, end_ns, source); the latest value wins
//                  (storing the value already there writes nothing)
//   models         keyed by version (assigned by the store, 1, 2, ...)
//   model_pushes   push requests (a version to one gateway or to all), for the server
//   model_deployments keyed by (gateway_id, version): what each gateway answered; an
//                  answer older (updated_ns) than the stored one does not replace it
// Methods throw std::runtime_error (naming the database, never its password) on failure
// and roll back. A store is used by one thread at a time; docs/storage.md has the schema.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sensorgate/uplink/model_envelope.hpp"
#include "sensorgate/uplink/records.hpp"

namespace sensorgate::collector {

struct StoredWindow {
  std::string gateway_id;
  uplink::WindowSummaryRecord window;
};

struct StoredEvent {
  std::string gateway_id;
  uplink::AnomalyEventRecord event;
};

struct StoredRawFrames {
  std::string gateway_id;
  uplink::RawFramesRecord frames;
};

/// Ground truth for a device's stream over [start_ns, end_ns): from a window that carried a
/// label (source "stream") or from `sensorgate-collector label` (source "manual" or a file).
struct LabelInterval {
  std::string device_id;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::int32_t label = 0;
  std::string source = "manual";
};

/// Which windows to read back for training.
struct WindowQuery {
  std::int64_t from_ns = INT64_MIN;  ///< windows starting at or after
  std::int64_t to_ns = INT64_MAX;    ///< ...and ending at or before
  std::vector<std::string> devices;  ///< empty: every device
  std::string gateway_id;            ///< empty: every gateway
};

/// A stored window reassembled from its channel rows (channels in channel order), with
/// its label: the one the window carried from the stream (window.label, the majority of its
/// frames, which live accuracy is scored against), else that of the label interval
/// containing the window's midpoint (when several do, the one with the latest start, then
/// the one ending latest; none: nullopt). Band
/// powers come back when every channel row has them; histograms are not read back (they
/// are stored as JSON text for queries, and training does not use them).
struct LabelledWindow {
  std::string gateway_id;
  uplink::WindowSummaryRecord window;
  std::optional<std::int32_t> label;
};

struct StoredModel {
  std::uint32_t version = 0;
  uplink::ModelKind kind = uplink::ModelKind::kLogisticRegression;
  std::string feature_spec;
  std::int64_t created_at_ns = 0;
  std::vector<std::uint8_t> envelope;  ///< the signed envelope, exactly as pushed
  std::string metrics_json;            ///< test metrics from training, e.g. {"accuracy":0.9}
};

/// A request to push `version` to `gateway_id` ("*": every gateway that connects).
struct PushRequest {
  std::int64_t id = 0;
  std::uint32_t version = 0;
  std::string gateway_id;
  bool rollback = false;  ///< true: ask the gateway to go back to its previous model instead
};

/// What a gateway answered for a version: "sent" (pushed, no answer yet), "active",
/// "rejected" or "rolled_back".
struct Deployment {
  std::string gateway_id;
  std::uint32_t version = 0;
  std::string status;
  std::string detail;
  std::int64_t updated_ns = 0;
};

/// Live accuracy per (gateway, model version), from the windows' prequential fields.
struct ModelAccuracy {
  std::string gateway_id;
  std::uint32_t model_version = 0;
  std::uint64_t labelled_windows = 0;  ///< windows with a label and a prediction
  std::uint64_t correct = 0;           ///< ...whose prediction (p >= 0.5) matched the label
  /// As the gateway reported it on its latest window that had one; NaN: none did.
  double last_prequential_accuracy = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// Stores the windows in one transaction (and each labelled window's label, source
  /// "stream", [window_start_ns, window_end_ns); a correction without a label removes it);
  /// returns how many channel rows were written (new, or a higher revision).
  virtual std::uint64_t store(std::span<const StoredWindow> windows) = 0;
  /// Stores the events in one transaction; returns how many rows were written.
  virtual std::uint64_t store_events(std::span<const StoredEvent> events) = 0;
  /// Stores captured frames in one transaction (samples as little-endian float32 bytes);
  /// returns how many frames were new (a redelivered record changes nothing).
  virtual std::uint64_t store_raw_frames(std::span<const StoredRawFrames> records) = 0;
  /// Stores label intervals in one transaction; returns how many rows were written.
  virtual std::uint64_t store_labels(std::span<const LabelInterval> labels) = 0;
  /// Windows matching `query`, ordered by (window_start_ns, gateway_id, device_id).
  [[nodiscard]] virtual std::vector<LabelledWindow> load_windows(const WindowQuery& query) = 0;

  /// Stores a model under the next version number and returns it. The envelope must
  /// already carry that version, so callers sign with next_model_version() and pass it as
  /// `model.version`: when another add took it meanwhile, this throws (sign again). With
  /// `model.version` 0 the store just takes the next version.
  virtual std::uint32_t add_model(const StoredModel& model) = 0;
  [[nodiscard]] virtual std::uint32_t next_model_version() = 0;
  [[nodiscard]] virtual std::optional<StoredModel> model(std::uint32_t version) = 0;
  [[nodiscard]] virtual std::vector<StoredModel> models() = 0;

  /// Queues a push (or, with rollback, a rollback) for the running collector to deliver.
  virtual std::int64_t request_push(std::uint32_t version, const std::string& gateway_id, bool rollback) = 0;
  /// Requests not yet answered by every gateway they name (for "*": kept until removed).
  [[nodiscard]] virtual std::vector<PushRequest> pending_pushes() = 0;
  /// Marks a request done (a single gateway answered, or it was superseded); again: no-op.
  virtual void complete_push(std::int64_t id) = 0;
  /// Inserts or updates (gateway_id, version); updated_ns 0: the store's clock.
  virtual void record_deployment(const Deployment& deployment) = 0;
  [[nodiscard]] virtual std::vector<Deployment> deployments() = 0;

  /// Ordered by (gateway, model version); a window counts once, not once per channel row.
  [[nodiscard]] virtual std::vector<ModelAccuracy> accuracy_by_model() = 0;

  [[nodiscard]] virtual std::uint64_t count_window_rows() = 0;
  [[nodiscard]] virtual std::uint64_t count_event_rows() = 0;
  [[nodiscard]] virtual std::uint64_t count_label_rows() = 0;
  /// Frames stored in raw_frames (the sum of the records' frame counts).
  [[nodiscard]] virtual std::uint64_t count_raw_frames() = 0;
  /// The highest migration applied (the same numbers on both backends).
  [[nodiscard]] virtual int schema_version() = 0;
  /// "sqlite:<path>" or "postgresql:<host:port/db>", for logs.
  [[nodiscard]] virtual std::string describe() const = 0;
};

/// Opens the store a URL names: "postgresql://..." (or "postgres://...") is PostgreSQL,
/// anything else a SQLite file path (also "sqlite:PATH"). Throws std::runtime_error.
std::unique_ptr<Store> open_store(const std::string& url);

}  // namespace sensorgate::collector
