#include "sensorgate/common/http_endpoints.hpp"

#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace sensorgate {
namespace {

double seconds_since(std::chrono::steady_clock::time_point started) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

}  // namespace

void add_common_routes(http::HttpServer& server, std::string role, std::function<nlohmann::json()> environment,
                       std::chrono::steady_clock::time_point started) {
  server.route("/healthz", [started, role = std::move(role)](const http::Request&) {
    return http::Response::json(nlohmann::json{
        {"status", "ok"}, {"role", role}, {"version", SENSORGATE_VERSION}, {"uptime_s", seconds_since(started)}}
                                    .dump());
  });
  server.route("/api/v1/environment", [environment = std::move(environment)](const http::Request&) {
    return http::Response::json(environment().dump());
  });
}

std::uint64_t resident_memory_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size_pages = 0;
  std::uint64_t resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return 0;
  return resident_pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

void write_process_metrics(PrometheusText& out, const http::ServerCounters& http,
                           std::chrono::steady_clock::time_point started) {
  out.gauge("build_info", "Always 1; the labels name the build", 1, {{"version", SENSORGATE_VERSION}});
  out.gauge("uptime_seconds", "Seconds since the process started serving", seconds_since(started));
  out.gauge("resident_memory_bytes", "Resident set size of the process", static_cast<double>(resident_memory_bytes()));
  const auto load = [](const std::atomic<std::uint64_t>& c) { return static_cast<double>(c.load()); };
  out.counter("http_requests_total", "HTTP requests read, malformed ones included", load(http.requests));
  out.counter("http_responses_total", "HTTP responses by status class", load(http.responses_2xx), {{"class", "2xx"}});
  out.counter("http_responses_total", "HTTP responses by status class", load(http.responses_4xx), {{"class", "4xx"}});
  out.counter("http_responses_total", "HTTP responses by status class", load(http.responses_5xx), {{"class", "5xx"}});
  out.counter("http_unauthorized_total", "HTTP requests refused for a missing or wrong token", load(http.unauthorized));
  out.counter("http_bad_requests_total", "Malformed or oversized HTTP requests", load(http.bad_requests));
  out.counter("http_rejected_connections_total", "Connections closed over the connection limit",
              load(http.rejected_connections));
  out.gauge("http_websocket_sessions", "Open WebSocket sessions", load(http.websocket_sessions));
  out.counter("http_websocket_messages_total", "WebSocket messages pushed", load(http.websocket_messages));
  out.counter("http_sent_bytes_total", "Bytes of HTTP responses and WebSocket messages", load(http.bytes_sent));
}

}  // namespace sensorgate
