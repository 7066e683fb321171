#include "sensorgate/gateway/device_registry.hpp"

namespace sensorgate {

DeviceRegistry::DeviceRegistry(std::size_t ring_capacity, std::size_t max_devices)
    : ring_capacity_(ring_capacity), max_devices_(max_devices), slots_(max_devices) {}

DeviceRegistry::AddResult DeviceRegistry::add(std::string_view id, std::uint16_t channels, double sample_rate_hz,
                                              std::string_view source) {
  const std::lock_guard lock(add_mutex_);
  if (auto it = index_.find(std::string(id)); it != index_.end()) {
    DeviceStream* existing = slots_[it->second].get();
    if (existing->source == source) return {existing, AddStatus::kExisting};
    return {nullptr, AddStatus::kOtherSource};
  }
  const std::size_t n = size_.load(std::memory_order_relaxed);
  if (n == max_devices_) return {nullptr, AddStatus::kLimitReached};
  slots_[n] = std::make_unique<DeviceStream>(std::string(id), static_cast<std::uint32_t>(n), channels, sample_rate_hz,
                                             ring_capacity_, std::string(source));
  index_.emplace(std::string(id), n);
  // Release: a reader that sees the new size also sees the fully built DeviceStream.
  size_.store(n + 1, std::memory_order_release);
  return {slots_[n].get(), AddStatus::kAdded};
}

}  // namespace sensorgate
