#include "sensorgate/kernels/moments.hpp"

#include <array>

namespace sensorgate::kernels {

void block_moments(const float* samples, std::size_t frames, std::size_t channels, Moments* out) {
  // Loops run frame-outer, channel-inner over contiguous memory so the compiler vectorises
  // the channel dimension; the per-channel accumulators live on the stack.
  std::array<double, kMaxChannels> sum{};
  std::array<float, kMaxChannels> lo{};
  std::array<float, kMaxChannels> hi{};
  lo.fill(std::numeric_limits<float>::infinity());
  hi.fill(-std::numeric_limits<float>::infinity());
  for (std::size_t f = 0; f < frames; ++f) {
    const float* row = samples + f * channels;
    for (std::size_t c = 0; c < channels; ++c) {
      sum[c] += row[c];
      lo[c] = std::min(lo[c], row[c]);
      hi[c] = std::max(hi[c], row[c]);
    }
  }
  std::array<double, kMaxChannels> mean{};
  std::array<double, kMaxChannels> m2{};
  const double inv = frames == 0 ? 0.0 : 1.0 / static_cast<double>(frames);
  for (std::size_t c = 0; c < channels; ++c) mean[c] = sum[c] * inv;
  for (std::size_t f = 0; f < frames; ++f) {
    const float* row = samples + f * channels;
    for (std::size_t c = 0; c < channels; ++c) {
      const double d = row[c] - mean[c];
      m2[c] += d * d;
    }
  }
  for (std::size_t c = 0; c < channels; ++c) {
    out[c] = Moments{frames, mean[c], m2[c], lo[c], hi[c]};
  }
}

}  // namespace sensorgate::kernels
