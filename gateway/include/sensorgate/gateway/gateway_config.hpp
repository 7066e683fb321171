#pragma once
// GatewayConfig: every setting of sensorgate-gateway, read from TOML (config/gateway.toml
// documents each key) with command-line overrides applied by main().

#include <chrono>
#include <optional>
#include <string>

#include "sensorgate/common/config_file.hpp"
#include "sensorgate/common/http_config.hpp"
#include "sensorgate/gateway/ingest_journal.hpp"
#include "sensorgate/gateway/ingest_sink.hpp"
#include "sensorgate/gateway/mqtt_ingest.hpp"
#include "sensorgate/gateway/serial_ingest.hpp"
#include "sensorgate/gateway/shard_worker.hpp"
#include "sensorgate/uplink/model_envelope.hpp"
#include "sensorgate/uplink/uplink_sender.hpp"

namespace sensorgate {

struct GatewayConfig {
  std::string gateway_id;
  MqttIngestOptions mqtt;
  /// MQTT ingest runs (mqtt.enabled; default: on unless a serial port is configured).
  bool mqtt_enabled = true;
  /// Serial ingest from serial.port, when one is configured.
  std::optional<SerialIngestOptions> serial;
  std::size_t ring_capacity_chunks = 256;
  FullPolicy full_policy = FullPolicy::kBlock;
  std::size_t max_devices = 4096;
  /// The ingest journal (ingest.journal_*); its directory holds one journal per source
  /// ("mqtt", "serial"). None: a crash loses the windows open at that moment.
  std::optional<IngestJournalOptions> journal;
  std::size_t workers = 1;
  std::string backend = "cpu";
  /// GPU failover of the block statistics (the scoring's is in worker.anomaly.failover).
  kernels::FailoverOptions failover;
  WorkerOptions worker;
  uplink::UplinkSenderOptions uplink;
  std::size_t uplink_ring_capacity = 4096;
  /// The collector's model-signing public key (model.verify_key); none: pushed models are refused.
  std::optional<uplink::PublicKey> model_verify_key;
  /// Where the live and previous model envelopes are kept across restarts (model.dir); "": memory only.
  std::string model_dir;
  std::chrono::milliseconds shutdown_timeout{10000};
  std::chrono::milliseconds connect_timeout{10000};
  /// The HTTP API, metrics and dashboard ([http]; off unless http.port is set).
  HttpConfig http;
  std::chrono::seconds stats_interval{10};
  std::string log_level = "info";

  /// Reads every key (defaults for absent ones) and rejects unknown keys; throws ConfigError.
  static GatewayConfig from(ConfigFile& file);
};

}  // namespace sensorgate
