// OpenBciDecoder (Cyton 33-byte packets, and Cyton + Daisy pairs) fed in chunks whose sizes
// come from the input. Layout of an input: byte 0 picks the mode (bit 0: Daisy) and the
// gain (the ADS1299's settings 1, 2, 4, 6, 8, 12, 24), byte 1 the number k (0-7) of chunk
// sizes, the next k bytes the sizes (1-256, used in turn), the rest is the byte stream.
// Invariants (docs/serial-protocol.md, section 2): chunked and whole-stream decoding agree
// on every frame and counter; bytes fed = 33 x packets + bytes_discarded + buffered_bytes();
// Cyton: one frame per packet; Daisy: packets = 2 x frames + unpaired halves (+ 1 half
// waiting); frames have the mode's channel count, values within full scale, increasing
// sequence numbers, a footer 0xC0-0xC6 and the accelerometer only with 0xC0; each frame
// re-encoded by OpenBciEncoder decodes to the same values.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_support.hpp"
#include "sensorgate/common/openbci_packet.hpp"

namespace {

using sensorgate::OpenBciDecoder;
using sensorgate::OpenBciFrame;

struct Counts {
  std::uint64_t packets, frames, lost, resyncs, discarded, unpaired, buffered;
  bool operator==(const Counts&) const = default;
};

Counts counts(const OpenBciDecoder& d) {
  return {d.packets(),         d.frames(),         d.lost_packets(),  d.resyncs(),
          d.bytes_discarded(), d.unpaired_daisy(), d.buffered_bytes()};
}

bool same_frame(const OpenBciFrame& a, const OpenBciFrame& b) {
  return a.sequence == b.sequence && a.channel_count == b.channel_count && a.uv == b.uv && a.footer == b.footer &&
         a.aux == b.aux && a.has_accel == b.has_accel && a.accel == b.accel;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  sensorgate::fuzz::quiet_logging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  constexpr std::array<double, 7> kGains = {1, 2, 4, 6, 8, 12, 24};
  const bool daisy = (data[0] & 1U) != 0;
  const double gain = kGains[(data[0] >> 1U) % kGains.size()];
  const sensorgate::fuzz::ChunkedStream input(data, size);
  const auto stream = input.stream;

  OpenBciDecoder chunked(daisy, gain);
  std::vector<OpenBciFrame> chunked_frames;
  const auto keep_chunked = [&](const OpenBciFrame& f) { chunked_frames.push_back(f); };
  input.feed_in_chunks([&](std::span<const std::uint8_t> chunk) { chunked.feed(chunk, keep_chunked); });
  OpenBciDecoder whole(daisy, gain);
  std::vector<OpenBciFrame> frames;
  whole.feed(stream, [&](const OpenBciFrame& f) { frames.push_back(f); });

  FUZZ_CHECK(counts(chunked) == counts(whole));
  FUZZ_CHECK(chunked_frames.size() == frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) FUZZ_CHECK(same_frame(chunked_frames[i], frames[i]));

  FUZZ_CHECK(stream.size() ==
             sensorgate::kOpenBciPacketBytes * whole.packets() + whole.bytes_discarded() + whole.buffered_bytes());
  FUZZ_CHECK(whole.buffered_bytes() < sensorgate::kOpenBciPacketBytes);
  FUZZ_CHECK(whole.frames() == frames.size());
  if (daisy) {
    const std::uint64_t paired = 2 * whole.frames() + whole.unpaired_daisy();
    FUZZ_CHECK(whole.packets() == paired || whole.packets() == paired + 1);
  } else {
    FUZZ_CHECK(whole.packets() == whole.frames() && whole.unpaired_daisy() == 0);
  }
  FUZZ_CHECK(whole.resyncs() <= whole.bytes_discarded());

  const std::size_t channels = daisy ? 16 : 8;
  const double full_scale_uv = sensorgate::openbci_uv_per_count(gain) * (1 << 23) * (1 + 1e-6);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto& f = frames[i];
    FUZZ_CHECK(f.channel_count == channels);
    if (i > 0) FUZZ_CHECK(f.sequence > frames[i - 1].sequence);
    FUZZ_CHECK(f.footer >= sensorgate::kOpenBciFooterAccel && f.footer <= sensorgate::kOpenBciFooterLast);
    FUZZ_CHECK(f.has_accel == (f.footer == sensorgate::kOpenBciFooterAccel));
    if (!f.has_accel) FUZZ_CHECK(f.accel == (std::array<std::int16_t, 3>{}));
    for (std::size_t c = 0; c < f.uv.size(); ++c) {
      if (c >= channels) {
        FUZZ_CHECK(f.uv[c] == 0);
      } else {
        FUZZ_CHECK(std::isfinite(f.uv[c]) && std::abs(f.uv[c]) <= full_scale_uv);
      }
    }
    // Encode -> decode returns every value exactly: the floats hold whole counts.
    sensorgate::OpenBciEncoder encoder(daisy, gain);
    encoder.set_next_frame(f.sequence);
    std::vector<std::uint8_t> bytes;
    encoder.encode(std::span(f.uv).first(channels), bytes, f.accel);
    FUZZ_CHECK(bytes.size() == (daisy ? 2 : 1) * sensorgate::kOpenBciPacketBytes);
    OpenBciDecoder again(daisy, gain);
    std::vector<OpenBciFrame> again_frames;
    again.feed(bytes, [&](const OpenBciFrame& g) { again_frames.push_back(g); });
    FUZZ_CHECK(again_frames.size() == 1);
    FUZZ_CHECK(again_frames[0].uv == f.uv);
    FUZZ_CHECK(again_frames[0].sequence == f.sequence % (daisy ? 128 : 256));
  }
  return 0;
}
