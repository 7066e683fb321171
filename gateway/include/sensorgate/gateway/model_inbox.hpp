#pragma once
// ModelInbox: takes the collector's commands (a signed model push, or a rollback), checks
// a pushed model (structure, SHA-256, Ed25519 signature by the collector's key, feature
// spec, payload) and puts it live in the ModelSlot in one atomic swap, so ingest and the
// workers never pause. Every command gets a ModelStatus answer, which the uplink sends
// back to the collector. A refused model is logged with its reason and counted; the model
// live before stays live. With a directory, the live and the previous envelope are kept
// there (active.sgm, previous.sgm) and verified and restored at the next start, so a
// restarted gateway classifies with the model it had.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>

#include "sensorgate/gateway/live_model.hpp"
#include "sensorgate/uplink/codec.hpp"
#include "sensorgate/uplink/model_envelope.hpp"

namespace sensorgate {

/// Written by the uplink thread, readable from any thread.
struct ModelInboxCounters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};  ///< bad signature, hash, spec or payload; no key configured
  std::atomic<std::uint64_t> rollbacks{0};
  std::atomic<std::uint32_t> active_version{0};    ///< gauge; 0: no model
  std::atomic<std::uint64_t> persist_failures{0};  ///< envelopes that could not be kept on disk
};

class ModelInbox {
 public:
  /// Without a verify key every pushed model is refused (there is nothing to trust).
  /// `directory` empty: models live in memory only.
  ModelInbox(ModelSlot& slot, std::optional<uplink::PublicKey> verify_key, std::filesystem::path directory = {})
      : slot_(slot), key_(verify_key), directory_(std::move(directory)) {}

  /// Puts the envelopes kept in the directory live again (previous first, then active),
  /// verified like a push; a file that fails is logged, counted as rejected and skipped.
  void restore();

  /// Handles one command on the caller's (the uplink) thread.
  uplink::ModelStatusRecord handle(const uplink::GatewayCommandRecord& command);

  [[nodiscard]] const ModelInboxCounters& counters() const { return counters_; }

 private:
  uplink::ModelStatusRecord refuse(std::uint32_t version, std::string reason);
  /// Verifies and installs `envelope`; the status says how it went.
  uplink::ModelStatusRecord install(const std::vector<std::uint8_t>& envelope);
  /// Keeps the envelopes on disk after a push (`envelope`) or a rollback (none).
  void persist(const std::vector<std::uint8_t>* envelope);

  ModelSlot& slot_;
  std::optional<uplink::PublicKey> key_;
  std::filesystem::path directory_;
  ModelInboxCounters counters_;
};

}  // namespace sensorgate
