#pragma once
// Plain records carried by the uplink, independent of FlatBuffers: the gateway produces
// them, the codec turns them into wire messages, the collector stores them.

#include <cstdint>
#include <string>
#include <vector>

namespace sensorgate::uplink {

struct ChannelStatsRecord {
  std::uint16_t channel = 0;
  std::uint64_t count = 0;
  float min = 0;
  float max = 0;
  double mean = 0;
  double variance = 0;  ///< population variance
};

struct WindowSummaryRecord {
  std::string device_id;
  std::int64_t window_start_ns = 0;
  std::int64_t window_end_ns = 0;
  std::vector<ChannelStatsRecord> channels;
};

}  // namespace sensorgate::uplink
