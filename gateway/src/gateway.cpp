#include "sensorgate/gateway/gateway.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace sensorgate {

Gateway::Gateway(GatewayConfig config)
    : config_(std::move(config)),
      registry_(config_.ring_capacity_chunks, config_.max_devices),
      inbox_(models_, config_.model_verify_key, config_.model_dir),
      mqtt_sink_(registry_, config_.full_policy, ingest_stopping_, "mqtt") {
  if (config_.mqtt_enabled) mqtt_ = std::make_unique<MqttIngest>(config_.mqtt, mqtt_sink_, &labels_);
  if (config_.serial) {
    serial_sink_ = std::make_unique<IngestSink>(registry_, config_.full_policy, ingest_stopping_,
                                                "serial:" + config_.serial->port);
    serial_ = std::make_unique<SerialIngest>(*config_.serial, *serial_sink_);
  }
  inbox_.restore();
  WorkerOptions worker_options = config_.worker;
  worker_options.models = &models_;
  worker_options.labels = &labels_;
  worker_options.live_view = &live_;
  std::vector<uplink::UplinkRing*> rings;
  for (std::size_t i = 0; i < config_.workers; ++i) {
    output_rings_.push_back(std::make_unique<uplink::UplinkRing>(config_.uplink_ring_capacity));
    rings.push_back(output_rings_.back().get());
    workers_.push_back(std::make_unique<ShardWorker>(i, config_.workers, registry_, worker_options,
                                                     kernels::make_failover_backend(config_.backend, config_.failover),
                                                     *output_rings_.back()));
  }
  auto uplink_options = config_.uplink;
  uplink_options.on_command = [this](const uplink::GatewayCommandRecord& command) { return inbox_.handle(command); };
  uplink_ = std::make_unique<uplink::UplinkSender>(zmq_, std::move(uplink_options), std::move(rings));
  if (config_.journal) {
    const auto open_journal = [this](IngestSink& sink, const char* name) {
      IngestJournalOptions options = *config_.journal;
      options.log.directory /= name;
      auto journal = std::make_unique<IngestJournal>(std::move(options), [this] { return uplink_->durable_before(); });
      sink.set_journal(journal.get());
      return journal;
    };
    mqtt_journal_ = open_journal(mqtt_sink_, "mqtt");
    if (serial_sink_) serial_journal_ = open_journal(*serial_sink_, "serial");
  }
}

Gateway::~Gateway() {
  if (running_) stop();
}

void Gateway::start() {
  for (auto& worker : workers_) {
    worker_threads_.emplace_back([this, w = worker.get()] { w->run(workers_stop_, workers_deadline_ns_); });
  }
  uplink_thread_ = std::thread([this] { unacked_at_exit_ = uplink_->run(); });
  running_ = true;
  spdlog::info("gateway '{}': {} worker(s) on the {} backend, {} ms windows (lateness {} ms), uplink to {}",
               config_.gateway_id, workers_.size(), workers_.front()->backend_name(),
               config_.worker.windows.length_ns / 1'000'000, config_.worker.windows.allowed_lateness_ns / 1'000'000,
               config_.uplink.endpoint);
  // What a crashed predecessor had accepted but not yet made safe comes before anything new.
  mqtt_sink_.replay_journal();
  if (serial_sink_) serial_sink_->replay_journal();
  if (serial_) serial_->start();
  if (mqtt_) mqtt_->start(config_.connect_timeout);
}

std::size_t Gateway::stop() {
  if (!running_) return unacked_at_exit_;
  running_ = false;
  const auto deadline = std::chrono::steady_clock::now() + config_.shutdown_timeout;
  // 1. No new frames: disconnect (the persistent session keeps what arrives meanwhile).
  // The workers still run, so a callback waiting for ring space finishes normally.
  if (mqtt_) mqtt_->stop();
  if (serial_) serial_->stop();  // pushes the frames it still held for batching
  ingest_stopping_.store(true);
  // 2. Workers drain their rings and flush every open window into the uplink rings.
  workers_deadline_ns_.store(deadline.time_since_epoch().count());
  workers_stop_.store(true, std::memory_order_release);
  for (auto& t : worker_threads_) t.join();
  worker_threads_.clear();
  const auto flushed = std::chrono::steady_clock::now();
  // 3. The uplink sends the rest and waits for the collector's acks, bounded.
  uplink_->finish(deadline);
  uplink_thread_.join();
  // 4. What is safe now need not be replayed by the next start.
  for (auto* journal : {mqtt_journal_.get(), serial_journal_.get()}) {
    if (journal == nullptr) continue;
    if (const auto left = journal->forget_flushed(flushed); left > 0) {
      spdlog::info("ingest journal: {} frame batches kept for the next start (their windows are not safe yet)", left);
    }
  }
  return unacked_at_exit_;
}

GatewaySnapshot Gateway::snapshot() const {
  GatewaySnapshot s;
  if (mqtt_) {
    s.mqtt_messages = mqtt_->messages();
    s.mqtt_connects = mqtt_->connection().connects();
    s.mqtt_connection_losses = mqtt_->connection().connection_losses();
    s.mqtt_reconnects = mqtt_->connection().reconnects();
    s.bad_labels = mqtt_->bad_labels();
  }
  s.labels_received = labels_.added();
  const auto& m = inbox_.counters();
  s.models_accepted = m.accepted.load();
  s.models_rejected = m.rejected.load();
  s.model_rollbacks = m.rollbacks.load();
  s.model_version = m.active_version.load();
  s.model_persist_failures = m.persist_failures.load();
  for (const IngestSink* sink :
       {static_cast<const IngestSink*>(&mqtt_sink_), static_cast<const IngestSink*>(serial_sink_.get())}) {
    if (sink == nullptr) continue;
    const auto& in = sink->counters();
    s.frames_in += in.frames.load();
    s.ring_full_waits += in.ring_full_waits.load();
    s.rejected_batches +=
        in.rejected_device_limit.load() + in.rejected_layout_change.load() + in.rejected_other_source.load();
    s.frames_dropped_on_stop += in.frames_dropped_on_stop.load();
  }
  if (serial_) s.serial = serial_->stats();
  s.bad_payloads = bad_payloads();
  for (const auto& w : workers_) {
    const auto& c = w->counters();
    s.frames_windowed += c.frames.load();
    s.duplicates += c.duplicates.load();
    s.reordered += c.reordered.load();
    s.missing += c.gap_frames.load() - c.reordered.load();
    s.late += c.late_frames.load() + c.too_old.load();
    s.frames_dropped_oldest += c.frames_dropped_oldest.load();
    s.windows += c.windows_closed.load();
    s.ring_full_waits += c.uplink_full_waits.load();
    s.windows_dropped_on_stop += c.windows_dropped_on_stop.load();
    s.windows_scored += c.windows_scored.load();
    s.windows_unscorable += c.windows_unscorable.load();
    s.anomaly_events += c.anomaly_events.load();
    s.events_dropped_on_stop += c.events_dropped_on_stop.load();
    s.gpu_failures += c.scoring_failures.load() + c.stats_failures.load();
    s.cpu_fallback_batches += c.scoring_fallbacks.load();
    const auto& k = w->classifier_counters();
    s.windows_classified += k.windows_classified.load();
    s.windows_unclassifiable += k.windows_unclassifiable.load();
    s.windows_labelled += k.windows_labelled.load();
    s.raw_frames_captured += c.raw_frames_captured.load();
    s.raw_frames_dropped_on_stop += c.raw_frames_dropped_on_stop.load();
  }
  const auto& u = uplink_->counters();
  s.uplink_sent = u.sent.load();
  s.uplink_acked = u.acked.load();
  s.uplink_in_flight = u.in_flight.load();
  s.bad_commands = u.bad_commands.load();
  if (const auto* spool = uplink_->spool_counters()) {
    s.spool_bytes = spool->bytes.load();
    s.spool_pending = spool->pending.load();
    s.spool_recovered = spool->recovered.load();
    s.spool_dropped_overflow = u.dropped_overflow.load();
    s.spool_corrupt = spool->corrupt_records.load();
    s.spool_write_failures = spool->write_failures.load();
  }
  for (const IngestJournal* journal : {mqtt_journal_.get(), serial_journal_.get()}) {
    if (journal == nullptr) continue;
    const auto& log = journal->log_counters();
    s.journal_bytes += log.bytes.load();
    s.journal_pending += log.pending.load();
    s.journal_replayed += journal->counters().replayed.load();
    s.journal_replay_rejected += journal->counters().replay_rejected.load();
    s.journal_dropped_overflow += log.dropped_overflow.load();
    s.journal_corrupt += log.corrupt_records.load();
    s.journal_write_failures += log.write_failures.load();
  }
  s.devices = registry_.size();
  for (std::size_t i = 0; i < s.devices; ++i) {
    const DeviceStream& d = registry_.at(i);
    const auto& c = d.counters;
    const auto gaps = c.gap_frames.load();
    const auto reordered = c.reordered.load();
    s.device_details.push_back(DeviceSnapshot{
        d.id, d.channels, d.sample_rate_hz, c.frames_accepted.load(), c.duplicates.load(), reordered, gaps - reordered,
        c.too_old.load(), c.late.load(), c.drift_ppm.load(), d.source, d.ring.size(), d.ring.capacity()});
  }
  return s;
}

std::vector<StageSnapshot> Gateway::stages() const {
  std::vector<StageSnapshot> all{mqtt_sink_.stage_snapshot()};
  if (serial_sink_) all.push_back(serial_sink_->stage_snapshot());
  for (const auto& w : workers_) {
    auto worker = w->stage_snapshots();
    all.insert(all.end(), std::make_move_iterator(worker.begin()), std::make_move_iterator(worker.end()));
  }
  auto uplink = uplink_->stage_snapshots();
  all.insert(all.end(), std::make_move_iterator(uplink.begin()), std::make_move_iterator(uplink.end()));
  auto merged = merge_stages(all);
  // Decoding refuses bad payloads before a batch reaches a sink: the transports count them.
  merged.front().drops.emplace_back("bad_payloads", bad_payloads());
  return merged;
}

std::uint64_t Gateway::bad_payloads() const {
  std::uint64_t bad = mqtt_ ? mqtt_->decoder().rejected_total() : 0;
  if (serial_) bad += serial_->stats().bad_payloads;
  return bad;
}

std::string Gateway::backend_name() const {
  return std::string(workers_.front()->backend_name());
}

std::string to_json(const GatewaySnapshot& s) {
  return snapshot_json(s).dump(2);
}

nlohmann::json snapshot_json(const GatewaySnapshot& s) {
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& d : s.device_details) {
    devices.push_back({{"id", d.id},
                       {"channels", d.channels},
                       {"sample_rate_hz", d.sample_rate_hz},
                       {"frames_accepted", d.frames_accepted},
                       {"duplicates", d.duplicates},
                       {"reordered", d.reordered},
                       {"missing", d.missing},
                       {"too_old", d.too_old},
                       {"late", d.late},
                       {"drift_ppm", d.drift_ppm},
                       {"source", d.source},
                       {"ring_used", d.ring_used},
                       {"ring_capacity", d.ring_capacity}});
  }
  nlohmann::json doc = {{"mqtt_messages", s.mqtt_messages},
                        {"mqtt_connects", s.mqtt_connects},
                        {"mqtt_connection_losses", s.mqtt_connection_losses},
                        {"mqtt_reconnects", s.mqtt_reconnects},
                        {"bad_payloads", s.bad_payloads},
                        {"frames_in", s.frames_in},
                        {"frames_windowed", s.frames_windowed},
                        {"duplicates", s.duplicates},
                        {"reordered", s.reordered},
                        {"missing", s.missing},
                        {"late", s.late},
                        {"ring_full_waits", s.ring_full_waits},
                        {"rejected_batches", s.rejected_batches},
                        {"frames_dropped_on_stop", s.frames_dropped_on_stop},
                        {"frames_dropped_oldest", s.frames_dropped_oldest},
                        {"windows_dropped_on_stop", s.windows_dropped_on_stop},
                        {"windows", s.windows},
                        {"windows_scored", s.windows_scored},
                        {"windows_unscorable", s.windows_unscorable},
                        {"anomaly_events", s.anomaly_events},
                        {"events_dropped_on_stop", s.events_dropped_on_stop},
                        {"gpu_failures", s.gpu_failures},
                        {"cpu_fallback_batches", s.cpu_fallback_batches},
                        {"uplink_sent", s.uplink_sent},
                        {"uplink_acked", s.uplink_acked},
                        {"uplink_in_flight", s.uplink_in_flight},
                        {"spool_bytes", s.spool_bytes},
                        {"spool_pending", s.spool_pending},
                        {"spool_recovered", s.spool_recovered},
                        {"spool_dropped_overflow", s.spool_dropped_overflow},
                        {"spool_corrupt", s.spool_corrupt},
                        {"spool_write_failures", s.spool_write_failures},
                        {"journal_bytes", s.journal_bytes},
                        {"journal_pending", s.journal_pending},
                        {"journal_replayed", s.journal_replayed},
                        {"journal_replay_rejected", s.journal_replay_rejected},
                        {"journal_dropped_overflow", s.journal_dropped_overflow},
                        {"journal_corrupt", s.journal_corrupt},
                        {"journal_write_failures", s.journal_write_failures},
                        {"models_accepted", s.models_accepted},
                        {"models_rejected", s.models_rejected},
                        {"model_rollbacks", s.model_rollbacks},
                        {"model_version", s.model_version},
                        {"model_persist_failures", s.model_persist_failures},
                        {"windows_classified", s.windows_classified},
                        {"windows_unclassifiable", s.windows_unclassifiable},
                        {"windows_labelled", s.windows_labelled},
                        {"labels_received", s.labels_received},
                        {"bad_labels", s.bad_labels},
                        {"bad_commands", s.bad_commands},
                        {"raw_frames_captured", s.raw_frames_captured},
                        {"raw_frames_dropped_on_stop", s.raw_frames_dropped_on_stop},
                        {"devices", devices}};
  if (s.serial) {
    const auto& r = *s.serial;
    doc["serial"] = {{"port", r.port},
                     {"format", r.format},
                     {"bytes_read", r.bytes_read},
                     {"frames", r.frames},
                     {"packets", r.packets},
                     {"bad_payloads", r.bad_payloads},
                     {"crc_errors", r.crc_errors},
                     {"cobs_errors", r.cobs_errors},
                     {"oversize", r.oversize},
                     {"resyncs", r.resyncs},
                     {"bytes_discarded", r.bytes_discarded},
                     {"lost_packets", r.lost_packets},
                     {"unpaired_daisy", r.unpaired_daisy},
                     {"read_errors", r.read_errors},
                     {"reopens", r.reopens},
                     {"open_failures", r.open_failures}};
  }
  return doc;
}

}  // namespace sensorgate
