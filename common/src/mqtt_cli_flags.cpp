#include "sensorgate/common/mqtt_cli_flags.hpp"

namespace sensorgate {

void MqttCliFlags::add_to(CLI::App& app) {
  auto* group = app.add_option_group("MQTT connection", "TLS, credentials and session; see docs/mqtt.md");
  group->add_option("--mqtt-username", username, "MQTT user name (mqtt.username)");
  group->add_option("--mqtt-password-file", password_file,
                    "file holding the MQTT password, one line (mqtt.password_file)");
  group->add_option("--mqtt-ca", ca_file, "PEM CA certificates to verify the broker with; needs ssl:// (mqtt.ca_file)");
  group->add_option("--mqtt-cert", cert_file, "PEM client certificate for mutual TLS (mqtt.cert_file)");
  group->add_option("--mqtt-key", key_file, "PEM private key of --mqtt-cert (mqtt.key_file)");
  group->add_option("--mqtt-client-id", client_id,
                    "MQTT client id; keep it stable for a persistent session "
                    "(mqtt.client_id)");
  group->add_flag("--mqtt-clean-start,!--mqtt-persistent-session", clean_start,
                  "start a clean MQTT session instead of resuming the broker's (mqtt.clean_session)");
}

void MqttCliFlags::apply_to(ConfigFile& file) const {
  if (username) file.set_override("mqtt.username", *username, "--mqtt-username");
  if (password_file) file.set_override("mqtt.password_file", *password_file, "--mqtt-password-file");
  if (ca_file) file.set_override("mqtt.ca_file", *ca_file, "--mqtt-ca");
  if (cert_file) file.set_override("mqtt.cert_file", *cert_file, "--mqtt-cert");
  if (key_file) file.set_override("mqtt.key_file", *key_file, "--mqtt-key");
  if (client_id) file.set_override("mqtt.client_id", *client_id, "--mqtt-client-id");
  if (clean_start) file.set_override("mqtt.clean_session", *clean_start, "--mqtt-clean-start");
}

}  // namespace sensorgate
