#pragma once
// LabelWriter: the ground-truth file of injected anomalies, CSV with the header
// `device_id,type,start_ns,end_ns,channels` (channels: indices separated by spaces; end
// exclusive; times in the stream's device time). A line is written and flushed as each
// anomaly starts, so a reader sees labels while the run goes on. docs/synthetic-eeg.md.

#include <cstdint>
#include <fstream>
#include <string>

#include "sensorgate/sim/anomaly_injector.hpp"

namespace sensorgate::sim {

class LabelWriter {
 public:
  /// Creates (truncates) `path` and writes the header; throws std::runtime_error if it cannot.
  explicit LabelWriter(const std::string& path);

  /// One line: `anomaly`'s frames mapped to ns as frame k -> start_time_ns + k * period_ns.
  void write(const std::string& device_id, const InjectedAnomaly& anomaly, std::int64_t start_time_ns,
             double period_ns);

  [[nodiscard]] std::uint64_t written() const { return written_; }

 private:
  std::ofstream out_;
  std::string path_;
  std::uint64_t written_ = 0;
};

}  // namespace sensorgate::sim
