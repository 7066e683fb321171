#include "sensorgate/collector/collector_http.hpp"

#include <nlohmann/json.hpp>

#include "sensorgate/common/environment.hpp"
#include "sensorgate/common/http_endpoints.hpp"
#include "sensorgate/common/prometheus_text.hpp"
#include "sensorgate/common/runtime.hpp"
#include "store_common.hpp"

namespace sensorgate::collector {

CollectorHttp::CollectorHttp(const CollectorServer& server, const HttpConfig& config, const std::string& db_url)
    : server_(server), store_(open_store(db_url)), started_(std::chrono::steady_clock::now()), http_(config.server) {
  add_routes();
}

void CollectorHttp::start() {
  http_.start();
}

void CollectorHttp::stop() {
  http_.stop();
}

void CollectorHttp::add_routes() {
  using http::Request;
  using http::Response;
  add_common_routes(
      http_, "collector", [this] { return environment(); }, started_);
  http_.route("/metrics",
              [this](const Request&) { return Response::text(metrics(), "text/plain; version=0.0.4; charset=utf-8"); });
  http_.route("/api/v1/summary", [this](const Request&) { return Response::json(summary().dump()); });
  http_.route("/api/v1/gateways", [this](const Request&) { return Response::json(gateways().dump()); });
  http_.route("/api/v1/stages", [this](const Request&) {
    return Response::json(nlohmann::json{{"stages", stages()}, {"environment", environment()}}.dump());
  });
  http_.route("/api/v1/models", [this](const Request&) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : store_->models()) {
      out.push_back(
          {{"version", m.version},
           {"kind", detail::model_kind_name(m.kind)},
           {"feature_spec", m.feature_spec},
           {"created_at_ns", m.created_at_ns},
           {"metrics", nlohmann::json::parse(m.metrics_json.empty() ? "{}" : m.metrics_json, nullptr, false)}});
    }
    return Response::json(out.dump());
  });
  http_.websocket("/ws/fleet", [this](const Request&) {
    return nlohmann::json{{"time_ms", wall_clock_ns() / 1'000'000},
                          {"summary", summary()},
                          {"gateways", gateways()},
                          {"stages", stages()}}
        .dump();
  });
}

nlohmann::json CollectorHttp::summary() const {
  const auto& c = server_.counters();
  nlohmann::json doc = {{"messages", c.messages.load()},
                        {"bad_messages", c.bad_messages.load()},
                        {"rows_stored", c.rows_stored.load()},
                        {"rows_duplicate", c.rows_duplicate.load()},
                        {"event_rows_stored", c.event_rows_stored.load()},
                        {"raw_frames_stored", c.raw_frames_stored.load()},
                        {"acks_sent", c.acks_sent.load()},
                        {"store_failures", c.store_failures.load()},
                        {"commands_sent", c.commands_sent.load()},
                        {"model_answers", c.model_answers.load()},
                        {"push_failures", c.push_failures.load()},
                        {"wrong_gateway_id", c.wrong_gateway_id.load()},
                        {"storage", store_->describe()}};
  if (const auto* zap = server_.zap_counters()) {
    doc["gateways_admitted"] = zap->allowed.load();
    doc["gateways_refused"] = zap->denied.load();
  }
  return doc;
}

nlohmann::json CollectorHttp::gateways() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [id, g] : server_.gateways()) {
    out.push_back({{"gateway_id", id},
                   {"messages", g.messages},
                   {"windows", g.windows},
                   {"events", g.events},
                   {"rows", g.rows},
                   {"last_seen_ms", g.last_seen_ns / 1'000'000},
                   {"last_sequence", g.last_sequence}});
  }
  return out;
}

nlohmann::json CollectorHttp::stages() const {
  return nlohmann::json::array({to_json(server_.store_stage())});
}

nlohmann::json CollectorHttp::environment() const {
  auto doc = to_json(describe_environment());
  doc["backend"] = nullptr;
  doc["config"] = {{"storage", store_->describe()}, {"endpoint", server_.endpoint()}};
  return doc;
}

std::string CollectorHttp::metrics() const {
  PrometheusText out("sensorgate_collector_");
  write_process_metrics(out, http_.counters(), started_);
  const auto& c = server_.counters();
  const auto counter = [&out](std::string_view name, std::string_view help, const std::atomic<std::uint64_t>& v) {
    out.counter(name, help, static_cast<double>(v.load()));
  };
  counter("messages_total", "Well-formed uplink messages received", c.messages);
  counter("bad_messages_total", "Uplink messages refused by the verifier or checks", c.bad_messages);
  counter("wrong_gateway_id_total", "Messages whose gateway id is not their CurveZMQ key's name", c.wrong_gateway_id);
  counter("rows_stored_total", "Window rows written (new, or a higher revision)", c.rows_stored);
  counter("rows_duplicate_total", "Window rows already stored (redelivery)", c.rows_duplicate);
  counter("event_rows_stored_total", "Anomaly event rows written", c.event_rows_stored);
  counter("raw_frames_stored_total", "Frames written in capture mode", c.raw_frames_stored);
  counter("acks_sent_total", "Acknowledgements sent to gateways", c.acks_sent);
  counter("store_failures_total", "Batches left unacknowledged because storing failed", c.store_failures);
  counter("commands_sent_total", "Model pushes and rollbacks sent to gateways", c.commands_sent);
  counter("model_answers_total", "Model status answers received from gateways", c.model_answers);
  counter("push_failures_total", "Model pushes that could not be read or sent", c.push_failures);
  if (const auto* zap = server_.zap_counters()) {
    counter("curve_admitted_total", "CurveZMQ handshakes admitted", zap->allowed);
    counter("curve_refused_total", "CurveZMQ handshakes refused", zap->denied);
  }
  for (const auto& [id, g] : server_.gateways()) {
    const PrometheusText::Labels gateway{{"gateway", id}};
    out.counter("gateway_messages_total", "Messages received per gateway", static_cast<double>(g.messages), gateway);
    out.counter("gateway_windows_total", "Window summaries received per gateway", static_cast<double>(g.windows),
                gateway);
    out.gauge("gateway_last_seen_timestamp_seconds", "When the gateway's last message arrived (Unix time)",
              static_cast<double>(g.last_seen_ns) * 1e-9, gateway);
  }
  out.stage(server_.store_stage());
  return out.str();
}

}  // namespace sensorgate::collector
