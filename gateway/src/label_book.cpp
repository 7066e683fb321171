#include "sensorgate/gateway/label_book.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

namespace sensorgate {

std::optional<LabelIntervalMessage> parse_label_message(const std::string& device_id, const std::string& payload,
                                                        std::string& error) {
  const auto json = nlohmann::json::parse(payload, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  const auto integer = [&](const char* key) -> std::optional<std::int64_t> {
    const auto it = json.find(key);
    if (it == json.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
  };
  const auto start = integer("start_ns");
  const auto end = integer("end_ns");
  const auto label = integer("label");
  if (!start || !end || !label) {
    error = R"(needs integer "start_ns", "end_ns" and "label")";
    return std::nullopt;
  }
  if (*end <= *start || *label < 0 || *label > INT32_MAX) {
    error = "end_ns must be after start_ns and label in [0, 2^31)";
    return std::nullopt;
  }
  return LabelIntervalMessage{device_id, *start, *end, static_cast<std::int32_t>(*label)};
}

void LabelBook::add(const LabelIntervalMessage& label) {
  const std::scoped_lock lock(mutex_);
  auto& intervals = devices_[label.device_id];
  intervals[label.start_ns] = {label.end_ns, label.label};
  ++added_;
  // Saturating: a label that starts within retention_ns_ of the int64 minimum (any int64 is
  // a valid start_ns on the wire) must not overflow the subtraction.
  const std::int64_t newest = intervals.rbegin()->first;
  const std::int64_t horizon = newest < std::numeric_limits<std::int64_t>::min() + retention_ns_
                                   ? std::numeric_limits<std::int64_t>::min()
                                   : newest - retention_ns_;
  intervals.erase(intervals.begin(), intervals.lower_bound(horizon));
}

std::optional<std::int32_t> LabelBook::majority(const std::string& device_id, std::int64_t start_ns,
                                                std::int64_t end_ns) const {
  const std::scoped_lock lock(mutex_);
  const auto device = devices_.find(device_id);
  if (device == devices_.end()) return std::nullopt;
  const auto& intervals = device->second;
  // Overlapping intervals start before end_ns; step back one for the one that began
  // before start_ns and may reach into the window.
  auto it = intervals.lower_bound(start_ns);
  if (it != intervals.begin()) --it;
  std::map<std::int32_t, std::int64_t> covered;
  for (; it != intervals.end() && it->first < end_ns; ++it) {
    const std::int64_t overlap = std::min(end_ns, it->second.end_ns) - std::max(start_ns, it->first);
    if (overlap > 0) covered[it->second.label] += overlap;
  }
  if (covered.empty()) return std::nullopt;
  return std::max_element(covered.begin(), covered.end(),
                          [](const auto& a, const auto& b) { return a.second < b.second; })
      ->first;
}

std::uint64_t LabelBook::added() const {
  const std::scoped_lock lock(mutex_);
  return added_;
}

}  // namespace sensorgate
