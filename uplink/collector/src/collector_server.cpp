#include "sensorgate/collector/collector_server.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <vector>

#include "sensorgate/uplink/codec.hpp"

namespace sensorgate::collector {
namespace {

void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

/// A received message: who sent it (ROUTER routing id) and what it said.
struct Received {
  std::string routing_id;
  std::string gateway_id;
  std::uint64_t sequence;
};

}  // namespace

CollectorServer::CollectorServer(zmq::context_t& context, CollectorOptions options, SqliteStore& store)
    : options_(std::move(options)), store_(store), socket_(context, zmq::socket_type::router) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::rcvhwm, 100000);
  socket_.bind(options_.bind);
}

std::string CollectorServer::endpoint() const {
  return socket_.get(zmq::sockopt::last_endpoint);
}

void CollectorServer::run(const std::atomic<bool>& stop) {
  std::vector<StoredWindow> windows;
  std::vector<StoredEvent> events;
  std::vector<Received> received;
  auto last_bad_log = std::chrono::steady_clock::time_point{};
  while (!stop.load(std::memory_order_relaxed)) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) <= 0) continue;

    // Gather a batch: whatever is queued, up to the limits, so one commit covers many.
    windows.clear();
    events.clear();
    received.clear();
    const auto batch_end = std::chrono::steady_clock::now() + options_.batch_max_wait;
    while (received.size() < options_.batch_max_messages && std::chrono::steady_clock::now() < batch_end) {
      zmq::message_t routing_id;
      zmq::message_t payload;
      if (!socket_.recv(routing_id, zmq::recv_flags::dontwait)) {
        zmq::pollitem_t again{socket_.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&again, 1, std::chrono::milliseconds(1)) <= 0) break;
        continue;
      }
      if (!routing_id.more() || !socket_.recv(payload, zmq::recv_flags::dontwait)) continue;
      // A well-behaved DEALER sends one frame; drain any extras so the next recv starts
      // at a routing id again.
      for (bool more = payload.more(); more;) {
        zmq::message_t extra;
        more = socket_.recv(extra, zmq::recv_flags::dontwait) && extra.more();
      }
      std::string error;
      auto decoded = uplink::decode_uplink({static_cast<const std::uint8_t*>(payload.data()), payload.size()}, error);
      if (!decoded || (!decoded->window && !decoded->event)) {
        bump(counters_.bad_messages);
        const auto now = std::chrono::steady_clock::now();
        if (now - last_bad_log > std::chrono::seconds(1)) {
          spdlog::warn("collector: dropped a bad message ({} so far): {}",
                       counters_.bad_messages.load(std::memory_order_relaxed),
                       decoded ? "unsupported payload type" : error);
          last_bad_log = now;
        }
        continue;
      }
      bump(counters_.messages);
      received.push_back({routing_id.to_string(), decoded->gateway_id, decoded->sequence});
      if (decoded->window) {
        windows.push_back({std::move(decoded->gateway_id), std::move(*decoded->window)});
      } else {
        events.push_back({std::move(decoded->gateway_id), std::move(*decoded->event)});
      }
    }
    if (received.empty()) continue;

    try {
      if (!windows.empty()) {
        std::uint64_t rows = 0;
        for (const auto& w : windows) rows += w.window.channels.size();
        const std::uint64_t inserted = store_.store(windows);
        bump(counters_.rows_stored, inserted);
        bump(counters_.rows_duplicate, rows - inserted);
      }
      if (!events.empty()) bump(counters_.event_rows_stored, store_.store_events(events));
    } catch (const std::exception& e) {
      bump(counters_.store_failures);
      spdlog::error("collector: storing a batch of {} messages failed, not acknowledged: {}", received.size(),
                    e.what());
      continue;
    }

    // One Ack per sending socket and gateway.
    std::map<std::pair<std::string, std::string>, std::vector<std::uint64_t>> acks;
    for (const auto& r : received) acks[{r.routing_id, r.gateway_id}].push_back(r.sequence);
    for (const auto& [key, sequences] : acks) {
      const auto bytes = uplink::encode_ack(key.second, sequences);
      socket_.send(zmq::buffer(key.first), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
      bump(counters_.acks_sent);
    }
  }
}

}  // namespace sensorgate::collector
