#pragma once
// AlignedView: a read-only view of a received buffer that is safe to hand to FlatBuffers.
// FlatBuffers reads scalars in place and its verifier rejects a buffer that is not aligned
// for them; transports (ZeroMQ's inline small messages, a string's short-string storage)
// may deliver bytes at any alignment. Such a buffer is copied into aligned storage.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace sensorgate {

class AlignedView {
 public:
  explicit AlignedView(std::span<const std::uint8_t> buffer) : view_(buffer) {
    if (reinterpret_cast<std::uintptr_t>(buffer.data()) % alignof(std::max_align_t) != 0) {
      // At least one element: memcpy into an empty vector's null pointer, even of 0 bytes,
      // would be undefined behaviour (a test for empty() instead makes GCC 12 warn).
      copy_.resize(std::max<std::size_t>(1, (buffer.size() + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t)));
      std::memcpy(copy_.data(), buffer.data(), buffer.size());
      view_ = {reinterpret_cast<const std::uint8_t*>(copy_.data()), buffer.size()};
    }
  }
  [[nodiscard]] const std::uint8_t* data() const { return view_.data(); }
  [[nodiscard]] std::size_t size() const { return view_.size(); }
  [[nodiscard]] std::span<const std::uint8_t> span() const { return view_; }

 private:
  std::span<const std::uint8_t> view_;
  std::vector<std::max_align_t> copy_;
};

}  // namespace sensorgate
