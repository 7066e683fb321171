#pragma once
// GatewayHttp: serves a running Gateway over HTTP (docs/http-api.md): /metrics in the
// Prometheus text format, the /api/v1 JSON documents, the /ws/live WebSocket the dashboard
// draws from, and the dashboard's files. Every handler reads snapshots (atomic counters,
// LiveView copies), so serving never blocks the pipeline.

#include <chrono>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "sensorgate/common/http_server.hpp"
#include "sensorgate/gateway/gateway.hpp"

namespace sensorgate {

class GatewayHttp {
 public:
  /// `config_source` names where the configuration came from (a path, or "defaults and flags").
  GatewayHttp(const Gateway& gateway, std::string config_source);

  /// Binds (config http.bind / http.port) and serves; throws std::runtime_error.
  void start();
  void stop();
  [[nodiscard]] std::uint16_t port() const { return server_.port(); }

  /// The /metrics page (public for tests and the stats file).
  [[nodiscard]] std::string metrics() const;
  [[nodiscard]] nlohmann::json environment() const;
  [[nodiscard]] nlohmann::json devices() const;
  /// The device's latest window as JSON; null before its first.
  [[nodiscard]] nlohmann::json latest_window(std::string_view device) const;
  [[nodiscard]] nlohmann::json scores(std::string_view device, std::size_t last) const;
  [[nodiscard]] nlohmann::json events(std::size_t last) const;
  [[nodiscard]] nlohmann::json stages() const;
  /// One /ws/live message about `device` ("": the first device).
  [[nodiscard]] std::string live_message(const std::string& device) const;

 private:
  void add_routes();

  const Gateway& gateway_;
  std::string config_source_;
  std::chrono::steady_clock::time_point started_;
  http::HttpServer server_;
};

}  // namespace sensorgate
