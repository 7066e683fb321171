#pragma once
// UplinkSender: the gateway's single uplink thread. It drains the workers' result rings,
// gives every message the next per-gateway sequence number, sends it to the collector over
// a ZeroMQ DEALER socket and keeps it until the collector's Ack for that sequence arrives;
// unacknowledged messages are sent again after `resend_after`. While `max_in_flight`
// messages await acks it stops draining, so a slow or absent collector pushes back on the
// workers and, through the rings, on ingest instead of losing data. The collector's
// commands (model push, rollback) arrive on the same socket and are answered through it.
//
// It owns the socket: every ZeroMQ call happens on the thread that calls run().

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "sensorgate/common/spsc_ring.hpp"
#include "sensorgate/common/stage_metrics.hpp"
#include "sensorgate/uplink/codec.hpp"
#include "sensorgate/uplink/curve_security.hpp"
#include "sensorgate/uplink/disk_spool.hpp"
#include "sensorgate/uplink/records.hpp"

namespace sensorgate::uplink {

struct UplinkSenderOptions {
  std::string endpoint = "tcp://127.0.0.1:5560";
  std::string gateway_id;
  std::chrono::milliseconds resend_after{3000};
  std::size_t max_in_flight = 65536;
  /// Keep unacknowledged messages in a disk spool too (survives a crash); none: memory only.
  std::optional<DiskSpoolOptions> spool;
  /// Most messages sent per second, first sends and resends together (a backlog after an
  /// outage or a recovered spool must not flood the collector); 0 = no limit.
  double max_send_rate_per_s = 0;
  /// Handles a command the collector sent on this connection (model push, rollback) on the
  /// uplink thread; its answer is sent back like any other message. Unset: commands are
  /// refused (counted as bad_commands).
  std::function<ModelStatusRecord(const GatewayCommandRecord&)> on_command;
  /// CurveZMQ: this gateway's key pair and the collector's public key; none: plaintext.
  std::optional<CurveKeyPair> curve_keys;
  std::string curve_server_public;
};

/// Counters: written only by the uplink thread, readable from any thread.
struct UplinkCounters {
  std::atomic<std::uint64_t> sent{0};    ///< messages sent for the first time
  std::atomic<std::uint64_t> resent{0};  ///< retransmissions after resend_after
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> bad_acks{0};          ///< unverifiable acks or acks for another gateway
  std::atomic<std::uint64_t> in_flight{0};         ///< gauge: sent, not yet acknowledged
  std::atomic<std::uint64_t> dropped_overflow{0};  ///< unacknowledged messages dropped by the spool's size bound
  std::atomic<std::uint64_t> commands{0};          ///< collector commands handled
  std::atomic<std::uint64_t> bad_commands{0};      ///< unverifiable commands, or none expected
};

using UplinkRing = SpscRing<UplinkRecord>;

class UplinkSender {
 public:
  UplinkSender(zmq::context_t& context, UplinkSenderOptions options, std::vector<UplinkRing*> inputs);

  /// Runs the send/ack loop until finish() was called, the inputs are empty and every
  /// message is acknowledged, or the finish deadline passes. Returns the number of
  /// messages left unacknowledged.
  std::size_t run();

  /// Asks run() to return once everything already queued is delivered, or at `deadline`.
  /// Call it after the producers (workers) have stopped.
  void finish(std::chrono::steady_clock::time_point deadline);

  [[nodiscard]] const UplinkCounters& counters() const { return counters_; }
  /// The spool's counters; null without a spool.
  [[nodiscard]] const DiskSpoolCounters* spool_counters() const { return spool_ ? &spool_->counters() : nullptr; }
  /// The "uplink" stage (encode and send; its queue wait is the time from taking a record
  /// off a worker's ring to its first send) and, with a spool, the "spool" stage.
  [[nodiscard]] std::vector<StageSnapshot> stage_snapshots() const;
  /// Time from a message's first send to its acknowledgement (collector commit included).
  [[nodiscard]] LatencyHistogram::Snapshot ack_round_trip() const { return ack_round_trip_.snapshot(); }
  /// Every message taken off the inputs before this moment is safe from a gateway crash:
  /// written to the spool, or (without a spool, or when its write failed) acknowledged by
  /// the collector. The ingest journal forgets frames only behind it. Any thread; the
  /// clock's epoch until the first pass that emptied every input.
  [[nodiscard]] std::chrono::steady_clock::time_point durable_before() const {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(durable_before_ns_.load(std::memory_order_acquire)));
  }

 private:
  struct Pending {
    std::vector<std::uint8_t> bytes;
    std::chrono::steady_clock::time_point enqueued{};
    std::chrono::steady_clock::time_point first_sent{};  // epoch: not sent yet
    std::chrono::steady_clock::time_point last_sent{};
  };

  bool drain_inputs();
  /// Publishes durable_before() after a pass of the loop.
  void publish_durable_before();
  /// Gives `record` the next sequence number, spools it and queues it for sending.
  void enqueue(const UplinkRecord& record, std::int64_t now_ns);
  void handle_command(std::span<const std::uint8_t> bytes);
  /// True when the send rate limit lets one more message go now (and takes its token).
  bool take_send_token(std::chrono::steady_clock::time_point now);
  void send_due(std::chrono::steady_clock::time_point now);
  void receive_acks(std::chrono::milliseconds wait);

  UplinkSenderOptions options_;
  std::vector<UplinkRing*> inputs_;
  zmq::socket_t socket_;
  std::map<std::uint64_t, Pending> in_flight_;  // by sequence: resends go oldest first
  // In-flight messages that only memory holds (no spool, or its write failed): a crash
  // would lose them. Lowest sequence first, which is also the earliest taken.
  std::set<std::uint64_t> memory_only_;
  // The start of the last drain that emptied every input.
  std::chrono::steady_clock::time_point drained_through_{};
  std::atomic<std::int64_t> durable_before_ns_{0};
  std::uint64_t next_sequence_ = 1;
  std::unique_ptr<DiskSpool> spool_;
  double send_tokens_ = 0;
  std::chrono::steady_clock::time_point tokens_at_{};
  std::atomic<bool> finishing_{false};
  std::atomic<std::int64_t> deadline_ns_{0};
  UplinkCounters counters_;
  StageMetrics uplink_stage_{"uplink", "messages"};
  StageMetrics spool_stage_{"spool", "records"};
  LatencyHistogram ack_round_trip_;
};

}  // namespace sensorgate::uplink
