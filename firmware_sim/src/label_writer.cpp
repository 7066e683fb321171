#include "sensorgate/sim/label_writer.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace sensorgate::sim {

LabelWriter::LabelWriter(const std::string& path) : out_(path, std::ios::trunc), path_(path) {
  if (!out_) throw std::runtime_error("cannot create labels file " + path);
  out_ << "device_id,type,start_ns,end_ns,channels\n" << std::flush;
}

void LabelWriter::write(const std::string& device_id, const InjectedAnomaly& anomaly, std::int64_t start_time_ns,
                        double period_ns) {
  // The same mapping the simulator uses for frame times, so labels line up with windows.
  const auto to_ns = [&](std::uint64_t frame) {
    return start_time_ns + std::llround(static_cast<double>(frame) * period_ns);
  };
  out_ << fmt::format("{},{},{},{},{}\n", device_id, anomaly_type_name(anomaly.type), to_ns(anomaly.start_frame),
                      to_ns(anomaly.end_frame), fmt::join(anomaly.channels, " "))
       << std::flush;
  if (!out_) throw std::runtime_error("cannot write labels file " + path_);
  ++written_;
}

}  // namespace sensorgate::sim
