#include "sensorgate/collector/collector_server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <vector>

#include "sensorgate/common/counter.hpp"
#include "sensorgate/common/runtime.hpp"
#include "sensorgate/uplink/codec.hpp"

namespace sensorgate::collector {
namespace {

/// With CurveZMQ, the ZAP user id of the connection is the allow-list name of the
/// gateway's key (or the key itself when it has no name): a named key may only send as
/// that gateway id, so one gateway's key cannot write another gateway's rows.
bool sender_may_use(zmq::message_t& message, const std::string& gateway_id) {
  const char* user = zmq_msg_gets(message.handle(), "User-Id");
  if (user == nullptr) return false;
  const std::string_view name(user);
  return uplink::is_curve_key_z85(name) || name == gateway_id;
}

/// A received message: who sent it (ROUTER routing id) and what it said.
struct Received {
  std::string routing_id;
  std::string gateway_id;
  std::uint64_t sequence;
};

}  // namespace

CollectorServer::CollectorServer(zmq::context_t& context, CollectorOptions options, Store& store)
    : options_(std::move(options)),
      store_(store),
      zap_(options_.curve_keys ? std::make_unique<uplink::ZapAuthenticator>(context, options_.allow_list, "sensorgate")
                               : nullptr),
      socket_(context, zmq::socket_type::router) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::rcvhwm, 100000);
  if (options_.curve_keys) uplink::make_curve_server(socket_, *options_.curve_keys, "sensorgate");
  socket_.bind(options_.bind);
}

std::string CollectorServer::endpoint() const {
  return socket_.get(zmq::sockopt::last_endpoint);
}

void CollectorServer::run(const std::atomic<bool>& stop) {
  std::vector<StoredWindow> windows;
  std::vector<StoredEvent> events;
  std::vector<StoredRawFrames> raw_frames;
  std::vector<Received> received;
  std::vector<std::pair<std::string, uplink::ModelStatusRecord>> answers;
  std::map<std::string, GatewayActivity> activity;
  auto last_bad_log = std::chrono::steady_clock::time_point{};
  while (!stop.load(std::memory_order_relaxed)) {
    deliver_pushes(std::chrono::steady_clock::now());
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::min(options_.push_poll, std::chrono::milliseconds(100))) <= 0) continue;

    // Gather a batch: whatever is queued, up to the limits, so one commit covers many.
    windows.clear();
    events.clear();
    raw_frames.clear();
    received.clear();
    answers.clear();
    activity.clear();
    std::uint64_t batch_bytes = 0;
    const auto batch_start = std::chrono::steady_clock::now();
    const auto batch_end = batch_start + options_.batch_max_wait;
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
      if (!decoded || (!decoded->window && !decoded->event && !decoded->model_status && !decoded->raw_frames)) {
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
      if (zap_ && !sender_may_use(payload, decoded->gateway_id)) {
        bump(counters_.wrong_gateway_id);
        const auto now = std::chrono::steady_clock::now();
        if (now - last_bad_log > std::chrono::seconds(1)) {
          spdlog::warn(
              "collector: dropped a message claiming gateway id '{}' from a connection whose key is not that "
              "gateway's ({} so far)",
              decoded->gateway_id, counters_.wrong_gateway_id.load(std::memory_order_relaxed));
          last_bad_log = now;
        }
        continue;
      }
      bump(counters_.messages);
      batch_bytes += payload.size();
      auto& seen = activity[decoded->gateway_id];
      ++seen.messages;
      seen.last_sequence = std::max(seen.last_sequence, decoded->sequence);
      if (decoded->window) {
        ++seen.windows;
        seen.rows += decoded->window->channels.size();
      } else if (decoded->event) {
        ++seen.events;
      }
      received.push_back({routing_id.to_string(), decoded->gateway_id, decoded->sequence});
      routing_ids_[decoded->gateway_id] = routing_id.to_string();
      if (decoded->model_status) {
        answers.emplace_back(std::move(decoded->gateway_id), std::move(*decoded->model_status));
      } else if (decoded->raw_frames) {
        raw_frames.push_back({std::move(decoded->gateway_id), std::move(*decoded->raw_frames)});
      } else if (decoded->window) {
        windows.push_back({std::move(decoded->gateway_id), std::move(*decoded->window)});
      } else {
        events.push_back({std::move(decoded->gateway_id), std::move(*decoded->event)});
      }
    }
    if (received.empty()) continue;
    merge_activity(activity);

    const auto commit_start = std::chrono::steady_clock::now();
    store_stage_.record_queue_wait(commit_start - batch_start);
    try {
      if (!windows.empty()) {
        std::uint64_t rows = 0;
        for (const auto& w : windows) rows += w.window.channels.size();
        const std::uint64_t inserted = store_.store(windows);
        bump(counters_.rows_stored, inserted);
        bump(counters_.rows_duplicate, rows - inserted);
      }
      if (!events.empty()) bump(counters_.event_rows_stored, store_.store_events(events));
      if (!raw_frames.empty()) bump(counters_.raw_frames_stored, store_.store_raw_frames(raw_frames));
      for (const auto& [gateway_id, status] : answers) record_answer(gateway_id, status);
      store_stage_.record_batch(std::chrono::steady_clock::now() - commit_start, received.size());
      const auto transactions = static_cast<std::uint64_t>(!windows.empty()) +
                                static_cast<std::uint64_t>(!events.empty()) +
                                static_cast<std::uint64_t>(!raw_frames.empty()) + answers.size();
      store_stage_.add_io(transactions, batch_bytes);
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

void CollectorServer::merge_activity(const std::map<std::string, GatewayActivity>& batch) {
  const auto now = wall_clock_ns();
  const std::lock_guard lock(gateways_mutex_);
  for (const auto& [id, seen] : batch) {
    auto& total = gateways_[id];
    total.messages += seen.messages;
    total.windows += seen.windows;
    total.events += seen.events;
    total.rows += seen.rows;
    total.last_seen_ns = now;
    total.last_sequence = std::max(total.last_sequence, seen.last_sequence);
  }
}

std::map<std::string, GatewayActivity> CollectorServer::gateways() const {
  const std::lock_guard lock(gateways_mutex_);
  return gateways_;
}

StageSnapshot CollectorServer::store_stage() const {
  auto s = store_stage_.snapshot();
  const auto load = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  s.drops = {{"bad_messages", load(counters_.bad_messages)},
             {"wrong_gateway_id", load(counters_.wrong_gateway_id)},
             {"duplicate_rows", load(counters_.rows_duplicate)},
             {"store_failures", load(counters_.store_failures)}};
  return s;
}

void CollectorServer::record_answer(const std::string& gateway_id, const uplink::ModelStatusRecord& status) {
  bump(counters_.model_answers);
  const bool rolled_back = status.accepted && status.detail == "rolled back";
  const char* state = !status.accepted ? "rejected" : rolled_back ? "rolled_back" : "active";
  store_.record_deployment({gateway_id, status.version, state, status.detail, wall_clock_ns()});
  if (rolled_back) store_.record_deployment({gateway_id, status.active_version, "active", "", wall_clock_ns()});
  if (status.accepted) {
    spdlog::info("collector: gateway {} {} model v{} (v{} live)", gateway_id,
                 rolled_back ? "rolled back from" : "put live", status.version, status.active_version);
  } else {
    spdlog::warn("collector: gateway {} refused model v{}: {}", gateway_id, status.version, status.detail);
  }
  // A request naming this gateway alone is done once it answers.
  for (auto it = sent_.begin(); it != sent_.end();) {
    if (it->first.second == gateway_id) {
      if (!it->second.broadcast) store_.complete_push(it->first.first);
      it = sent_.erase(it);
    } else {
      ++it;
    }
  }
}

void CollectorServer::deliver_pushes(std::chrono::steady_clock::time_point now) {
  if (now < next_push_poll_) return;
  next_push_poll_ = now + options_.push_poll;
  try {
    const auto requests = store_.pending_pushes();
    if (requests.empty()) return;
    const auto deployments = store_.deployments();
    const auto answered = [&](const std::string& gateway_id, std::uint32_t version) {
      return std::any_of(deployments.begin(), deployments.end(), [&](const Deployment& d) {
        return d.gateway_id == gateway_id && d.version == version && d.status != "sent";
      });
    };
    for (const auto& request : requests) {
      if (request.rollback && request.gateway_id == "*") {
        spdlog::error("collector: push request {} asks every gateway to roll back; a rollback must name one",
                      request.id);
        store_.complete_push(request.id);
        continue;
      }
      std::vector<std::string> targets;
      if (request.gateway_id == "*") {
        for (const auto& [gateway_id, routing_id] : routing_ids_) {
          if (!answered(gateway_id, request.version)) targets.push_back(gateway_id);
        }
      } else if (routing_ids_.contains(request.gateway_id)) {
        targets.push_back(request.gateway_id);
      }
      for (const auto& gateway_id : targets) {
        const auto key = std::make_pair(request.id, gateway_id);
        if (const auto it = sent_.find(key); it != sent_.end() && now - it->second.at < options_.push_resend_after) {
          continue;
        }
        uplink::GatewayCommandRecord command;
        command.rollback = request.rollback;
        if (!request.rollback) {
          const auto model = store_.model(request.version);
          if (!model) {
            bump(counters_.push_failures);
            spdlog::error("collector: push request {} names model v{}, which is not stored; dropping it", request.id,
                          request.version);
            store_.complete_push(request.id);
            break;
          }
          command.model = model->envelope;
        }
        const auto bytes = uplink::encode_gateway_command(command);
        socket_.send(zmq::buffer(routing_ids_[gateway_id]), zmq::send_flags::sndmore);
        if (!socket_.send(zmq::buffer(bytes), zmq::send_flags::dontwait)) {
          bump(counters_.push_failures);
          continue;
        }
        sent_[key] = {now, request.gateway_id == "*"};
        bump(counters_.commands_sent);
        if (!request.rollback) store_.record_deployment({gateway_id, request.version, "sent", "", wall_clock_ns()});
        spdlog::info("collector: sent {} to gateway {}",
                     request.rollback ? std::string("a rollback") : "model v" + std::to_string(request.version),
                     gateway_id);
      }
    }
  } catch (const std::exception& e) {
    bump(counters_.push_failures);
    spdlog::error("collector: delivering model pushes failed: {}", e.what());
  }
}

}  // namespace sensorgate::collector
