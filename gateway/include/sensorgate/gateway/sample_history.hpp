#pragma once
// SampleHistory: the last `capacity` frames of one device, addressed by sequence number,
// for statistics that need a window's samples in time order (band powers). A slot
// remembers which sequence number it holds, so a frame that never arrived, or was
// overwritten since, reads as missing instead of as someone else's data.

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace sensorgate {

class SampleHistory {
 public:
  /// Room for at least `min_frames` frames of `channels` samples.
  SampleHistory(std::size_t min_frames, std::uint16_t channels)
      : capacity_(std::bit_ceil(std::max<std::size_t>(min_frames, 2))),
        channels_(channels),
        samples_(capacity_ * channels),
        seqs_(capacity_, kEmpty) {}

  void store(std::uint64_t seq, std::span<const float> frame) {
    const std::size_t slot = seq & (capacity_ - 1);
    std::copy(frame.begin(), frame.end(), samples_.begin() + static_cast<std::ptrdiff_t>(slot * channels_));
    seqs_[slot] = seq;
  }

  /// The frame `seq`, or nullptr when it is not (or no longer) held.
  [[nodiscard]] const float* find(std::uint64_t seq) const {
    const std::size_t slot = seq & (capacity_ - 1);
    return seqs_[slot] == seq ? samples_.data() + slot * channels_ : nullptr;
  }

  [[nodiscard]] std::size_t capacity() const { return capacity_; }

 private:
  static constexpr std::uint64_t kEmpty = std::numeric_limits<std::uint64_t>::max();
  std::size_t capacity_;
  std::uint16_t channels_;
  std::vector<float> samples_;
  std::vector<std::uint64_t> seqs_;
};

}  // namespace sensorgate
