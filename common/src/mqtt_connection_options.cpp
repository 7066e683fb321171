#include "sensorgate/common/mqtt_connection_options.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

namespace sensorgate {
namespace {

constexpr std::array<std::string_view, 2> kPlainSchemes = {"tcp://", "mqtt://"};
constexpr std::array<std::string_view, 2> kTlsSchemes = {"ssl://", "mqtts://"};

bool has_scheme(std::string_view url, std::span<const std::string_view> schemes) {
  return std::ranges::any_of(schemes, [url](std::string_view scheme) { return url.starts_with(scheme); });
}

std::string errno_text() {
  return std::error_code(errno, std::generic_category()).message();
}

/// Fails on `key` unless `path` names a readable file, so a typo is reported before any
/// connection attempt (Paho would only report a generic TLS failure).
/// A directory opens like a file on Linux and fails only when read (as an exception).
void require_readable(ConfigFile& file, std::string_view key, const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) file.fail(key, "\"" + path + "\" is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) file.fail(key, "cannot read \"" + path + "\": " + errno_text());
}

std::string read_secret(ConfigFile& file, std::string_view key, const std::string& path) {
  require_readable(file, key, path);
  std::ifstream in(path, std::ios::binary);
  std::string secret;
  try {
    secret.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure& e) {
    file.fail(key, "cannot read \"" + path + "\": " + e.what());
  }
  // Files written by `echo` or an editor end in a newline that is not part of the secret.
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) file.fail(key, "\"" + path + "\" is empty");
  return secret;
}

}  // namespace

bool MqttConnectionOptions::uses_tls() const {
  return has_scheme(url, kTlsSchemes);
}

std::string MqttConnectionOptions::paho_uri() const {
  if (url.starts_with("mqtts://")) return "ssl://" + url.substr(8);
  if (url.starts_with("mqtt://")) return "tcp://" + url.substr(7);
  return url;
}

MqttConnectionOptions MqttConnectionOptions::from(ConfigFile& file, std::string default_client_id,
                                                  bool default_clean_session, std::string_view client_id_default_note) {
  MqttConnectionOptions o;
  o.url = file.get_string("mqtt.url", o.url,
                          "MQTT broker: tcp://HOST:PORT or mqtt://HOST:PORT (plain), ssl:// or mqtts:// (TLS)");
  if (!has_scheme(o.url, kPlainSchemes) && !has_scheme(o.url, kTlsSchemes)) {
    file.fail("mqtt.url", "expected tcp://HOST:PORT, mqtt://, ssl:// or mqtts://, got \"" + o.url + "\"");
  }
  o.client_id = file.get_string(
      "mqtt.client_id", std::move(default_client_id),
      {"MQTT client id; must be stable for a persistent session to be resumed", client_id_default_note});
  if (o.client_id.empty()) file.fail("mqtt.client_id", "must not be empty");
  o.clean_session = file.get_bool(
      "mqtt.clean_session", default_clean_session,
      "true = clean start; false = persistent session: the broker queues QoS 1 messages while we are away");
  o.keepalive =
      std::chrono::seconds(file.get_int("mqtt.keepalive_s", 20, 1, 3600, "Seconds between MQTT keep-alive pings"));
  o.connect_timeout = std::chrono::milliseconds(
      file.get_int("mqtt.connect_timeout_ms", 10000, 100, 600'000,
                   "How long the first connection may take, in ms; if it fails the program exits with status 4"));
  o.reconnect_min = std::chrono::milliseconds(file.get_int(
      "mqtt.reconnect_min_ms", 1000, 1000, 3'600'000, "First wait before reconnecting after a lost connection, in ms"));
  o.reconnect_max =
      std::chrono::milliseconds(file.get_int("mqtt.reconnect_max_ms", 30000, 1000, 3'600'000,
                                             "Longest wait between reconnect attempts (the wait doubles), in ms"));
  if (o.reconnect_max < o.reconnect_min) file.fail("mqtt.reconnect_max_ms", "must be >= mqtt.reconnect_min_ms");

  o.username = file.get_string("mqtt.username", "", "MQTT user name; \"\" = anonymous");
  o.password = file.get_string("mqtt.password", "", "MQTT password; prefer password_file");
  const std::string password_file = file.get_string(
      "mqtt.password_file", "", "File holding only the MQTT password (mode 0600); not together with password");
  if (!password_file.empty()) {
    if (!o.password.empty()) file.fail("mqtt.password_file", "set either mqtt.password or mqtt.password_file");
    o.password = read_secret(file, "mqtt.password_file", password_file);
  }
  if (!o.password.empty() && o.username.empty()) {
    file.fail(password_file.empty() ? "mqtt.password" : "mqtt.password_file", "a password needs mqtt.username");
  }

  o.ca_file = file.get_string("mqtt.ca_file", "",
                              "TLS: PEM file of the CA certificate(s) of the broker; \"\" = the system's trust store");
  o.cert_file = file.get_string("mqtt.cert_file", "", "TLS: client certificate (PEM) for mutual TLS; \"\" = none");
  o.key_file = file.get_string("mqtt.key_file", "",
                               "TLS: the client certificate's private key (PEM); \"\" when cert_file holds it");
  o.verify_server =
      file.get_bool("mqtt.verify_server", true,
                    "TLS: verify the broker's certificate chain and host name; false only for a throwaway test broker");
  // TLS settings with a plain URL would silently send credentials in clear text.
  for (const auto& [key, value] : {std::pair<std::string_view, const std::string&>{"mqtt.ca_file", o.ca_file},
                                   {"mqtt.cert_file", o.cert_file},
                                   {"mqtt.key_file", o.key_file}}) {
    if (value.empty()) continue;
    if (!o.uses_tls()) file.fail(key, "is set but mqtt.url \"" + o.url + "\" is not ssl:// or mqtts://");
    require_readable(file, key, value);
  }
  if (!o.key_file.empty() && o.cert_file.empty()) file.fail("mqtt.key_file", "needs mqtt.cert_file");
  return o;
}

}  // namespace sensorgate
