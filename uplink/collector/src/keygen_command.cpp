// sensorgate-collector keygen: the Ed25519 key pair that signs pushed models, or with
// --curve a CurveZMQ key pair for the uplink (the collector's, or a gateway's).
#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "commands.hpp"
#include "sensorgate/uplink/curve_security.hpp"
#include "sensorgate/uplink/model_envelope.hpp"

namespace sensorgate::collector {

Command add_keygen_command(CLI::App& app) {
  auto out = std::make_shared<std::string>();
  auto curve = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("keygen",
                                 "create the model-signing key pair: DIR/model-signing.key (secret, hex, mode 0600; "
                                 "for `train --signing-key`) and DIR/model-signing.pub (public, hex; the gateways' "
                                 "model.verify_key); never overwrites");
  cmd->add_option("--out", *out, "directory to write the two files into (created if missing)")->required();
  cmd->add_option("--curve", *curve,
                  "instead, a CurveZMQ key pair for the uplink: DIR/NAME.curve.key (secret, mode 0600) and "
                  "DIR/NAME.curve.pub; NAME is `collector` or a gateway id (docs/security.md)");
  return {cmd, [out, curve](const CommandContext&) {
            const std::filesystem::path dir(*out);
            if (!curve->empty()) {
              std::filesystem::create_directories(dir);
              uplink::write_curve_keypair(dir, *curve);
              fmt::print("wrote {} (secret, keep it on this machine) and {} (public: {})\n",
                         uplink::curve_secret_key_path(dir, *curve).string(),
                         uplink::curve_public_key_path(dir, *curve).string(),
                         *curve == "collector" ? "the gateways' uplink.curve_server_key"
                                               : "add it to the collector's allow-list with the gateway id");
              return 0;
            }
            const auto secret = dir / "model-signing.key";
            const auto pub = dir / "model-signing.pub";
            // Checked up front so a refusal leaves no half-written pair behind; the writes
            // themselves also refuse existing files (O_EXCL).
            for (const auto& file : {secret, pub}) {
              if (std::filesystem::exists(file)) {
                return report_error(kExitFailure, fmt::format("keygen: {} exists; a key is never overwritten (a "
                                                              "lost signing key means re-provisioning every gateway)",
                                                              file.string()));
              }
            }
            std::filesystem::create_directories(dir);
            const auto keys = uplink::SigningKeys::generate();
            uplink::write_signing_keys(keys, pub, secret);
            fmt::print(
                "wrote {} (secret, keep it on the collector) and {} (public, for the gateways' "
                "model.verify_key)\n",
                secret.string(), pub.string());
            return 0;
          }};
}

}  // namespace sensorgate::collector
