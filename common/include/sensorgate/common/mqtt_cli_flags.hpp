#pragma once
// MqttCliFlags: the MQTT connection flags that sensorgate-gateway and sensorgate-sim share
// (--mqtt-username, --mqtt-password-file, --mqtt-ca, --mqtt-cert, --mqtt-key,
// --mqtt-client-id, --mqtt-clean-start), each overriding its `mqtt.*` config key. There is
// deliberately no password flag: argv is visible to every user of the machine.

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "sensorgate/common/config_file.hpp"

namespace sensorgate {

struct MqttCliFlags {
  std::optional<std::string> username;
  std::optional<std::string> password_file;
  std::optional<std::string> ca_file;
  std::optional<std::string> cert_file;
  std::optional<std::string> key_file;
  std::optional<std::string> client_id;
  std::optional<bool> clean_start;

  /// Adds the flags to `app` in an "MQTT connection" group.
  void add_to(CLI::App& app);
  /// Sets the config keys of the flags that were given, as overrides naming the flag.
  void apply_to(ConfigFile& file) const;
};

}  // namespace sensorgate
