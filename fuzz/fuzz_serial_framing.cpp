// SerialFrameDecoder (COBS + CRC-32C framing of the serial line) fed in chunks whose sizes
// come from the input. Layout of an input: byte 0 picks the decoder's max_payload (small
// values exercise the oversize path), byte 1 the number k (0-7) of chunk sizes, the next k
// bytes the sizes (1-256, used in turn), the rest is the byte stream.
// Invariants (docs/serial-protocol.md, "Receiving"): the chunked decoder and a decoder fed
// the whole stream at once deliver the same payloads and counters; every 0x00 is counted
// exactly once; bytes fed = 0x00 bytes + stuffed bytes of delivered frames + bytes_discarded
// + buffered_bytes(); no payload exceeds max_payload; every delivered payload, framed again
// by encode_serial_frame, decodes to itself.

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_support.hpp"
#include "sensorgate/common/serial_framing.hpp"

namespace {

using sensorgate::SerialFrameDecoder;
using Payloads = std::vector<std::vector<std::uint8_t>>;

struct Counts {
  std::uint64_t frames, empty, cobs, crc, oversize, discarded, buffered;
  bool operator==(const Counts&) const = default;
};

Counts counts(const SerialFrameDecoder& d) {
  return {d.frames(),   d.empty_frames(),    d.cobs_errors(),   d.crc_errors(),
          d.oversize(), d.bytes_discarded(), d.buffered_bytes()};
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  sensorgate::fuzz::quiet_logging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // 0: the default (1 MiB); otherwise 1..255 * 16 bytes.
  const std::size_t max_payload = data[0] == 0 ? std::size_t{1} << 20 : std::size_t{data[0]} * 16;
  const sensorgate::fuzz::ChunkedStream input(data, size);
  const auto stream = input.stream;

  SerialFrameDecoder chunked(max_payload);
  Payloads chunked_payloads;
  const auto keep_chunked = [&](std::span<const std::uint8_t> p) { chunked_payloads.emplace_back(p.begin(), p.end()); };
  input.feed_in_chunks([&](std::span<const std::uint8_t> chunk) { chunked.feed(chunk, keep_chunked); });

  SerialFrameDecoder whole(max_payload);
  Payloads whole_payloads;
  whole.feed(stream, [&](std::span<const std::uint8_t> p) { whole_payloads.emplace_back(p.begin(), p.end()); });

  // Chunk boundaries never change the result.
  FUZZ_CHECK(chunked_payloads == whole_payloads);
  FUZZ_CHECK(counts(chunked) == counts(whole));

  // Every delimiter ends exactly one counted chunk of the stream.
  const auto zeros = static_cast<std::uint64_t>(std::count(stream.begin(), stream.end(), std::uint8_t{0}));
  FUZZ_CHECK(zeros ==
             whole.frames() + whole.empty_frames() + whole.cobs_errors() + whole.crc_errors() + whole.oversize());
  FUZZ_CHECK(whole.frames() == whole_payloads.size());
  FUZZ_CHECK(whole.buffered_bytes() <= stream.size());

  // Byte accounting: what is neither a delimiter, discarded nor buffered was a delivered
  // frame. Its stuffed size is the encoder's, or one byte less when the encoder's frame
  // ends in a full block plus the optional final 0x01 that the decoder does not require.
  const std::uint64_t delivered = stream.size() - zeros - whole.bytes_discarded() - whole.buffered_bytes();
  std::uint64_t encoded = 0;
  for (const auto& payload : whole_payloads) {
    FUZZ_CHECK(payload.size() <= max_payload);
    const auto frame = sensorgate::encode_serial_frame(payload);
    FUZZ_CHECK(frame.back() == 0 && std::count(frame.begin(), frame.end(), std::uint8_t{0}) == 1);
    encoded += frame.size() - 1;
    SerialFrameDecoder again(max_payload);
    Payloads again_payloads;
    again.feed(frame, [&](std::span<const std::uint8_t> p) { again_payloads.emplace_back(p.begin(), p.end()); });
    FUZZ_CHECK(again_payloads.size() == 1 && again_payloads[0] == payload);
    FUZZ_CHECK(again.frames() == 1 && again.bytes_discarded() == 0 && again.buffered_bytes() == 0);
  }
  FUZZ_CHECK(delivered <= encoded && delivered + whole_payloads.size() >= encoded);
  return 0;
}
