#pragma once
// CollectorHttp: serves a running collector over HTTP (docs/http-api.md): /metrics, the
// /api/v1 JSON documents (summary, fleet of gateways, models, stages, environment), the
// /ws/fleet WebSocket and the dashboard's files. The server's counters and fleet map are
// read as snapshots; the models table is read through a store connection of its own,
// used only on the HTTP thread, so serving never touches the server thread's connection.

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "sensorgate/collector/collector_server.hpp"
#include "sensorgate/collector/store.hpp"
#include "sensorgate/common/http_config.hpp"
#include "sensorgate/common/http_server.hpp"

namespace sensorgate::collector {

class CollectorHttp {
 public:
  /// `db_url` opens the HTTP thread's own store connection (read only in effect).
  CollectorHttp(const CollectorServer& server, const HttpConfig& config, const std::string& db_url);

  void start();
  void stop();
  [[nodiscard]] std::uint16_t port() const { return http_.port(); }

  [[nodiscard]] std::string metrics() const;
  [[nodiscard]] nlohmann::json summary() const;
  [[nodiscard]] nlohmann::json gateways() const;
  [[nodiscard]] nlohmann::json stages() const;
  [[nodiscard]] nlohmann::json environment() const;

 private:
  void add_routes();

  const CollectorServer& server_;
  std::unique_ptr<Store> store_;
  std::chrono::steady_clock::time_point started_;
  http::HttpServer http_;
};

}  // namespace sensorgate::collector
