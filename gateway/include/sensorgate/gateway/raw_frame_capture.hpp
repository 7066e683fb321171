#pragma once
// RawFrameCapture: capture mode (off by default). A worker hands it every run of frames
// its sequence tracking accepted (duplicates removed, in sequence order per device); it
// joins consecutive frames of a device into records of up to `frames_per_record` and
// hands a record out when it is full, when the device's sequence jumps, or when the
// device goes idle or the worker stops. The collector stores them in raw_frames, keyed by
// (gateway, device, first_seq), for training on raw data.

#include <cstdint>
#include <vector>

#include "sensorgate/gateway/device_clock.hpp"
#include "sensorgate/gateway/frame_chunk.hpp"
#include "sensorgate/uplink/records.hpp"

namespace sensorgate {

class RawFrameCapture {
 public:
  explicit RawFrameCapture(std::size_t frames_per_record) : frames_per_record_(frames_per_record) {}

  /// Frames [begin, end) of `chunk`, accepted for device `device` (an index the caller
  /// keeps stable) named `device_id`; full or broken-off records are appended to `out`.
  void add(std::size_t device, const std::string& device_id, double sample_rate_hz, const FrameChunk& chunk,
           std::uint32_t begin, std::uint32_t end, const DeviceClock& clock, std::vector<uplink::RawFramesRecord>& out);
  /// Appends the device's open record, if any, to `out`.
  void flush(std::size_t device, std::vector<uplink::RawFramesRecord>& out);

 private:
  std::size_t frames_per_record_;
  std::vector<uplink::RawFramesRecord> open_;  // by device index; empty samples: none open
};

}  // namespace sensorgate
