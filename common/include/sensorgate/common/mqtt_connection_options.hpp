#pragma once
// MqttConnectionOptions: how an executable connects to the MQTT broker (URL, identity,
// credentials, TLS, session, reconnect, keep-alive), read from the `[mqtt]` table of a
// config file with the same keys and checks for the gateway and the simulator.

#include <chrono>
#include <string>
#include <string_view>

#include "sensorgate/common/config_file.hpp"

namespace sensorgate {

struct MqttConnectionOptions {
  /// tcp://HOST:PORT or mqtt://HOST:PORT (plain), ssl://HOST:PORT or mqtts://HOST:PORT (TLS).
  std::string url = "tcp://127.0.0.1:1883";
  std::string client_id;
  /// Empty: anonymous.
  std::string username;
  /// From `mqtt.password` or, so the secret stays out of argv and config, `mqtt.password_file`.
  std::string password;
  /// PEM file of the CA certificates that may sign the broker's certificate; empty: the
  /// system's default trust store.
  std::string ca_file;
  /// Client certificate chain and private key (PEM) for mutual TLS; empty: none.
  std::string cert_file;
  std::string key_file;
  /// Verify the broker's certificate chain and that it names the host in `url`.
  bool verify_server = true;
  /// true: start a clean session; false: resume the session kept for `client_id`, so QoS 1
  /// messages queued while this client was away are delivered after (re)connecting.
  bool clean_session = false;
  std::chrono::seconds keepalive{20};
  std::chrono::milliseconds connect_timeout{10000};
  /// Automatic reconnect waits `reconnect_min`, doubling up to `reconnect_max`, between tries.
  std::chrono::milliseconds reconnect_min{1000};
  std::chrono::milliseconds reconnect_max{30000};

  /// Whether `url` asks for TLS (ssl:// or mqtts://).
  [[nodiscard]] bool uses_tls() const;
  /// `url` in the spelling Paho accepts (mqtt:// → tcp://, mqtts:// → ssl://).
  [[nodiscard]] std::string paho_uri() const;

  /// Reads the `mqtt.*` connection keys (url, client_id, username, password, password_file,
  /// ca_file, cert_file, key_file, verify_server, clean_session, keepalive_s,
  /// connect_timeout_ms, reconnect_min_ms, reconnect_max_ms). Checks what can be checked
  /// before connecting: the URL scheme, that TLS files exist and are readable and are only
  /// given for a TLS URL, that a password has a user name. Throws ConfigError naming the key.
  /// `client_id_default_note` describes `default_client_id` in the configuration schema.
  static MqttConnectionOptions from(ConfigFile& file, std::string default_client_id, bool default_clean_session,
                                    std::string_view client_id_default_note = "derived from the host name");
};

}  // namespace sensorgate
