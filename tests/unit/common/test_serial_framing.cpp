#include "sensorgate/common/serial_framing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string_view>
#include <vector>

namespace sensorgate {
namespace {

using Bytes = std::vector<std::uint8_t>;

struct Counters {
  std::uint64_t frames, crc_errors, cobs_errors, oversize, bytes_discarded, empty_frames;
  bool operator==(const Counters&) const = default;
};

Counters counters(const SerialFrameDecoder& d) {
  return {d.frames(), d.crc_errors(), d.cobs_errors(), d.oversize(), d.bytes_discarded(), d.empty_frames()};
}

/// Feeds `stream` in chunks of the given sizes (cycled; the last chunk takes the rest).
std::vector<Bytes> feed_chunked(SerialFrameDecoder& decoder, std::span<const std::uint8_t> stream,
                                const std::vector<std::size_t>& chunk_sizes) {
  std::vector<Bytes> payloads;
  const auto collect = [&](std::span<const std::uint8_t> p) { payloads.emplace_back(p.begin(), p.end()); };
  std::size_t at = 0;
  for (std::size_t i = 0; at < stream.size(); ++i) {
    const std::size_t n = std::min(chunk_sizes[i % chunk_sizes.size()], stream.size() - at);
    decoder.feed(stream.subspan(at, n), collect);
    at += n;
  }
  return payloads;
}

std::vector<Bytes> feed_all(SerialFrameDecoder& decoder, std::span<const std::uint8_t> stream) {
  return feed_chunked(decoder, stream, {stream.size() + 1});
}

Bytes pattern(std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(size);
  // A third zeros, so the stuffing has work to do.
  for (auto& b : out) b = rng() % 3 == 0 ? std::uint8_t{0} : static_cast<std::uint8_t>(rng());
  return out;
}

void append(Bytes& stream, std::span<const std::uint8_t> bytes) {
  stream.insert(stream.end(), bytes.begin(), bytes.end());
}

TEST(SerialFraming, Crc32c_CheckString_MatchesCastagnoliCheckValue) {
  constexpr std::string_view kCheck = "123456789";
  const Bytes bytes(kCheck.begin(), kCheck.end());
  EXPECT_EQ(crc32c(bytes), 0xE3069283U);
  EXPECT_EQ(crc32c({}), 0U);
}

TEST(SerialFraming, Encode_WorkedExample_MatchesDocumentedBytes) {
  // docs/serial-protocol.md: payload 11 00 22, CRC-32C 0x7401B2A7 -> A7 B2 01 74.
  const Bytes payload{0x11, 0x00, 0x22};
  EXPECT_EQ(crc32c(payload), 0x7401B2A7U);
  const Bytes expected{0x02, 0x11, 0x06, 0x22, 0xA7, 0xB2, 0x01, 0x74, 0x00};
  EXPECT_EQ(encode_serial_frame(payload), expected);
}

TEST(SerialFraming, Encode_EmptyPayload_IsCrcOfZerosStuffed) {
  // CRC-32C of nothing is 0, so the body is four zeros: five code bytes of 0x01.
  EXPECT_EQ(encode_serial_frame({}), (Bytes{0x01, 0x01, 0x01, 0x01, 0x01, 0x00}));
}

TEST(SerialFraming, Encode_AnyPayload_OnlyZeroIsTheDelimiter) {
  for (const std::size_t size : {0U, 1U, 253U, 254U, 255U, 1000U}) {
    for (const std::uint8_t fill : {std::uint8_t{0}, std::uint8_t{0xFF}}) {
      const Bytes payload(size, fill);
      const Bytes frame = encode_serial_frame(payload);
      ASSERT_FALSE(frame.empty());
      EXPECT_EQ(frame.back(), kSerialFrameDelimiter);
      EXPECT_EQ(std::count(frame.begin(), frame.end(), 0), 1) << "size " << size;
      // Overhead: one code byte per started 254-byte block, plus the delimiter.
      const std::size_t body = size + kSerialFrameCrcBytes;
      EXPECT_LE(frame.size(), body + body / 254 + 2);
    }
  }
}

TEST(SerialFraming, EncodeDecode_VariousSizesAndContents_RoundTrips) {
  std::vector<Bytes> payloads;
  for (const std::size_t size : {0U, 1U, 2U, 250U, 251U, 253U, 254U, 255U, 508U, 509U, 4096U, 70000U}) {
    payloads.push_back(pattern(size, static_cast<std::uint32_t>(size)));
    payloads.emplace_back(size, std::uint8_t{0});
    payloads.emplace_back(size, std::uint8_t{0xFF});
  }
  Bytes stream;
  for (const auto& p : payloads) append(stream, encode_serial_frame(p));

  SerialFrameDecoder decoder;
  EXPECT_EQ(feed_all(decoder, stream), payloads);
  EXPECT_EQ(counters(decoder), (Counters{payloads.size(), 0, 0, 0, 0, 0}));
  EXPECT_EQ(decoder.buffered_bytes(), 0U);
}

TEST(SerialFraming, EncodeAppend_TwoFrames_AppendsToExistingBuffer) {
  Bytes stream{kSerialFrameDelimiter};  // what a sender writes when it opens the port
  encode_serial_frame(pattern(10, 1), stream);
  encode_serial_frame(pattern(20, 2), stream);
  SerialFrameDecoder decoder;
  EXPECT_EQ(feed_all(decoder, stream), (std::vector<Bytes>{pattern(10, 1), pattern(20, 2)}));
  EXPECT_EQ(decoder.empty_frames(), 1U);
}

TEST(SerialFraming, Feed_EverySingleByteCorruption_DetectedAndNextFrameDecodes) {
  const Bytes payload = pattern(300, 7);  // spans two COBS blocks
  const Bytes frame = encode_serial_frame(payload);
  const Bytes next_payload = pattern(40, 8);
  const Bytes next = encode_serial_frame(next_payload);

  // Every body byte (the delimiter has its own test) replaced by every other value.
  for (std::size_t at = 0; at + 1 < frame.size(); ++at) {
    for (int value = 0; value < 256; ++value) {
      if (value == frame[at]) continue;
      Bytes stream = frame;
      stream[at] = static_cast<std::uint8_t>(value);
      append(stream, next);
      SerialFrameDecoder decoder;
      const auto got = feed_all(decoder, stream);
      ASSERT_EQ(got, std::vector<Bytes>{next_payload}) << "byte " << at << " = " << value;
      ASSERT_GE(decoder.crc_errors() + decoder.cobs_errors(), 1U) << "byte " << at << " = " << value;
      // Every byte of the damaged frame except delimiters is accounted for as discarded.
      ASSERT_EQ(decoder.bytes_discarded() + (value == 0 ? 1U : 0U), frame.size() - 1);
    }
  }
}

TEST(SerialFraming, Feed_DelimiterCorrupted_MergedFramesRejectedAndThirdDecodes) {
  Bytes stream = encode_serial_frame(pattern(30, 1));
  stream.back() = 0x55;  // the delimiter is lost: frames 1 and 2 arrive as one
  append(stream, encode_serial_frame(pattern(30, 2)));
  append(stream, encode_serial_frame(pattern(30, 3)));
  SerialFrameDecoder decoder;
  EXPECT_EQ(feed_all(decoder, stream), std::vector<Bytes>{pattern(30, 3)});
  EXPECT_EQ(decoder.crc_errors() + decoder.cobs_errors(), 1U);
}

TEST(SerialFraming, Feed_GarbageBeforeAndBetweenFrames_DiscardedCountedAndFramesDecode) {
  const Bytes garbage_a{0x13, 0x37, 0xFF, 0x01, 0x02};
  const Bytes garbage_b{0xAA, 0x05, 0x06};
  Bytes stream = garbage_a;  // a receiver joining mid-stream sees the tail of some frame
  stream.push_back(kSerialFrameDelimiter);
  append(stream, encode_serial_frame(pattern(50, 1)));
  append(stream, garbage_b);  // line noise, then the sender's next frame with a leading delimiter
  stream.push_back(kSerialFrameDelimiter);
  append(stream, encode_serial_frame(pattern(60, 2)));

  SerialFrameDecoder decoder;
  EXPECT_EQ(feed_all(decoder, stream), (std::vector<Bytes>{pattern(50, 1), pattern(60, 2)}));
  EXPECT_EQ(decoder.frames(), 2U);
  EXPECT_EQ(decoder.bytes_discarded(), garbage_a.size() + garbage_b.size());
  EXPECT_EQ(decoder.crc_errors() + decoder.cobs_errors(), 2U);
}

TEST(SerialFraming, Feed_GarbageOfZeros_CountedAsEmptyFramesOnly) {
  Bytes stream(5, kSerialFrameDelimiter);
  append(stream, encode_serial_frame(pattern(8, 1)));
  SerialFrameDecoder decoder;
  EXPECT_EQ(feed_all(decoder, stream), std::vector<Bytes>{pattern(8, 1)});
  EXPECT_EQ(counters(decoder), (Counters{1, 0, 0, 0, 0, 5}));
}

TEST(SerialFraming, Feed_TruncatedFrameThenDelimiter_NextFrameDecodes) {
  const Bytes first = encode_serial_frame(pattern(100, 1));
  Bytes stream(first.begin(), first.begin() + 40);  // the sender died mid-frame...
  stream.push_back(kSerialFrameDelimiter);          // ...and wrote a delimiter when it came back
  append(stream, encode_serial_frame(pattern(100, 2)));
  SerialFrameDecoder decoder;
  EXPECT_EQ(feed_all(decoder, stream), std::vector<Bytes>{pattern(100, 2)});
  EXPECT_EQ(decoder.bytes_discarded(), 40U);
  EXPECT_EQ(decoder.crc_errors() + decoder.cobs_errors(), 1U);
}

TEST(SerialFraming, Feed_TruncatedFrameWithoutDelimiter_CostsOnlyTheFrameItMergesWith) {
  const Bytes first = encode_serial_frame(pattern(100, 1));
  Bytes stream(first.begin(), first.begin() + 40);
  append(stream, encode_serial_frame(pattern(100, 2)));
  append(stream, encode_serial_frame(pattern(100, 3)));
  SerialFrameDecoder decoder;
  EXPECT_EQ(feed_all(decoder, stream), std::vector<Bytes>{pattern(100, 3)});
  EXPECT_EQ(decoder.crc_errors() + decoder.cobs_errors(), 1U);
}

TEST(SerialFraming, Feed_EndsMidFrame_KeepsBytesUntilTheRestArrives) {
  const Bytes frame = encode_serial_frame(pattern(100, 1));
  SerialFrameDecoder decoder;
  const std::span<const std::uint8_t> all(frame);
  EXPECT_TRUE(feed_all(decoder, all.first(60)).empty());
  EXPECT_EQ(decoder.buffered_bytes(), 60U);
  EXPECT_EQ(feed_all(decoder, all.subspan(60)), std::vector<Bytes>{pattern(100, 1)});
  EXPECT_EQ(decoder.buffered_bytes(), 0U);
}

TEST(SerialFraming, Feed_ByteByByteOrRandomChunks_SameAsWholeBuffer) {
  Bytes stream{0x42, 0x43};
  std::mt19937 rng(5);
  for (std::uint32_t i = 0; i < 50; ++i) {
    append(stream, encode_serial_frame(pattern(rng() % 700, i)));
    if (i % 7 == 0) append(stream, pattern(rng() % 40, i + 1000));  // garbage, zeros included
    if (i % 11 == 0) stream[stream.size() - 3] ^= 0x10;             // a corrupted frame
  }
  SerialFrameDecoder whole;
  const auto expected = feed_all(whole, stream);
  ASSERT_GT(expected.size(), 40U);

  SerialFrameDecoder bytewise;
  EXPECT_EQ(feed_chunked(bytewise, stream, {1}), expected);
  EXPECT_EQ(counters(bytewise), counters(whole));

  SerialFrameDecoder chunked;
  EXPECT_EQ(feed_chunked(chunked, stream, {0, 3, 254, 1, 17, 1000, 2}), expected);
  EXPECT_EQ(counters(chunked), counters(whole));
}

TEST(SerialFraming, Feed_PayloadOverLimit_DroppedUntilDelimiterAndNextDecodes) {
  constexpr std::size_t kMax = 100;
  const Bytes too_big = encode_serial_frame(pattern(kMax + 1, 1));
  Bytes stream = too_big;
  append(stream, encode_serial_frame(pattern(kMax, 2)));  // exactly at the limit: accepted
  append(stream, encode_serial_frame(Bytes(5000, 0xFF)));
  append(stream, encode_serial_frame(pattern(3, 3)));

  SerialFrameDecoder decoder(kMax);
  EXPECT_EQ(decoder.max_payload(), kMax);
  EXPECT_EQ(feed_all(decoder, stream), (std::vector<Bytes>{pattern(kMax, 2), pattern(3, 3)}));
  EXPECT_EQ(decoder.oversize(), 2U);
  EXPECT_EQ(decoder.bytes_discarded(), too_big.size() - 1 + encode_serial_frame(Bytes(5000, 0xFF)).size() - 1);
  EXPECT_EQ(decoder.crc_errors() + decoder.cobs_errors(), 0U);
}

TEST(SerialFraming, Feed_CallbackThrows_DecoderStaysConsistent) {
  Bytes stream = encode_serial_frame(pattern(10, 1));
  append(stream, encode_serial_frame(pattern(10, 2)));
  SerialFrameDecoder decoder;
  const std::span<const std::uint8_t> all(stream);
  const std::size_t first_size = encode_serial_frame(pattern(10, 1)).size();
  EXPECT_THROW(
      decoder.feed(all.first(first_size), [](std::span<const std::uint8_t>) { throw std::runtime_error("x"); }),
      std::runtime_error);
  EXPECT_EQ(feed_all(decoder, all.subspan(first_size)), std::vector<Bytes>{pattern(10, 2)});
  EXPECT_EQ(decoder.frames(), 2U);
}

// Random streams of good frames, damaged frames and garbage, fed in 100k random chunks:
// no crash (the sanitizer job runs this), every good frame that follows a delimiter is
// delivered, and every byte and every delimiter is accounted for by exactly one counter.
TEST(SerialFraming, Feed_RandomStreamInRandomChunks_NoCrashAndCountersConsistent) {
  constexpr std::size_t kMax = 512;
  constexpr std::size_t kChunks = 100'000;
  std::mt19937 rng(20240601);
  Bytes stream;
  std::vector<Bytes> expected;
  while (stream.size() < kChunks * 32) {
    const Bytes payload = pattern(rng() % 600, static_cast<std::uint32_t>(rng()));
    Bytes frame = encode_serial_frame(payload);
    switch (rng() % 4) {
      case 0:  // a byte of the body changed
        frame[rng() % (frame.size() - 1)] ^= static_cast<std::uint8_t>(1 + rng() % 255);
        break;
      case 1:  // garbage ending in a delimiter, then the frame
        append(stream, pattern(rng() % 80, static_cast<std::uint32_t>(rng())));
        stream.push_back(kSerialFrameDelimiter);
        [[fallthrough]];
      default:
        if (payload.size() <= kMax) expected.push_back(payload);
        break;
    }
    append(stream, frame);
  }

  SerialFrameDecoder decoder(kMax);
  std::vector<Bytes> got;
  std::size_t at = 0;
  for (std::size_t i = 0; i < kChunks && at < stream.size(); ++i) {
    const std::size_t n = std::min<std::size_t>(rng() % 64, stream.size() - at);
    decoder.feed(std::span<const std::uint8_t>(stream).subspan(at, n),
                 [&](std::span<const std::uint8_t> p) { got.emplace_back(p.begin(), p.end()); });
    at += n;
  }
  const std::span<const std::uint8_t> fed(stream.data(), at);
  const auto zeros = static_cast<std::uint64_t>(std::count(fed.begin(), fed.end(), 0));

  ASSERT_GT(got.size(), 1000U);
  ASSERT_LE(got.size(), expected.size());
  EXPECT_TRUE(std::equal(got.begin(), got.end(), expected.begin()));
  EXPECT_EQ(decoder.frames(), got.size());
  EXPECT_GT(decoder.oversize(), 0U);
  EXPECT_GT(decoder.crc_errors() + decoder.cobs_errors(), 0U);
  EXPECT_EQ(
      decoder.frames() + decoder.crc_errors() + decoder.cobs_errors() + decoder.oversize() + decoder.empty_frames(),
      zeros);
  std::size_t delivered_bytes = 0;
  for (const auto& p : got) delivered_bytes += encode_serial_frame(p).size() - 1;
  EXPECT_EQ(zeros + delivered_bytes + decoder.bytes_discarded() + decoder.buffered_bytes(), fed.size());
}

}  // namespace
}  // namespace sensorgate
