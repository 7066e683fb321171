#pragma once
// What the gateway's and the collector's HTTP servers serve alike: /healthz,
// /api/v1/environment, and the process and HTTP metrics of /metrics.

#include <chrono>
#include <functional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "sensorgate/common/http_server.hpp"
#include "sensorgate/common/prometheus_text.hpp"

namespace sensorgate {

/// Registers GET /healthz ({"status","role","version","uptime_s"}; `role` is "gateway" or
/// "collector", which the dashboard's pages read) and /api/v1/environment.
void add_common_routes(http::HttpServer& server, std::string role, std::function<nlohmann::json()> environment,
                       std::chrono::steady_clock::time_point started);

/// build_info, uptime, resident memory and the HTTP server's own counters.
void write_process_metrics(PrometheusText& out, const http::ServerCounters& http,
                           std::chrono::steady_clock::time_point started);

/// Resident set size of this process (/proc/self/statm), 0 if unreadable.
std::uint64_t resident_memory_bytes();

}  // namespace sensorgate
