#include "sensorgate/gateway/model_inbox.hpp"

#include <spdlog/spdlog.h>

namespace sensorgate {
namespace {

void bump(std::atomic<std::uint64_t>& counter) {
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

std::uint32_t active_version(const ModelSlot& slot) {
  const auto model = slot.current();
  return model ? model->version() : 0;
}

}  // namespace

uplink::ModelStatusRecord ModelInbox::refuse(std::uint32_t version, std::string reason) {
  bump(counters_.rejected);
  spdlog::error("model: refused pushed model{}: {} ({} refused so far; version {} stays live)",
                version > 0 ? " v" + std::to_string(version) : "", reason, counters_.rejected.load(),
                active_version(slot_));
  return {version, false, active_version(slot_), std::move(reason)};
}

uplink::ModelStatusRecord ModelInbox::handle(const uplink::GatewayCommandRecord& command) {
  if (command.rollback) {
    const std::uint32_t from = active_version(slot_);
    if (!slot_.rollback()) {
      spdlog::warn("model: rollback asked, but there is no previous model (v{} stays live)", from);
      return {from, false, from, "no previous model to roll back to"};
    }
    bump(counters_.rollbacks);
    const std::uint32_t to = active_version(slot_);
    counters_.active_version.store(to, std::memory_order_relaxed);
    spdlog::info("model: rolled back from v{} to v{}", from, to);
    return {from, true, to, "rolled back"};
  }
  if (!key_) return refuse(0, "no model.verify_key configured, so no pushed model can be trusted");
  std::string error;
  const auto record = uplink::verify_signed_model(command.model, *key_, "", error);
  if (!record) return refuse(uplink::claimed_model_version(command.model).value_or(0), error);
  auto model = LiveModel::from_record(*record, error);
  if (!model) return refuse(record->version, error);
  slot_.install(std::move(model));
  bump(counters_.accepted);
  counters_.active_version.store(record->version, std::memory_order_relaxed);
  spdlog::info("model: v{} ({}) live", record->version, record->feature_spec);
  return {record->version, true, record->version, ""};
}

}  // namespace sensorgate
