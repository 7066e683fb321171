#include "sensorgate/common/mqtt_connection.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include <array>
#include <sstream>
#include <string_view>
#include <vector>

namespace sensorgate {
namespace {

/// OpenSSL's error lines look like "<thread>:error:<code>:<library>:<function>:<reason>:<file>:<line>:";
/// the reason ("certificate verify failed") is what a user can act on.
std::string openssl_reason(const std::string& message) {
  std::vector<std::string> fields;
  std::istringstream in(message.substr(0, message.find('\n')));
  for (std::string field; std::getline(in, field, ':');) fields.push_back(field);
  if (fields.size() >= 6 && fields[1] == "error") return fields[5];
  return message.substr(0, message.find('\n'));
}

std::string tls_hint(const std::string& reason) {
  if (reason.find("certificate verify failed") != std::string::npos) {
    return " (the broker's certificate is not signed by mqtt.ca_file / --mqtt-ca, or does not name the host in "
           "mqtt.url)";
  }
  if (reason.find("wrong version number") != std::string::npos || reason.find("packet length") != std::string::npos) {
    return " (is the port a TLS listener?)";
  }
  return "";
}

}  // namespace

MqttConnection::MqttConnection(MqttConnectionOptions options, MqttClientLimits limits)
    : options_(std::move(options)), limits_(limits) {
  const mqtt::create_options create(MQTTVERSION_3_1_1, limits_.max_buffered_messages);
  client_ = std::make_unique<mqtt::async_client>(options_.paho_uri(), options_.client_id, create);
  client_->set_connected_handler([this](const std::string&) {
    connects_.fetch_add(1, std::memory_order_relaxed);
    if (losses_.load(std::memory_order_relaxed) == 0) return;  // the first connection: connect() reports it
    reconnects_.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("mqtt: reconnected to {} (reconnect {})", options_.url, reconnects());
    if (on_reconnected_) on_reconnected_();
  });
  client_->set_connection_lost_handler([this](const std::string& cause) {
    losses_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("mqtt: connection to {} lost ({}); reconnecting every {}-{} ms", options_.url,
                 cause.empty() ? "no reason given" : cause, options_.reconnect_min.count(),
                 options_.reconnect_max.count());
  });
}

MqttConnection::~MqttConnection() = default;

std::string MqttConnection::last_tls_error() const {
  const std::lock_guard lock(tls_error_mutex_);
  return tls_error_;
}

bool MqttConnection::connected() const {
  return client_->is_connected();
}

std::string MqttConnection::describe() const {
  std::string text = options_.url + " as client " + options_.client_id;
  if (!options_.username.empty()) text += " (user " + options_.username + ")";
  if (options_.uses_tls()) text += options_.cert_file.empty() ? ", TLS" : ", mutual TLS";
  text += options_.clean_session ? ", clean session" : ", persistent session";
  return text;
}

void MqttConnection::connect() {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  // Paho counts the connect timeout and the reconnect backoff in whole seconds.
  const auto whole_seconds = [](std::chrono::milliseconds ms) {
    return std::max(seconds(1), duration_cast<seconds>(ms + std::chrono::milliseconds(999)));
  };
  auto builder = mqtt::connect_options_builder()
                     .clean_session(options_.clean_session)
                     .keep_alive_interval(options_.keepalive)
                     .automatic_reconnect(whole_seconds(options_.reconnect_min), whole_seconds(options_.reconnect_max))
                     .connect_timeout(whole_seconds(options_.connect_timeout));
  if (limits_.max_inflight > 0) builder.max_inflight(limits_.max_inflight);
  if (!options_.username.empty()) builder.user_name(options_.username).password(options_.password);
  if (options_.uses_tls()) {
    auto ssl = mqtt::ssl_options_builder()
                   .enable_server_cert_auth(options_.verify_server)
                   .verify(options_.verify_server)
                   .error_handler([this](const std::string& message) {
                     spdlog::debug("mqtt: TLS: {}", message);
                     const std::lock_guard lock(tls_error_mutex_);
                     tls_error_ = message;
                   });
    if (!options_.ca_file.empty()) ssl.trust_store(options_.ca_file);
    if (!options_.cert_file.empty()) ssl.key_store(options_.cert_file);
    if (!options_.key_file.empty()) ssl.private_key(options_.key_file);
    builder.ssl(ssl.finalize());
  }

  const std::string where = "MQTT broker " + options_.url;
  bool done = false;
  try {
    // Paho enforces the connect timeout itself; the extra second only covers its bookkeeping.
    done = client_->connect(builder.finalize())->wait_for(options_.connect_timeout + seconds(1));
  } catch (const mqtt::exception& e) {
    const int rc = e.get_return_code();
    if (rc == 4 || rc == 5) {
      throw MqttConnectError(MqttConnectError::Cause::kNotAuthorised,
                             "cannot connect to " + where + ": not authorised (CONNACK " + std::to_string(rc) +
                                 "): check mqtt.username and the password" +
                                 (options_.username.empty() ? " (none given: anonymous access refused)" : ""));
    }
    if (rc >= 1 && rc <= 3) {
      static constexpr std::array<std::string_view, 4> kReasons = {"", "unacceptable protocol version",
                                                                   "client id rejected", "server unavailable"};
      throw MqttConnectError(MqttConnectError::Cause::kRefused,
                             "cannot connect to " + where + ": connection refused by the broker (CONNACK " +
                                 std::to_string(rc) + ": " + std::string(kReasons.at(static_cast<std::size_t>(rc))) +
                                 ")");
    }
    if (const auto tls = last_tls_error(); options_.uses_tls() && !tls.empty()) {
      const auto reason = openssl_reason(tls);
      throw MqttConnectError(MqttConnectError::Cause::kTls,
                             "cannot connect to " + where + ": TLS handshake failed: " + reason + tls_hint(reason));
    }
    throw MqttConnectError(
        MqttConnectError::Cause::kUnreachable,
        "cannot connect to " + where + ": " + e.what() +
            (options_.uses_tls() ? "" : " (no MQTT broker answered; is it a TLS port needing ssl://?)"));
  }
  if (!done || !client_->is_connected()) {
    throw MqttConnectError(MqttConnectError::Cause::kTimeout, "cannot connect to " + where + ": no answer within " +
                                                                  std::to_string(options_.connect_timeout.count()) +
                                                                  " ms");
  }
}

void MqttConnection::disconnect(std::chrono::milliseconds timeout) noexcept {
  try {
    if (client_->is_connected()) client_->disconnect()->wait_for(timeout);
  } catch (const std::exception& e) {
    spdlog::warn("mqtt: disconnect from {}: {}", options_.url, e.what());
  }
}

}  // namespace sensorgate
