#include "sensorgate/gateway/raw_frame_capture.hpp"

#include <algorithm>

namespace sensorgate {

void RawFrameCapture::add(std::size_t device, const std::string& device_id, double sample_rate_hz,
                          const FrameChunk& chunk, std::uint32_t begin, std::uint32_t end, const DeviceClock& clock,
                          std::vector<uplink::RawFramesRecord>& out) {
  if (open_.size() <= device) open_.resize(device + 1);
  auto& record = open_[device];
  // The frames of [begin, end) are consecutive, so only the first can break a record's
  // run; copy whole stretches, cut at the record size.
  for (std::uint32_t i = begin; i < end;) {
    const std::uint64_t seq = chunk.first_seq + i;
    const bool continues =
        !record.samples.empty() && record.channels == chunk.channels && seq == record.first_seq + record.frames();
    if (!record.samples.empty() && (!continues || record.frames() >= frames_per_record_)) {
      out.push_back(std::move(record));
      record = {};
    }
    if (record.samples.empty()) {
      record.device_id = device_id;
      record.first_seq = seq;
      record.first_time_ns = clock.time_of(seq);
      record.sample_rate_hz = sample_rate_hz;
      record.channels = chunk.channels;
      record.samples.reserve(frames_per_record_ * chunk.channels);
    }
    const auto take = static_cast<std::uint32_t>(std::min<std::size_t>(end - i, frames_per_record_ - record.frames()));
    const auto* from = chunk.samples.data() + (static_cast<std::size_t>(i) * chunk.channels);
    record.samples.insert(record.samples.end(), from, from + (static_cast<std::size_t>(take) * chunk.channels));
    i += take;
  }
}

void RawFrameCapture::flush(std::size_t device, std::vector<uplink::RawFramesRecord>& out) {
  if (device >= open_.size() || open_[device].samples.empty()) return;
  out.push_back(std::move(open_[device]));
  open_[device] = {};
}

}  // namespace sensorgate
