#include "sensorgate/sim/fault_injector.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace sensorgate::sim {

FaultInjector::FaultInjector(FaultOptions options, std::vector<std::string> device_ids)
    : options_(std::move(options)),
      device_ids_(std::move(device_ids)),
      rng_(options_.seed),
      batches_seen_(device_ids_.size(), 0),
      burst_left_(device_ids_.size(), 0),
      held_(device_ids_.size()) {
  if (!options_.log_path.empty()) {
    log_.open(options_.log_path, std::ios::trunc);
    if (!log_) throw std::runtime_error("cannot write the fault log " + options_.log_path);
  }
}

void FaultInjector::log(const char* fault, const OutgoingBatch& batch) {
  if (!log_.is_open()) return;
  log_ << fmt::format(R"({{"fault":"{}","device":"{}","first_seq":{},"frames":{}}})", fault, device_ids_[batch.device],
                      batch.first_seq, batch.frames)
       << '\n';
  log_.flush();
}

void FaultInjector::release_due(std::uint32_t device, std::int64_t now_ns, bool everything,
                                std::vector<OutgoingBatch>& out) {
  auto& held = held_[device];
  for (auto it = held.begin(); it != held.end();) {
    if (everything || (it->batches_to_wait == 0 && now_ns >= it->release_time_ns)) {
      out.push_back(std::move(it->batch));
      it = held.erase(it);
    } else {
      ++it;
    }
  }
}

void FaultInjector::submit(OutgoingBatch batch, bool last, std::vector<OutgoingBatch>& out) {
  const std::uint32_t device = batch.device;
  const std::int64_t now = batch.end_time_ns;
  const bool first = batches_seen_[device]++ == 0;
  // A held batch counts down only the batches that really go out after it, so it always
  // arrives after a newer one: the receiver sees it as reordered, never as in order.
  auto publish = [&](OutgoingBatch b) {
    out.push_back(std::move(b));
    for (auto& h : held_[device]) {
      if (h.batches_to_wait > 0) --h.batches_to_wait;
    }
  };
  if (first || last || !options_.any_batch_faults()) {
    publish(std::move(batch));
    // After the last batch, everything still held goes out (reordered behind it).
    release_due(device, now, last, out);
    return;
  }
  if (burst_left_[device] > 0 || chance(options_.burst_rate)) {
    if (burst_left_[device] == 0) burst_left_[device] = options_.burst_batches;
    --burst_left_[device];
    counts_.dropped_frames += batch.frames;
    log("burst_loss", batch);
  } else if (chance(options_.drop_rate)) {
    counts_.dropped_frames += batch.frames;
    log("drop", batch);
  } else if (chance(options_.duplicate_rate)) {
    counts_.duplicated_frames += batch.frames;
    log("duplicate", batch);
    publish(batch);
    publish(std::move(batch));
  } else if (chance(options_.reorder_rate)) {
    counts_.reordered_frames += batch.frames;
    log("reorder", batch);
    held_[device].push_back(Held{std::move(batch), options_.reorder_depth, INT64_MIN});
  } else if (chance(options_.delay_rate)) {
    counts_.delayed_frames += batch.frames;
    log("delay", batch);
    held_[device].push_back(Held{std::move(batch), 1, now + static_cast<std::int64_t>(options_.delay_ms * 1e6)});
  } else {
    publish(std::move(batch));
  }
  release_due(device, now, false, out);
}

}  // namespace sensorgate::sim
