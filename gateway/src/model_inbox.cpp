#include "sensorgate/gateway/model_inbox.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <iterator>

#include "sensorgate/common/counter.hpp"

namespace sensorgate {
namespace {

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

uplink::ModelStatusRecord ModelInbox::install(const std::vector<std::uint8_t>& envelope) {
  if (!key_) return refuse(0, "no model.verify_key configured, so no pushed model can be trusted");
  std::string error;
  const auto record = uplink::verify_signed_model(envelope, *key_, "", error);
  if (!record) return refuse(uplink::claimed_model_version(envelope).value_or(0), error);
  auto model = LiveModel::from_record(*record, error);
  if (!model) return refuse(record->version, error);
  slot_.install(std::move(model));
  bump(counters_.accepted);
  counters_.active_version.store(record->version, std::memory_order_relaxed);
  spdlog::info("model: v{} ({}) live", record->version, record->feature_spec);
  return {record->version, true, record->version, ""};
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
    persist(nullptr);
    return {from, true, to, "rolled back"};
  }
  auto status = install(command.model);
  if (status.accepted) persist(&command.model);
  return status;
}

void ModelInbox::persist(const std::vector<std::uint8_t>* envelope) {
  if (directory_.empty()) return;
  const auto active = directory_ / "active.sgm";
  const auto previous = directory_ / "previous.sgm";
  const auto next = directory_ / "next.sgm";
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  if (envelope != nullptr) {
    // Written aside, then renamed over: a crash leaves the old file or the new one.
    std::ofstream(next, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(envelope->data()), static_cast<std::streamsize>(envelope->size()));
    if (std::filesystem::exists(active, ec)) std::filesystem::rename(active, previous, ec);
    if (!ec) std::filesystem::rename(next, active, ec);
  } else {
    // Rollback: the two swap places.
    std::filesystem::rename(active, next, ec);
    if (!ec) std::filesystem::rename(previous, active, ec);
    if (!ec) std::filesystem::rename(next, previous, ec);
  }
  if (ec) {
    bump(counters_.persist_failures);
    spdlog::error("model: cannot keep the models in {}: {} (the live model is not affected)", directory_.string(),
                  ec.message());
  }
}

void ModelInbox::restore() {
  if (directory_.empty()) return;
  for (const char* name : {"previous.sgm", "active.sgm"}) {
    const auto path = directory_ / name;
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    const std::vector<std::uint8_t> envelope((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto status = install(envelope);
    if (status.accepted) spdlog::info("model: restored v{} from {}", status.version, path.string());
  }
}

}  // namespace sensorgate
