#include "sensorgate/gateway/device_registry.hpp"

namespace sensorgate {

DeviceRegistry::DeviceRegistry(std::size_t ring_capacity, std::size_t max_devices)
    : ring_capacity_(ring_capacity), max_devices_(max_devices), slots_(max_devices) {}

DeviceStream* DeviceRegistry::add(std::string_view id, std::uint16_t channels, double sample_rate_hz) {
  const std::size_t n = size_.load(std::memory_order_relaxed);
  if (n == max_devices_) return nullptr;
  slots_[n] = std::make_unique<DeviceStream>(std::string(id), static_cast<std::uint32_t>(n), channels, sample_rate_hz,
                                             ring_capacity_);
  size_.store(n + 1, std::memory_order_release);
  return slots_[n].get();
}

}  // namespace sensorgate
