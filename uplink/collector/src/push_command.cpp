// sensorgate-collector push / rollback: requests the running collector delivers to
// gateways when they next talk to it (the store is the queue, so this works while the
// server runs in another process).
#include <fmt/format.h>

#include <memory>

#include "commands.hpp"
#include "sensorgate/collector/store.hpp"

namespace sensorgate::collector {

Command add_push_command(CLI::App& app, std::optional<std::string>& db) {
  struct Flags {
    std::uint32_t version = 0;
    std::string gateway = "*";
  };
  auto flags = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand("push", "queue a push of a stored model version to a gateway (or every gateway)");
  add_db_option(*cmd, db);
  cmd->add_option("--version", flags->version, "model version (see `models`)")->required()->check(CLI::PositiveNumber);
  cmd->add_option("--gateway", flags->gateway, "gateway id, or * for every gateway that connects")
      ->capture_default_str();
  return {cmd, [flags](const CommandContext& context) {
            const auto store = open_store(context.db_url);
            if (!store->model(flags->version)) {
              return report_error(kExitFailure,
                                  fmt::format("push: no model v{} in {} (see `sensorgate-collector models`)",
                                              flags->version, store->describe()));
            }
            const auto id = store->request_push(flags->version, flags->gateway, false);
            fmt::print("queued push of v{} to {} (request {})\n", flags->version,
                       flags->gateway == "*" ? std::string("every gateway") : "gateway " + flags->gateway, id);
            return 0;
          }};
}

Command add_rollback_command(CLI::App& app, std::optional<std::string>& db) {
  auto gateway = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("rollback", "queue a rollback: the gateway goes back to the model it had before");
  add_db_option(*cmd, db);
  cmd->add_option("--gateway", *gateway, "gateway id (one gateway: each has its own previous model)")->required();
  return {cmd, [gateway](const CommandContext& context) {
            if (*gateway == "*" || gateway->empty()) {
              return report_error(kExitUsage, "rollback: --gateway must name one gateway");
            }
            const auto store = open_store(context.db_url);
            const auto id = store->request_push(0, *gateway, true);
            fmt::print("queued rollback of gateway {} (request {})\n", *gateway, id);
            return 0;
          }};
}

}  // namespace sensorgate::collector
