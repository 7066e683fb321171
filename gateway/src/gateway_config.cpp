#include "sensorgate/gateway/gateway_config.hpp"

#include <fmt/format.h>

#include <bit>
#include <limits>

#include "sensorgate/common/runtime.hpp"

namespace sensorgate {
namespace {

std::size_t power_of_two(ConfigFile& file, std::string_view key, std::int64_t fallback, std::int64_t max, KeyDoc doc) {
  const auto value = file.get_int(key, fallback, 2, max, doc);
  if (!std::has_single_bit(static_cast<std::uint64_t>(value))) file.fail(key, "must be a power of two");
  return static_cast<std::size_t>(value);
}

/// The keys of a log in DiskSpool's format, `<table>.<name>_dir`, `_segment_mb`, `_max_mb`,
/// `_fsync` and `_fsync_interval_ms` (the uplink's spool, the ingest journal). Every key is
/// read (and checked) even without a directory, so a typo is caught.
struct LogKeyDefaults {
  std::int64_t segment_mb;
  std::int64_t max_mb;
  const char* fsync;
  const char* dir_doc;    ///< what the directory holds and what "" means
  const char* fsync_doc;  ///< what each policy survives
};

uplink::DiskSpoolOptions read_log_keys(ConfigFile& file, std::string_view table, std::string_view name,
                                       const LogKeyDefaults& d) {
  const auto key = [&](std::string_view suffix) { return fmt::format("{}.{}_{}", table, name, suffix); };
  uplink::DiskSpoolOptions k;
  k.directory = file.get_string(key("dir"), "", d.dir_doc);
  k.segment_bytes =
      static_cast<std::uint64_t>(file.get_int(key("segment_mb"), d.segment_mb, 1, 4096,
                                              KeyDoc(fmt::format("Size of a {} segment file, MB", name), {})))
      << 20U;
  const auto bound_doc = fmt::format(
      "Size bound of the {}, MB, at least twice {}_segment_mb; beyond it the oldest segment is dropped (counted)", name,
      name);
  k.max_bytes = static_cast<std::uint64_t>(file.get_int(key("max_mb"), d.max_mb, 1, 1 << 24, KeyDoc(bound_doc, {})))
                << 20U;
  if (k.max_bytes < 2 * k.segment_bytes) {
    file.fail(key("max_mb"), fmt::format("must be at least twice {}", key("segment_mb")));
  }
  k.fsync =
      *uplink::parse_fsync_policy(file.get_choice(key("fsync"), d.fsync, {"always", "interval", "never"}, d.fsync_doc));
  const auto interval_doc = fmt::format("{}_fsync interval: most ms between fsyncs", name);
  k.fsync_interval =
      std::chrono::milliseconds(file.get_int(key("fsync_interval_ms"), 1000, 1, 3'600'000, KeyDoc(interval_doc, {})));
  return k;
}

}  // namespace

GatewayConfig GatewayConfig::from(ConfigFile& file) {
  using std::chrono::milliseconds;
  GatewayConfig c;
  c.gateway_id =
      file.get_string("gateway.id", host_name(),
                      {"This gateway's id in every uplink message and in the collector's tables", "the host name"});
  if (!is_valid_id(c.gateway_id)) file.fail("gateway.id", "must be 1-64 characters of [A-Za-z0-9._-]");

  // Persistent session by default: with a stable client id the broker queues QoS 1 frames
  // while the gateway restarts or is disconnected.
  c.mqtt.connection =
      MqttConnectionOptions::from(file, "sensorgate-gw-" + c.gateway_id, false, "\"sensorgate-gw-<gateway.id>\"");
  c.mqtt.topic_prefix = file.get_string("mqtt.topic_prefix", "sensorgate",
                                        "Topics are <topic_prefix>/<device_id>/frames; the gateway subscribes to all");
  c.connect_timeout = c.mqtt.connection.connect_timeout;

  // Serial ingest (one port). With a port configured MQTT is off unless asked for, so a
  // gateway beside a single board needs no broker.
  const auto serial_port =
      file.get_string("serial.port", "", "Serial device to ingest from, e.g. /dev/ttyUSB0; \"\" = no serial ingest");
  {
    SerialIngestOptions serial;
    serial.port = serial_port;
    serial.baud = static_cast<std::uint32_t>(
        file.get_int("serial.baud", 115200, 50, 4'000'000, "Baud rate (8N1, raw, no flow control); a pty ignores it"));
    serial.format = *parse_serial_format(file.get_choice(
        "serial.format", "framed", {"framed", "openbci-cyton", "openbci-daisy"},
        "framed: sensorgate COBS + CRC frames; openbci-cyton: 8 ch at 250 Hz; openbci-daisy: 16 ch at 125 Hz"));
    serial.device_id =
        file.get_string("serial.device_id", "openbci",
                        "OpenBCI: the device id of the board's stream (1-64 characters of [A-Za-z0-9._-])");
    if (!is_valid_id(serial.device_id)) file.fail("serial.device_id", "must be 1-64 characters of [A-Za-z0-9._-]");
    serial.gain = file.get_double("serial.gain", kOpenBciDefaultGain, 1.0, 24.0,
                                  "OpenBCI: the ADS1299 gain set on the board, for counts -> uV");
    serial.start_time_ns = file.get_int(
        "serial.start_time_ns", 0, 0, INT64_MAX,
        "OpenBCI: device time of the first packet, ns since the epoch; 0 = the wall clock when it arrives");
    serial.reopen_interval = milliseconds(file.get_int("serial.reopen_interval_ms", 1000, 10, 3'600'000,
                                                       "After a read error, reopen the port every this many ms"));
    if (!serial_port.empty()) c.serial = std::move(serial);
  }
  c.mqtt_enabled =
      file.get_bool("mqtt.enabled", serial_port.empty(),
                    {"Ingest over MQTT; with it off, serial.port must be set", "true, unless serial.port is set"});
  if (!c.mqtt_enabled && !c.serial) file.fail("mqtt.enabled", "no ingest source: enable MQTT or set serial.port");

  c.ring_capacity_chunks =
      power_of_two(file, "ingest.ring_capacity_chunks", 256, 1 << 20,
                   "Capacity of each device's ring in chunks of up to 256 samples (a power of two)");
  c.full_policy = file.get_choice("ingest.full_policy", "block", {"block", "drop_oldest"},
                                  "A full ring: block = wait for the worker (nothing lost); drop_oldest = discard "
                                  "the oldest chunks") == "drop_oldest"
                      ? FullPolicy::kDropOldest
                      : FullPolicy::kBlock;
  c.max_devices = static_cast<std::size_t>(file.get_int(
      "ingest.max_devices", 4096, 1, 1'000'000, "Most devices accepted; batches from further devices are rejected"));
  IngestJournalOptions journal;
  journal.log = read_log_keys(
      file, "ingest", "journal",
      {4, 512, "never",
       "Journal of accepted frame batches, replayed after a crash until their windows are safe; \"\" = none",
       "never = survives a process crash; interval = every journal_fsync_interval_ms; always = fsync after each "
       "batch (survives power loss; slowest)"});
  const auto journal_margin = milliseconds(
      file.get_int("ingest.journal_margin_ms", 5000, 0, 3'600'000,
                   "Batches stay journaled this long past window length + allowed lateness + idle timeout, ms"));

  const auto length_ms = file.get_int("windows.length_ms", 1000, 1, 3'600'000,
                                      "Window length in ms; windows start at multiples of the slide");
  auto& w = c.worker.windows;
  w.length_ns = length_ms * 1'000'000;
  // The schema records the range for the default length (1..1000).
  w.slide_ns = file.get_int("windows.slide_ms", length_ms, 1, length_ms,
                            {"Window slide in ms, at most length_ms; smaller than the length = sliding windows",
                             "windows.length_ms (tumbling windows)"}) *
               1'000'000;
  w.allowed_lateness_ns = file.get_int("windows.allowed_lateness_ms", 250, 0, 3'600'000,
                                       "A window closes once frames cover event time this many ms past its end") *
                          1'000'000;
  w.late_policy =
      file.get_choice("windows.late_policy", "drop", {"drop", "update"},
                      "Late frames: drop = left out; update = the window is corrected and sent again") == "update"
          ? LatePolicy::kUpdate
          : LatePolicy::kDrop;
  w.update_retention_ns =
      file.get_int("windows.update_retention_ms", 10'000, 0, 86'400'000,
                   "late_policy update: how long after closing a window may still be corrected, ms") *
      1'000'000;
  for (double edge :
       file.get_number_array("windows.histogram_edges", {-100, -50, -20, -10, 0, 10, 20, 50, 100},
                             "Per-channel histogram bin edges, ascending, at most 64; [] = no histograms")) {
    if (!w.histogram_edges.empty() && !(edge > w.histogram_edges.back())) {
      file.fail("windows.histogram_edges", "edges must be strictly ascending");
    }
    w.histogram_edges.push_back(static_cast<float>(edge));
  }
  if (w.histogram_edges.size() > 64) file.fail("windows.histogram_edges", "at most 64 edges");
  w.band_powers = file.get_bool("windows.band_powers", true,
                                "Band powers (delta, theta, alpha, beta, gamma) per channel and window");
  c.worker.idle_timeout =
      milliseconds(file.get_int("windows.idle_timeout_ms", 2000, 1, 3'600'000,
                                "A device silent this long (wall clock, ms) has its open windows closed"));
  // How long a batch's windows may stay open once the worker has taken it (ingest_journal.hpp).
  journal.retain =
      std::chrono::duration_cast<milliseconds>(std::chrono::nanoseconds(w.length_ns + w.allowed_lateness_ns)) +
      c.worker.idle_timeout + journal_margin;
  if (!journal.log.directory.empty()) c.journal = journal;

  c.workers = static_cast<std::size_t>(
      file.get_int("processing.workers", 1, 1, 256, "Worker threads; devices are spread over them"));
  c.backend =
      file.get_choice("processing.backend", "cpu", {"auto", "cpu", "cuda"},
                      "Compute backend of the statistics and the scoring; auto = CUDA when built and a GPU is usable");
  c.worker.max_chunks_per_device = static_cast<std::size_t>(
      file.get_int("processing.max_chunks_per_tick", 64, 1, 1 << 20,
                   "Most chunks taken from one device per worker tick, so one busy device cannot starve others"));

  auto& a = c.worker.anomaly;
  a.backend = c.backend;
  a.enabled =
      file.get_bool("anomaly.enabled", true, "Online anomaly scoring of every window; needs windows.band_powers");
  const auto method =
      file.get_choice("anomaly.method", "kmeans", {"kmeans", "knn", "lof"},
                      "Score: distance to the nearest k-means centroid, to the k-th nearest reference vector, or LOF");
  a.method = method == "lof" ? ScoreMethod::kLof : method == "knn" ? ScoreMethod::kKthDistance : ScoreMethod::kKMeans;
  a.clusters = static_cast<std::size_t>(file.get_int("anomaly.clusters", 8, 1, 1024, "k-means: clusters"));
  a.kmeans_half_life_windows = file.get_double("anomaly.kmeans_half_life_windows", 3600, 1, 1e12,
                                               "k-means: half-life of the cluster weights in learned windows");
  a.neighbours = static_cast<std::size_t>(file.get_int("anomaly.neighbours", 10, 1, 32, "knn / lof: neighbours"));
  a.max_reference = static_cast<std::size_t>(
      file.get_int("anomaly.max_reference", 10000, 33, 100'000, "knn / lof: most reference vectors kept"));
  const double z_half_life =
      file.get_double("anomaly.zscore_half_life_windows", 0, 0, 1e12,
                      "Half-life of the per-device feature z-score in learned windows; 0 = never forget");
  a.zscore_half_life_windows = z_half_life > 0 ? z_half_life : std::numeric_limits<double>::infinity();
  a.learn_online = file.get_bool("anomaly.learn_online", true,
                                 "Keep learning from windows scored below enter_threshold after the warm-up");
  a.warmup_windows =
      static_cast<std::size_t>(file.get_int("anomaly.warmup_windows", 60, 1, 1'000'000,
                                            "A device's first windows only shape its z-score (no score, no events)"));
  a.enter_threshold = file.get_double("anomaly.enter_threshold", 3.0, 0.0, 1e9,
                                      "An event opens at a window scoring at least this (times the usual)");
  a.exit_threshold = file.get_double("anomaly.exit_threshold", 2.0, 0.0, 1e9,
                                     "An event stays open while windows score at least this; <= enter_threshold");
  if (a.exit_threshold > a.enter_threshold) file.fail("anomaly.exit_threshold", "must not exceed enter_threshold");
  a.min_duration_windows = static_cast<std::size_t>(file.get_int(
      "anomaly.min_duration_windows", 1, 1, 1'000'000, "An event is reported once it has lasted this many windows"));
  a.max_channels = static_cast<std::size_t>(file.get_int(
      "anomaly.max_channels", 3, 0, 256, "Channels named per event (those contributing most at the peak window)"));
  a.failover.retry_after_searches = static_cast<std::uint64_t>(
      file.get_int("processing.gpu_retry_after_batches", 100, 1, 1'000'000'000,
                   "After a GPU failure the CPU takes over; the GPU is tried again after this many batches"));
  a.failover.fail_primary_after = static_cast<std::uint64_t>(
      file.get_int("fault.cuda_fail_after_batches", 0, 0, INT64_MAX,
                   "Fault injection for tests: the primary backend's batch N fails once; 0 = never"));
  if (a.enabled && !w.band_powers) {
    file.fail("anomaly.enabled", "anomaly scoring needs windows.band_powers = true (its features include them)");
  }
  c.failover = a.failover;

  c.uplink.endpoint = file.get_string("uplink.endpoint", "tcp://127.0.0.1:5560", "The collector's ZeroMQ endpoint");
  c.uplink.gateway_id = c.gateway_id;
  c.uplink.resend_after = milliseconds(file.get_int("uplink.resend_after_ms", 3000, 10, 3'600'000,
                                                    "Resend a message not acknowledged after this many ms"));
  c.uplink.max_in_flight =
      static_cast<std::size_t>(file.get_int("uplink.max_in_flight", 65536, 1, 10'000'000,
                                            "Most messages awaiting acknowledgement; beyond it the workers wait"));
  c.uplink_ring_capacity =
      power_of_two(file, "uplink.ring_capacity", 4096, 1 << 24,
                   "Capacity of each worker's ring towards the uplink, in window summaries (a power of two)");
  c.uplink.max_send_rate_per_s = file.get_double("uplink.max_send_rate_per_s", 0, 0, 1e9,
                                                 "Most messages sent per second, resends included; 0 = no limit");
  if (auto spool = read_log_keys(
          file, "uplink", "spool",
          {16, 1024, "interval", "Disk spool of unacknowledged messages (survives a crash); \"\" = memory only",
           "always = fsync after each batch; interval = every spool_fsync_interval_ms; never = survives a process "
           "crash only"});
      !spool.directory.empty()) {
    c.uplink.spool = std::move(spool);
  }
  c.shutdown_timeout =
      milliseconds(file.get_int("uplink.shutdown_timeout_ms", 10000, 0, 3'600'000,
                                "On SIGINT/SIGTERM, how long to wait for the collector to acknowledge everything, ms"));
  // Read either way, so that a configuration with capture off is still checked whole.
  const auto frames_per_record = static_cast<std::size_t>(
      file.get_int("capture.frames_per_record", 256, 1, 65536, "Frames per uplinked raw-frame record"));
  if (file.get_bool("capture.raw_frames", false, "Uplink the frames themselves as well as the window summaries"))
    c.worker.capture_frames_per_record = frames_per_record;
  const auto curve_secret =
      file.get_string("uplink.curve_secret_key", "",
                      "CurveZMQ: this gateway's secret key file; \"\" (with curve_server_key) = plaintext");
  const auto curve_server =
      file.get_string("uplink.curve_server_key", "", "CurveZMQ: the collector's public key file (collector.curve.pub)");
  const bool plaintext =
      file.get_bool("uplink.plaintext", false, "Accept a plaintext uplink to an endpoint off this machine");
  if (curve_secret.empty() != curve_server.empty()) {
    file.fail(curve_secret.empty() ? "uplink.curve_secret_key" : "uplink.curve_server_key",
              "CurveZMQ needs both uplink.curve_secret_key and uplink.curve_server_key");
  }
  if (!curve_secret.empty()) {
    try {
      c.uplink.curve_keys = uplink::read_curve_keypair(curve_secret);
      c.uplink.curve_server_public = uplink::read_curve_public_key(curve_server);
    } catch (const std::exception& e) {
      file.fail(c.uplink.curve_keys ? "uplink.curve_server_key" : "uplink.curve_secret_key", e.what());
    }
  } else if (!plaintext && !uplink::is_loopback_endpoint(c.uplink.endpoint)) {
    file.fail("uplink.endpoint",
              "leaves this machine unencrypted: set uplink.curve_secret_key and "
              "uplink.curve_server_key (CurveZMQ), or uplink.plaintext = true to accept that");
  }

  c.model_dir = file.get_string(
      "model.dir", "", "Directory keeping the live and the previous model across restarts; \"\" = memory only");
  if (const auto key_file = file.get_string(
          "model.verify_key", "", "The collector's model-signing public key file; \"\" = pushed models are refused");
      !key_file.empty()) {
    try {
      c.model_verify_key = uplink::read_public_key_file(key_file);
    } catch (const std::runtime_error& e) {
      file.fail("model.verify_key", e.what());
    }
  }

  c.http = HttpConfig::from(file);
  c.stats_interval = std::chrono::seconds(
      file.get_int("log.stats_interval_s", 10, 0, 86'400, "Seconds between statistics lines in the log; 0 = none"));
  c.log_level = file.get_choice("log.level", "info", {"trace", "debug", "info", "warn", "error", "off"},
                                "Log level; --log-level overrides it");
  file.reject_unknown_keys();
  return c;
}

}  // namespace sensorgate
