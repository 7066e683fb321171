#include "sensorgate/uplink/uplink_sender.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "sensorgate/common/counter.hpp"
#include "sensorgate/common/runtime.hpp"
#include "sensorgate/uplink/codec.hpp"

namespace sensorgate::uplink {

UplinkSender::UplinkSender(zmq::context_t& context, UplinkSenderOptions options, std::vector<UplinkRing*> inputs)
    : options_(std::move(options)), inputs_(std::move(inputs)), socket_(context, zmq::socket_type::dealer) {
  // Queue nothing inside ZeroMQ for a collector that is not connected: in_flight_ is the
  // one place unacknowledged data lives, so it can be counted (and, later, spooled).
  socket_.set(zmq::sockopt::immediate, 1);
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::reconnect_ivl, 100);
  socket_.set(zmq::sockopt::reconnect_ivl_max, 5000);
  socket_.set(zmq::sockopt::sndhwm, 100000);
  if (options_.curve_keys) make_curve_client(socket_, *options_.curve_keys, options_.curve_server_public);
  socket_.connect(options_.endpoint);
  if (options_.spool) {
    spool_ = std::make_unique<DiskSpool>(*options_.spool);
    // What a previous run left unacknowledged goes first, in order, under the rate limit.
    for (auto& record : spool_->take_recovered())
      in_flight_.emplace(record.sequence, Pending{std::move(record.bytes), std::chrono::steady_clock::now()});
    next_sequence_ = std::max<std::uint64_t>(next_sequence_, spool_->highest_recovered_sequence() + 1);
    counters_.in_flight.store(in_flight_.size(), std::memory_order_relaxed);
  }
}

void UplinkSender::finish(std::chrono::steady_clock::time_point deadline) {
  deadline_ns_.store(deadline.time_since_epoch().count(), std::memory_order_relaxed);
  finishing_.store(true, std::memory_order_release);
}

bool UplinkSender::drain_inputs() {
  std::uint64_t drained = 0;
  const auto now_ns = wall_clock_ns();
  const auto started = std::chrono::steady_clock::now();
  bool emptied = true;
  StageTimer timer(uplink_stage_);
  for (auto* ring : inputs_) {
    UplinkRecord record;
    for (;;) {
      if (in_flight_.size() >= options_.max_in_flight) {
        emptied = false;  // backpressure: what is left waits in the ring
        break;
      }
      if (!ring->try_pop(record)) break;
      enqueue(record, now_ns);
      ++drained;
    }
  }
  // Whatever a worker had pushed before `started` has been taken.
  if (emptied) drained_through_ = started;
  const bool any = drained > 0;
  if (any) timer.finish(drained);
  // Durable (as the fsync policy says) before any of it is sent.
  if (spool_ && any) {
    StageTimer flush(spool_stage_);
    spool_->flush(std::chrono::steady_clock::now());
    flush.finish(0);
  }
  counters_.in_flight.store(in_flight_.size(), std::memory_order_relaxed);
  return any;
}

void UplinkSender::enqueue(const UplinkRecord& record, std::int64_t now_ns) {
  const std::uint64_t seq = next_sequence_++;
  auto bytes = encode_uplink_record(options_.gateway_id, seq, now_ns, record);
  bool spooled = false;
  if (spool_) {
    StageTimer timer(spool_stage_);
    const auto appended = spool_->append(seq, bytes);
    for (const auto dropped : appended.dropped) {
      if (in_flight_.erase(dropped) > 0) bump(counters_.dropped_overflow);
      memory_only_.erase(dropped);
    }
    spooled = appended.spooled;
    timer.finish(1);
    spool_stage_.add_io(1, bytes.size());
  }
  in_flight_.emplace(seq, Pending{std::move(bytes), std::chrono::steady_clock::now()});
  if (!spooled) memory_only_.insert(seq);
}

void UplinkSender::publish_durable_before() {
  auto before = drained_through_;
  if (!memory_only_.empty()) before = std::min(before, in_flight_.at(*memory_only_.begin()).enqueued);
  durable_before_ns_.store(before.time_since_epoch().count(), std::memory_order_release);
}

void UplinkSender::handle_command(std::span<const std::uint8_t> bytes) {
  std::string error;
  const auto command = decode_gateway_command(bytes, error);
  if (!command || !options_.on_command) {
    bump(counters_.bad_commands);
    spdlog::warn("uplink: ignoring a command from the collector: {}",
                 command ? "this gateway takes no commands" : error);
    return;
  }
  bump(counters_.commands);
  enqueue(options_.on_command(*command), wall_clock_ns());
  if (spool_) spool_->flush(std::chrono::steady_clock::now());
  counters_.in_flight.store(in_flight_.size(), std::memory_order_relaxed);
}

bool UplinkSender::take_send_token(std::chrono::steady_clock::time_point now) {
  if (options_.max_send_rate_per_s <= 0) return true;
  const double elapsed = std::chrono::duration<double>(now - tokens_at_).count();
  // Refill at the rate, holding at most one second's worth (the largest burst).
  send_tokens_ = std::min(options_.max_send_rate_per_s, send_tokens_ + elapsed * options_.max_send_rate_per_s);
  tokens_at_ = now;
  if (send_tokens_ < 1.0) return false;
  send_tokens_ -= 1.0;
  return true;
}

void UplinkSender::send_due(std::chrono::steady_clock::time_point now) {
  for (auto& [seq, pending] : in_flight_) {
    const bool first = pending.last_sent == std::chrono::steady_clock::time_point{};
    if (!first && now - pending.last_sent < options_.resend_after) continue;
    if (!take_send_token(now)) return;
    zmq::message_t msg(pending.bytes.data(), pending.bytes.size());
    if (!socket_.send(msg, zmq::send_flags::dontwait)) return;  // collector not connected: retry later
    uplink_stage_.add_io(1, pending.bytes.size());
    pending.last_sent = now;
    if (first) {
      pending.first_sent = now;
      uplink_stage_.record_queue_wait(now - pending.enqueued);
    }
    bump(first ? counters_.sent : counters_.resent);
  }
}

void UplinkSender::receive_acks(std::chrono::milliseconds wait) {
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, wait) <= 0) return;
  zmq::message_t msg;
  while (socket_.recv(msg, zmq::recv_flags::dontwait)) {
    const std::span<const std::uint8_t> bytes(static_cast<const std::uint8_t*>(msg.data()), msg.size());
    if (is_gateway_command(bytes)) {
      handle_command(bytes);
      continue;
    }
    std::string error;
    auto ack = decode_ack(bytes, error);
    if (!ack || ack->gateway_id != options_.gateway_id) {
      bump(counters_.bad_acks);
      spdlog::warn("uplink: ignoring ack: {}", ack ? "addressed to gateway '" + ack->gateway_id + "'" : error);
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    for (auto seq : ack->sequences) {
      if (const auto it = in_flight_.find(seq); it != in_flight_.end()) {
        if (it->second.first_sent != std::chrono::steady_clock::time_point{}) {
          ack_round_trip_.record(now - it->second.first_sent);
        }
        in_flight_.erase(it);
        memory_only_.erase(seq);
        bump(counters_.acked);
      }
      if (spool_) spool_->ack(seq);
    }
  }
  counters_.in_flight.store(in_flight_.size(), std::memory_order_relaxed);
}

std::vector<StageSnapshot> UplinkSender::stage_snapshots() const {
  auto uplink = uplink_stage_.snapshot();
  uplink.drops = {{"resent_messages", counters_.resent.load(std::memory_order_relaxed)},
                  {"bad_acks", counters_.bad_acks.load(std::memory_order_relaxed)},
                  {"bad_commands", counters_.bad_commands.load(std::memory_order_relaxed)}};
  std::vector<StageSnapshot> stages{std::move(uplink)};
  if (spool_) {
    auto spool = spool_stage_.snapshot();
    const auto& c = spool_->counters();
    spool.drops = {{"dropped_overflow_records", c.dropped_overflow.load(std::memory_order_relaxed)},
                   {"corrupt_records", c.corrupt_records.load(std::memory_order_relaxed)},
                   {"write_failures", c.write_failures.load(std::memory_order_relaxed)}};
    spool.spill_bytes = c.bytes.load(std::memory_order_relaxed);
    stages.push_back(std::move(spool));
  }
  return stages;
}

std::size_t UplinkSender::run() {
  for (;;) {
    // Read the flag before draining: once it is set the producers have stopped, so an
    // empty drain after it means nothing more will come.
    const bool finishing = finishing_.load(std::memory_order_acquire);
    const bool drained_any = drain_inputs();
    const auto now = std::chrono::steady_clock::now();
    send_due(now);
    receive_acks(drained_any ? std::chrono::milliseconds(0) : std::chrono::milliseconds(2));
    publish_durable_before();
    if (finishing && !drained_any) {
      if (in_flight_.empty()) return 0;
      if (now.time_since_epoch().count() >= deadline_ns_.load(std::memory_order_relaxed)) {
        spdlog::warn("uplink: stopping with {} messages not acknowledged by {}", in_flight_.size(), options_.endpoint);
        return in_flight_.size();
      }
    }
  }
}

}  // namespace sensorgate::uplink
