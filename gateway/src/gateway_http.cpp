#include "sensorgate/gateway/gateway_http.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "sensorgate/common/environment.hpp"
#include "sensorgate/common/http_endpoints.hpp"
#include "sensorgate/common/prometheus_text.hpp"
#include "sensorgate/kernels/block_stats.hpp"
#include "sensorgate/kernels/spectrum.hpp"

namespace sensorgate {
namespace {

constexpr std::string_view kDevicesPrefix = "/api/v1/devices/";

/// NaN (not scored, no prediction) as JSON null.
nlohmann::json number_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

nlohmann::json window_json(const uplink::WindowSummaryRecord& w) {
  nlohmann::json channels = nlohmann::json::array();
  for (const auto& c : w.channels) {
    channels.push_back({{"channel", c.channel},
                        {"count", c.count},
                        {"min", c.min},
                        {"max", c.max},
                        {"mean", c.mean},
                        {"variance", c.variance}});
  }
  const std::size_t n = w.channels.size();
  nlohmann::json histograms = nlohmann::json::array();
  if (n > 0 && !w.histogram_counts.empty()) {
    const std::size_t bins = w.histogram_counts.size() / n;
    for (std::size_t c = 0; c < n; ++c) {
      const auto first = w.histogram_counts.begin() + static_cast<std::ptrdiff_t>(c * bins);
      histograms.push_back(std::vector<std::uint32_t>(first, first + static_cast<std::ptrdiff_t>(bins)));
    }
  }
  nlohmann::json bands = nlohmann::json::array();
  constexpr std::size_t kBands = kernels::kEegBands.size();
  for (std::size_t c = 0; c < n && w.band_powers.size() == n * kBands; ++c) {
    const auto first = w.band_powers.begin() + static_cast<std::ptrdiff_t>(c * kBands);
    bands.push_back(std::vector<float>(first, first + static_cast<std::ptrdiff_t>(kBands)));
  }
  nlohmann::json band_names = nlohmann::json::array();
  for (const auto& b : kernels::kEegBands) band_names.push_back(b.name);
  return {{"device_id", w.device_id},
          {"window_start_ns", w.window_start_ns},
          {"window_end_ns", w.window_end_ns},
          {"revision", w.revision},
          {"anomaly_score", number_or_null(w.anomaly_score)},
          {"prediction", number_or_null(w.prediction)},
          {"label", w.label >= 0 ? nlohmann::json(w.label) : nlohmann::json(nullptr)},
          {"model_version", w.model_version > 0 ? nlohmann::json(w.model_version) : nlohmann::json(nullptr)},
          {"channels", channels},
          {"histogram_edges", w.histogram_edges},
          {"histogram_counts", histograms},
          {"band_names", band_names},
          {"band_powers", bands}};
}

nlohmann::json event_json(const uplink::AnomalyEventRecord& e) {
  return {{"device_id", e.device_id}, {"start_ns", e.start_ns}, {"end_ns", e.end_ns},  {"peak_score", e.peak_score},
          {"windows", e.windows},     {"channels", e.channels}, {"ongoing", e.ongoing}};
}

/// The settings a comparison depends on; nothing secret (no keys, no tokens, no passwords).
nlohmann::json config_json(const GatewayConfig& c, const std::string& source) {
  const auto& w = c.worker;
  return {{"source", source},
          {"gateway_id", c.gateway_id},
          {"workers", c.workers},
          {"backend", c.backend},
          {"ring_capacity_chunks", c.ring_capacity_chunks},
          {"full_policy", c.full_policy == FullPolicy::kBlock ? "block" : "drop_oldest"},
          {"window_ms", w.windows.length_ns / 1'000'000},
          {"slide_ms", w.windows.slide_ns / 1'000'000},
          {"allowed_lateness_ms", w.windows.allowed_lateness_ns / 1'000'000},
          {"histogram_bins", kernels::histogram_bins(w.windows.histogram_edges)},
          {"band_powers", w.windows.band_powers},
          {"anomaly", w.anomaly.enabled},
          {"mqtt", c.mqtt_enabled},
          {"serial", c.serial.has_value()},
          {"spool", c.uplink.spool.has_value()},
          {"curve", c.uplink.curve_keys.has_value()}};
}

}  // namespace

GatewayHttp::GatewayHttp(const Gateway& gateway, std::string config_source)
    : gateway_(gateway),
      config_source_(std::move(config_source)),
      started_(std::chrono::steady_clock::now()),
      server_(gateway.config().http.server) {
  add_routes();
}

void GatewayHttp::start() {
  server_.start();
}

void GatewayHttp::stop() {
  server_.stop();
}

void GatewayHttp::add_routes() {
  using http::Request;
  using http::Response;
  add_common_routes(
      server_, "gateway", [this] { return environment(); }, started_);
  server_.route("/metrics", [this](const Request&) {
    return Response::text(metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_.route("/api/v1/summary",
                [this](const Request&) { return Response::json(snapshot_json(gateway_.snapshot()).dump()); });
  server_.route("/api/v1/devices", [this](const Request&) { return Response::json(devices().dump()); });
  server_.route_prefix(std::string(kDevicesPrefix), [this](const Request& r) {
    // /api/v1/devices/{id}/window and /api/v1/devices/{id}/scores
    const std::string_view rest = std::string_view(r.path).substr(kDevicesPrefix.size());
    const auto slash = rest.rfind('/');
    if (slash == std::string_view::npos) return Response::not_found(r.path);
    const auto device = rest.substr(0, slash);
    const auto what = rest.substr(slash + 1);
    if (what == "window") {
      auto window = latest_window(device);
      return window.is_null() ? Response::not_found("no window yet for device " + std::string(device))
                              : Response::json(window.dump());
    }
    if (what == "scores") return Response::json(scores(device, 600).dump());
    return Response::not_found(r.path);
  });
  server_.route("/api/v1/events", [this](const Request&) { return Response::json(events(100).dump()); });
  server_.route("/api/v1/models", [this](const Request&) {
    const auto s = gateway_.snapshot();
    return Response::json(nlohmann::json{
        {"version", s.model_version},
        {"accepted", s.models_accepted},
        {"rejected", s.models_rejected},
        {"rollbacks",
         s.model_rollbacks}}.dump());
  });
  server_.route("/api/v1/stages", [this](const Request&) {
    return Response::json(nlohmann::json{{"stages", stages()}, {"environment", environment()}}.dump());
  });
  server_.websocket("/ws/live", [this](const Request& r) {
    const auto it = r.query.find("device");
    return live_message(it == r.query.end() ? std::string() : it->second);
  });
}

nlohmann::json GatewayHttp::environment() const {
  auto e = describe_environment();
  if (const auto gpu = kernels::describe_gpu()) {
    e.gpu_model = gpu->model;
    e.gpu_driver = gpu->driver;
  }
  auto doc = to_json(e);
  doc["backend"] = gateway_.backend_name();
  doc["config"] = config_json(gateway_.config(), config_source_);
  return doc;
}

nlohmann::json GatewayHttp::devices() const {
  return snapshot_json(gateway_.snapshot())["devices"];
}

nlohmann::json GatewayHttp::latest_window(std::string_view device) const {
  const auto window = gateway_.live_view().latest_window(device);
  return window ? window_json(*window) : nlohmann::json(nullptr);
}

nlohmann::json GatewayHttp::scores(std::string_view device, std::size_t last) const {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& [end_ns, score] : gateway_.live_view().scores(device, last)) {
    points.push_back({end_ns, number_or_null(score)});
  }
  return {{"threshold", gateway_.config().worker.anomaly.enter_threshold}, {"points", points}};
}

nlohmann::json GatewayHttp::events(std::size_t last) const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : gateway_.live_view().events(last)) out.push_back(event_json(e));
  return out;
}

nlohmann::json GatewayHttp::stages() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : gateway_.stages()) out.push_back(to_json(s));
  return out;
}

std::string GatewayHttp::live_message(const std::string& device) const {
  const auto snapshot = gateway_.snapshot();
  auto summary = snapshot_json(snapshot);
  auto devices_json = summary["devices"];
  std::string selected = device;
  if (selected.empty() && !snapshot.device_details.empty()) selected = snapshot.device_details.front().id;
  nlohmann::json doc = {{"time_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count()},
                        {"summary", std::move(summary)},
                        {"devices", std::move(devices_json)},
                        {"device", selected.empty() ? nlohmann::json(nullptr) : nlohmann::json(selected)},
                        {"window", latest_window(selected)},
                        {"scores", scores(selected, 120)},
                        {"events", events(20)},
                        {"stages", stages()}};
  return doc.dump();
}

std::string GatewayHttp::metrics() const {
  const auto s = gateway_.snapshot();
  PrometheusText out("sensorgate_gateway_");
  write_process_metrics(out, server_.counters(), started_);
  const auto counter = [&out](std::string_view name, std::string_view help, std::uint64_t value) {
    out.counter(name, help, static_cast<double>(value));
  };
  const auto gauge = [&out](std::string_view name, std::string_view help, double value) {
    out.gauge(name, help, value);
  };
  counter("mqtt_messages_total", "MQTT frame messages received", s.mqtt_messages);
  counter("mqtt_connects_total", "Successful MQTT broker connections, the first included", s.mqtt_connects);
  counter("mqtt_connection_losses_total", "MQTT connections lost", s.mqtt_connection_losses);
  counter("mqtt_reconnects_total", "Automatic MQTT reconnections after a loss", s.mqtt_reconnects);
  counter("bad_payloads_total", "Payloads refused by the decoder (MQTT and serial)", s.bad_payloads);
  counter("frames_in_total", "Frames accepted by ingest", s.frames_in);
  counter("frames_windowed_total", "Frames merged into windows", s.frames_windowed);
  counter("duplicate_frames_total", "Frames received twice (dropped)", s.duplicates);
  counter("reordered_frames_total", "Frames that arrived out of order (kept)", s.reordered);
  counter("missing_frames_total", "Frames never received (sequence gaps)", s.missing);
  counter("late_frames_total", "Frames later than the allowed lateness (dropped)", s.late);
  counter("ring_full_waits_total", "Times a full ring made a producer wait", s.ring_full_waits);
  counter("rejected_batches_total", "Batches refused: device limit, layout change, other source", s.rejected_batches);
  counter("frames_dropped_on_stop_total", "Frames given up at shutdown", s.frames_dropped_on_stop);
  counter("frames_dropped_oldest_total", "Frames discarded by the drop_oldest ring policy", s.frames_dropped_oldest);
  counter("windows_total", "Window summaries emitted", s.windows);
  counter("windows_dropped_on_stop_total", "Window summaries given up at shutdown", s.windows_dropped_on_stop);
  counter("windows_scored_total", "Windows given an anomaly score", s.windows_scored);
  counter("windows_unscorable_total", "Windows that could not be scored", s.windows_unscorable);
  counter("anomaly_events_total", "Anomaly events confirmed", s.anomaly_events);
  counter("events_dropped_on_stop_total", "Anomaly events given up at shutdown", s.events_dropped_on_stop);
  counter("gpu_failures_total", "GPU errors, each switched to the CPU", s.gpu_failures);
  counter("cpu_fallback_batches_total", "Scoring batches done on the CPU after a GPU failure", s.cpu_fallback_batches);
  counter("uplink_sent_messages_total", "Uplink messages sent for the first time", s.uplink_sent);
  counter("uplink_acked_messages_total", "Uplink messages acknowledged by the collector", s.uplink_acked);
  gauge("uplink_in_flight_messages", "Uplink messages sent and not yet acknowledged",
        static_cast<double>(s.uplink_in_flight));
  out.histogram("uplink_ack_round_trip_seconds", "Time from an uplink message's first send to its acknowledgement",
                gateway_.uplink_ack_round_trip());
  gauge("spool_bytes", "Size of the disk spool", static_cast<double>(s.spool_bytes));
  gauge("spool_pending_records", "Spooled messages not yet acknowledged", static_cast<double>(s.spool_pending));
  counter("spool_recovered_records_total", "Unacknowledged messages read back from the spool at start",
          s.spool_recovered);
  counter("spool_dropped_overflow_records_total", "Messages dropped by the spool's size bound",
          s.spool_dropped_overflow);
  counter("spool_corrupt_records_total", "Corrupt spool records skipped at start", s.spool_corrupt);
  counter("spool_write_failures_total", "Spool appends and fsyncs that failed (disk full, I/O error)",
          s.spool_write_failures);
  gauge("journal_bytes", "Size of the ingest journal", static_cast<double>(s.journal_bytes));
  gauge("journal_pending_batches", "Journaled frame batches whose windows are not safe yet",
        static_cast<double>(s.journal_pending));
  counter("journal_replayed_batches_total", "Frame batches replayed from the journal at start", s.journal_replayed);
  counter("journal_replay_rejected_records_total", "Journal records that could not be replayed",
          s.journal_replay_rejected);
  counter("journal_dropped_overflow_batches_total", "Journaled batches deleted by the journal's size bound",
          s.journal_dropped_overflow);
  counter("journal_corrupt_records_total", "Corrupt journal records skipped at start", s.journal_corrupt);
  counter("journal_write_failures_total", "Journal appends and fsyncs that failed (disk full, I/O error)",
          s.journal_write_failures);
  counter("models_accepted_total", "Pushed models verified and put live", s.models_accepted);
  counter("models_rejected_total", "Pushed models refused", s.models_rejected);
  counter("model_rollbacks_total", "Model rollbacks", s.model_rollbacks);
  gauge("model_version", "Version of the live model (0: none)", s.model_version);
  counter("model_persist_failures_total", "Model envelopes that could not be kept in model.dir",
          s.model_persist_failures);
  counter("windows_classified_total", "Windows given the live model's prediction", s.windows_classified);
  counter("windows_unclassifiable_total", "Windows the live model could not classify", s.windows_unclassifiable);
  counter("windows_labelled_total", "Windows with a label from the stream", s.windows_labelled);
  counter("labels_received_total", "Label messages accepted", s.labels_received);
  counter("bad_labels_total", "Label messages refused", s.bad_labels);
  counter("bad_commands_total", "Collector commands that could not be read", s.bad_commands);
  counter("raw_frames_captured_total", "Frames uplinked in capture mode", s.raw_frames_captured);
  counter("raw_frames_dropped_on_stop_total", "Captured frames given up at shutdown", s.raw_frames_dropped_on_stop);
  gauge("devices", "Devices seen", static_cast<double>(s.devices));
  for (const auto& d : s.device_details) {
    const PrometheusText::Labels device{{"device", d.id}};
    out.counter("device_frames_accepted_total", "Frames accepted per device", static_cast<double>(d.frames_accepted),
                device);
    out.counter("device_duplicate_frames_total", "Duplicate frames per device", static_cast<double>(d.duplicates),
                device);
    out.counter("device_missing_frames_total", "Missing frames per device", static_cast<double>(d.missing), device);
    out.counter("device_late_frames_total", "Late frames per device", static_cast<double>(d.late + d.too_old), device);
    out.gauge("device_clock_drift_ppm", "Device clock drift against the sample rate", d.drift_ppm, device);
    out.gauge("device_ring_used_chunks", "Chunks waiting in the device's ring", static_cast<double>(d.ring_used),
              device);
    out.gauge("device_ring_capacity_chunks", "Capacity of the device's ring", static_cast<double>(d.ring_capacity),
              device);
  }
  if (s.serial) {
    const auto& r = *s.serial;
    const PrometheusText::Labels port{{"port", r.port}};
    out.counter("serial_read_bytes_total", "Bytes read from the serial port", static_cast<double>(r.bytes_read), port);
    out.counter("serial_frames_total", "Frames decoded from the serial port", static_cast<double>(r.frames), port);
    out.counter("serial_crc_errors_total", "Serial frames with a CRC error", static_cast<double>(r.crc_errors), port);
    out.counter("serial_resyncs_total", "Serial resynchronisations", static_cast<double>(r.resyncs), port);
    out.counter("serial_discarded_bytes_total", "Serial bytes skipped while resynchronising",
                static_cast<double>(r.bytes_discarded), port);
    out.counter("serial_lost_packets_total", "OpenBCI packets lost (sequence gaps)",
                static_cast<double>(r.lost_packets), port);
    out.counter("serial_read_errors_total", "Serial read errors", static_cast<double>(r.read_errors), port);
    out.counter("serial_reopens_total", "Serial port reopens", static_cast<double>(r.reopens), port);
  }
  for (const auto& stage : gateway_.stages()) out.stage(stage);
  return out.str();
}

}  // namespace sensorgate
