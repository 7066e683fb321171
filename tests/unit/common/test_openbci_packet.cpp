#include "sensorgate/common/openbci_packet.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace sensorgate {
namespace {

using Bytes = std::vector<std::uint8_t>;

// µV per count at the default gain of 24: 4.5 V / 24 / (2^23 - 1) × 1e6.
constexpr double kScale = 4.5 / 24 / 8388607.0 * 1e6;

struct Counters {
  std::uint64_t packets, frames, lost_packets, resyncs, bytes_discarded, unpaired_daisy;
  bool operator==(const Counters&) const = default;
};

Counters counters(const OpenBciDecoder& d) {
  return {d.packets(), d.frames(), d.lost_packets(), d.resyncs(), d.bytes_discarded(), d.unpaired_daisy()};
}

bool same_frame(const OpenBciFrame& a, const OpenBciFrame& b) {
  return a.sequence == b.sequence && a.channel_count == b.channel_count && a.uv == b.uv && a.footer == b.footer &&
         a.aux == b.aux && a.has_accel == b.has_accel && a.accel == b.accel;
}

/// Feeds `stream` in chunks of the given sizes (cycled; the last chunk takes the rest).
std::vector<OpenBciFrame> feed_chunked(OpenBciDecoder& decoder, std::span<const std::uint8_t> stream,
                                       const std::vector<std::size_t>& chunk_sizes) {
  std::vector<OpenBciFrame> frames;
  std::size_t at = 0;
  for (std::size_t i = 0; at < stream.size(); ++i) {
    const std::size_t n = std::min(chunk_sizes[i % chunk_sizes.size()], stream.size() - at);
    decoder.feed(stream.subspan(at, n), [&](const OpenBciFrame& f) { frames.push_back(f); });
    at += n;
  }
  return frames;
}

std::vector<OpenBciFrame> feed_all(OpenBciDecoder& decoder, std::span<const std::uint8_t> stream) {
  return feed_chunked(decoder, stream, {stream.size() + 1});
}

/// Half a count, plus one float ulp at the value's magnitude: µV travel as float, and
/// storing a value (or its decoded counterpart) in a float rounds by up to half an ulp.
double tolerance(double uv, double scale = kScale) {
  const auto f = static_cast<float>(std::abs(uv));
  return scale / 2 + (std::nextafter(f, std::numeric_limits<float>::infinity()) - f);
}

/// `packets` Cyton packets whose channel c of packet k is (k * 8 + c) counts.
Bytes cyton_stream(std::size_t packets) {
  OpenBciEncoder encoder(false, kOpenBciDefaultGain);
  Bytes out;
  for (std::size_t k = 0; k < packets; ++k) {
    std::array<float, 8> uv{};
    for (std::size_t c = 0; c < uv.size(); ++c) uv[c] = static_cast<float>(static_cast<double>(k * 8 + c) * kScale);
    encoder.encode(uv, out);
  }
  return out;
}

Bytes drop_packets(const Bytes& stream, const std::vector<std::size_t>& indices) {
  Bytes out;
  for (std::size_t k = 0; k * kOpenBciPacketBytes < stream.size(); ++k) {
    if (std::find(indices.begin(), indices.end(), k) != indices.end()) continue;
    const auto first = stream.begin() + static_cast<std::ptrdiff_t>(k * kOpenBciPacketBytes);
    out.insert(out.end(), first, first + static_cast<std::ptrdiff_t>(kOpenBciPacketBytes));
  }
  return out;
}

std::vector<std::uint64_t> sequences(const std::vector<OpenBciFrame>& frames) {
  std::vector<std::uint64_t> out;
  out.reserve(frames.size());
  for (const auto& f : frames) out.push_back(f.sequence);
  return out;
}

TEST(OpenBciPacket, UvPerCount_Gain_MatchesFormulaAndRejectsBadGain) {
  EXPECT_DOUBLE_EQ(openbci_uv_per_count(24), kScale);
  EXPECT_NEAR(openbci_uv_per_count(24), 0.0223517, 1e-7);
  EXPECT_DOUBLE_EQ(openbci_uv_per_count(1), 24 * openbci_uv_per_count(24));
  EXPECT_THROW(static_cast<void>(openbci_uv_per_count(0)), std::invalid_argument);
  EXPECT_THROW(static_cast<void>(openbci_uv_per_count(-24)), std::invalid_argument);
  EXPECT_THROW(static_cast<void>(openbci_uv_per_count(std::numeric_limits<double>::quiet_NaN())),
               std::invalid_argument);
  EXPECT_THROW(OpenBciDecoder(false, 0), std::invalid_argument);
  EXPECT_THROW(OpenBciEncoder(true, std::numeric_limits<double>::infinity()), std::invalid_argument);
}

TEST(OpenBciPacket, Encode_OneCytonFrame_WritesDocumentedLayout) {
  OpenBciEncoder encoder(false, kOpenBciDefaultGain);
  const std::array<float, 8> uv{static_cast<float>(kScale), static_cast<float>(-kScale), 0, 0, 0, 0, 0, 0};
  Bytes out;
  encoder.encode(uv, out, {0x0102, -2, 0});
  const Bytes expected{0xA0, 0x00,                                                              // header, sample 0
                       0x00, 0x00, 0x01, 0xFF, 0xFF, 0xFF,                                      // +1, -1 counts
                       0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // channels 3..8
                       0x01, 0x02, 0xFF, 0xFE, 0x00, 0x00,                                      // accel, big-endian
                       0xC0};
  EXPECT_EQ(out, expected);
}

TEST(OpenBciPacket, Encode_WrongValueCount_Throws) {
  OpenBciEncoder cyton(false, kOpenBciDefaultGain);
  OpenBciEncoder daisy(true, kOpenBciDefaultGain);
  Bytes out;
  const std::vector<float> eight(8);
  const std::vector<float> sixteen(16);
  EXPECT_THROW(cyton.encode(sixteen, out), std::invalid_argument);
  EXPECT_THROW(daisy.encode(eight, out), std::invalid_argument);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(cyton.channels(), 8U);
  EXPECT_EQ(daisy.channels(), 16U);
}

TEST(OpenBciPacket, EncodeDecode_RandomCytonFrames_WithinHalfACount) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-187'000.0F, 187'000.0F);  // almost full scale
  OpenBciEncoder encoder(false, kOpenBciDefaultGain);
  std::vector<std::array<float, 8>> inputs(1000);
  Bytes stream;
  for (auto& in : inputs) {
    for (auto& v : in) v = rng() % 2 == 0 ? dist(rng) : dist(rng) / 1000;  // also small values
    encoder.encode(in, stream, {1, -1, 300});
  }
  OpenBciDecoder decoder(false, kOpenBciDefaultGain);
  const auto frames = feed_all(decoder, stream);
  ASSERT_EQ(frames.size(), inputs.size());
  for (std::size_t k = 0; k < frames.size(); ++k) {
    EXPECT_EQ(frames[k].sequence, k);
    EXPECT_EQ(frames[k].channel_count, 8);
    EXPECT_TRUE(frames[k].has_accel);
    EXPECT_EQ(frames[k].accel, (std::array<std::int16_t, 3>{1, -1, 300}));
    for (std::size_t c = 0; c < 8; ++c) ASSERT_NEAR(frames[k].uv[c], inputs[k][c], tolerance(inputs[k][c])) << k;
    for (std::size_t c = 8; c < 16; ++c) EXPECT_EQ(frames[k].uv[c], 0.0F);
  }
  EXPECT_EQ(counters(decoder), (Counters{1000, 1000, 0, 0, 0, 0}));
}

TEST(OpenBciPacket, EncodeDecode_OtherGain_ScalesAccordingly) {
  constexpr double kGain = 8;
  OpenBciEncoder encoder(false, kGain);
  const std::array<float, 8> uv{1000, -1000, 0.5F, 12345, 0, -7, 100000, -300000};
  Bytes stream;
  encoder.encode(uv, stream);
  OpenBciDecoder decoder(false, kGain);
  const auto frames = feed_all(decoder, stream);
  ASSERT_EQ(frames.size(), 1U);
  const double scale = openbci_uv_per_count(kGain);
  for (std::size_t c = 0; c < 8; ++c) EXPECT_NEAR(frames[0].uv[c], uv[c], tolerance(uv[c], scale)) << c;
}

TEST(OpenBciPacket, Decode_24BitValues_SignExtended) {
  Bytes packet(kOpenBciPacketBytes, 0);
  packet[0] = kOpenBciHeader;
  packet[32] = kOpenBciFooterAccel;
  const std::array<std::array<std::uint8_t, 3>, 8> raw{{{0xFF, 0xFF, 0xFF},  // -1
                                                        {0x80, 0x00, 0x00},  // min
                                                        {0x7F, 0xFF, 0xFF},  // max
                                                        {0x00, 0x00, 0x01},  // +1
                                                        {0x80, 0x00, 0x01},  // min + 1
                                                        {0xFF, 0x00, 0x00},  // -65536
                                                        {0x00, 0x80, 0x00},  // +32768
                                                        {0x00, 0x00, 0x00}}};
  for (std::size_t c = 0; c < raw.size(); ++c) std::copy(raw[c].begin(), raw[c].end(), packet.data() + 2 + 3 * c);
  OpenBciDecoder decoder(false, kOpenBciDefaultGain);
  const auto frames = feed_all(decoder, packet);
  ASSERT_EQ(frames.size(), 1U);
  const std::array<double, 8> counts{-1, -8388608, 8388607, 1, -8388607, -65536, 32768, 0};
  for (std::size_t c = 0; c < counts.size(); ++c) {
    EXPECT_EQ(frames[0].uv[c], static_cast<float>(counts[c] * kScale)) << c;
  }
  EXPECT_FLOAT_EQ(frames[0].uv[2], 187'500.0F);  // full scale: Vref / gain
}

TEST(OpenBciPacket, Encode_OutOfRangeAndNaN_ClampedTo24BitAndZero) {
  OpenBciEncoder encoder(false, kOpenBciDefaultGain);
  const std::array<float, 8> uv{1e9F,
                                -1e9F,
                                std::numeric_limits<float>::quiet_NaN(),
                                std::numeric_limits<float>::infinity(),
                                -std::numeric_limits<float>::infinity(),
                                187'500.0F,
                                -187'500.0F,
                                static_cast<float>(-kScale * 0.4)};
  Bytes out;
  encoder.encode(uv, out);
  const Bytes channels(out.begin() + 2, out.begin() + 26);
  const Bytes expected{0x7F, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF,
                       0x80, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0x80, 0x00, 0x01, 0x00, 0x00, 0x00};
  EXPECT_EQ(channels, expected);
}

TEST(OpenBciPacket, Decode_CounterWraps255To0_NoFalseLoss) {
  const Bytes stream = cyton_stream(600);  // wraps twice
  EXPECT_EQ(stream[kOpenBciPacketBytes * 255 + 1], 255);
  EXPECT_EQ(stream[kOpenBciPacketBytes * 256 + 1], 0);
  OpenBciDecoder decoder(false, kOpenBciDefaultGain);
  const auto frames = feed_all(decoder, stream);
  ASSERT_EQ(frames.size(), 600U);
  for (std::size_t k = 0; k < frames.size(); ++k) {
    ASSERT_EQ(frames[k].sequence, k);
    ASSERT_EQ(frames[k].uv[3], static_cast<float>(static_cast<double>(k * 8 + 3) * kScale));
  }
  EXPECT_EQ(decoder.lost_packets(), 0U);
}

TEST(OpenBciPacket, Decode_PacketsRemoved_LostCountedExactly) {
  // One packet, three in a row, one across the wrap, and 255 in a row (the most a
  // mod-256 counter can tell).
  std::vector<std::size_t> removed{5, 20, 21, 22, 255};
  for (std::size_t k = 300; k < 555; ++k) removed.push_back(k);
  const Bytes stream = drop_packets(cyton_stream(700), removed);
  OpenBciDecoder decoder(false, kOpenBciDefaultGain);
  const auto frames = feed_all(decoder, stream);
  ASSERT_EQ(frames.size(), 700 - removed.size());
  EXPECT_EQ(decoder.lost_packets(), removed.size());
  std::size_t i = 0;
  for (std::uint64_t k = 0; k < 700; ++k) {
    if (std::find(removed.begin(), removed.end(), k) != removed.end()) continue;
    ASSERT_EQ(frames[i++].sequence, k);
  }
}

TEST(OpenBciPacket, Decode_StreamJoinedMidway_SequenceStartsAtFirstSampleNumber) {
  const Bytes full = cyton_stream(300);
  const std::span<const std::uint8_t> tail =
      std::span<const std::uint8_t>(full).subspan(kOpenBciPacketBytes * 250 + 7);  // mid-packet
  OpenBciDecoder decoder(false, kOpenBciDefaultGain);
  const auto frames = feed_all(decoder, tail);
  ASSERT_EQ(frames.size(), 49U);
  EXPECT_EQ(frames.front().sequence, 251U);
  EXPECT_EQ(frames.back().sequence, 299U);  // 251..255, then 0.. unwrapped past 255
  EXPECT_EQ(decoder.lost_packets(), 0U);
  EXPECT_EQ(decoder.bytes_discarded(), kOpenBciPacketBytes - 7);
  EXPECT_EQ(decoder.resyncs(), 1U);
}

TEST(OpenBciPacket, EncodeDecode_Daisy_PairsIntoSixteenChannelFrames) {
  OpenBciEncoder encoder(true, kOpenBciDefaultGain);
  Bytes stream;
  std::vector<std::array<float, 16>> inputs(300);  // 600 packets: the counter wraps
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    for (std::size_t c = 0; c < 16; ++c) inputs[k][c] = static_cast<float>(static_cast<double>(k * 16 + c) * kScale);
    encoder.encode(inputs[k], stream, {static_cast<std::int16_t>(k), 0, 0});
  }
  ASSERT_EQ(stream.size(), 600 * kOpenBciPacketBytes);
  // The Daisy packet (even sample number, channels 9-16) comes first.
  EXPECT_EQ(stream[1], 0);
  EXPECT_EQ(stream[2 + 2], 8);  // channel 9 of frame 0 is 8 counts
  EXPECT_EQ(stream[kOpenBciPacketBytes + 1], 1);
  EXPECT_EQ(stream[kOpenBciPacketBytes + 2 + 2], 0);  // channel 1 of frame 0 is 0 counts

  OpenBciDecoder decoder(true, kOpenBciDefaultGain);
  const auto frames = feed_all(decoder, stream);
  ASSERT_EQ(frames.size(), inputs.size());
  for (std::size_t k = 0; k < frames.size(); ++k) {
    EXPECT_EQ(frames[k].sequence, k);
    EXPECT_EQ(frames[k].channel_count, 16);
    EXPECT_EQ(frames[k].accel[0], static_cast<std::int16_t>(k));
    for (std::size_t c = 0; c < 16; ++c) ASSERT_EQ(frames[k].uv[c], inputs[k][c]) << k << " ch " << c;
  }
  EXPECT_EQ(counters(decoder), (Counters{600, 300, 0, 0, 0, 0}));
}

Bytes daisy_stream(std::size_t frames) {
  OpenBciEncoder encoder(true, kOpenBciDefaultGain);
  Bytes out;
  for (std::size_t k = 0; k < frames; ++k) {
    std::array<float, 16> uv{};
    uv.fill(static_cast<float>(static_cast<double>(k) * kScale));
    encoder.encode(uv, out);
  }
  return out;
}

TEST(OpenBciPacket, Decode_DaisyHalfMissing_PartnerCountedUnpairedAndLossCounted) {
  OpenBciDecoder cyton_half_lost(true, kOpenBciDefaultGain);  // packet 3 = Cyton half of frame 1
  EXPECT_EQ(sequences(feed_all(cyton_half_lost, drop_packets(daisy_stream(4), {3}))),
            (std::vector<std::uint64_t>{0, 2, 3}));
  EXPECT_EQ(counters(cyton_half_lost), (Counters{7, 3, 1, 0, 0, 1}));

  OpenBciDecoder daisy_half_lost(true, kOpenBciDefaultGain);  // packet 2 = Daisy half of frame 1
  EXPECT_EQ(sequences(feed_all(daisy_half_lost, drop_packets(daisy_stream(4), {2}))),
            (std::vector<std::uint64_t>{0, 2, 3}));
  EXPECT_EQ(counters(daisy_half_lost), (Counters{7, 3, 1, 0, 0, 1}));

  OpenBciDecoder whole_pair_lost(true, kOpenBciDefaultGain);  // both halves: a clean gap
  EXPECT_EQ(sequences(feed_all(whole_pair_lost, drop_packets(daisy_stream(4), {2, 3}))),
            (std::vector<std::uint64_t>{0, 2, 3}));
  EXPECT_EQ(counters(whole_pair_lost), (Counters{6, 3, 2, 0, 0, 0}));

  OpenBciDecoder starts_mid_pair(true, kOpenBciDefaultGain);  // joined after a Daisy half
  EXPECT_EQ(sequences(feed_all(starts_mid_pair, drop_packets(daisy_stream(3), {0}))),
            (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(counters(starts_mid_pair), (Counters{5, 2, 0, 0, 0, 1}));
}

TEST(OpenBciPacket, Decode_GarbageBetweenPackets_DiscardedAndResynced) {
  const Bytes packets = cyton_stream(6);
  const auto packet = [&](std::size_t k) {
    return std::span<const std::uint8_t>(packets).subspan(k * kOpenBciPacketBytes, kOpenBciPacketBytes);
  };
  // Garbage with false headers and footers; none of its 0xA0s has a footer 32 bytes on.
  const Bytes noise{0xC0, 0xA0, 0x01, 0xA0, 0xA0, 0xC6, 0x00};
  Bytes stream(noise);
  for (std::size_t k = 0; k < 6; ++k) {
    stream.insert(stream.end(), packet(k).begin(), packet(k).end());
    if (k == 1) stream.insert(stream.end(), noise.begin(), noise.end());
    if (k == 3) stream.insert(stream.end(), packet(4).begin(), packet(4).begin() + 20);  // a truncated packet
  }
  OpenBciDecoder decoder(false, kOpenBciDefaultGain);
  const auto frames = feed_all(decoder, stream);
  EXPECT_EQ(sequences(frames), (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(counters(decoder), (Counters{6, 6, 0, 3, 2 * noise.size() + 20, 0}));
  EXPECT_EQ(decoder.buffered_bytes(), 0U);
}

TEST(OpenBciPacket, Decode_BadFooter_PacketDroppedAndCountedAsLoss) {
  Bytes stream = cyton_stream(4);
  stream[2 * kOpenBciPacketBytes + 32] = 0xC7;  // packet 2 is damaged
  OpenBciDecoder decoder(false, kOpenBciDefaultGain);
  EXPECT_EQ(sequences(feed_all(decoder, stream)), (std::vector<std::uint64_t>{0, 1, 3}));
  EXPECT_EQ(counters(decoder), (Counters{3, 3, 1, 1, kOpenBciPacketBytes, 0}));
}

TEST(OpenBciPacket, Decode_OtherFooter_AuxPassedThroughWithoutAccel) {
  Bytes stream = cyton_stream(1);
  stream[32] = 0xC1;
  std::copy_n(Bytes{1, 2, 3, 4, 5, 6}.begin(), 6, stream.begin() + 26);
  OpenBciDecoder decoder(false, kOpenBciDefaultGain);
  const auto frames = feed_all(decoder, stream);
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].footer, 0xC1);
  EXPECT_FALSE(frames[0].has_accel);
  EXPECT_EQ(frames[0].accel, (std::array<std::int16_t, 3>{}));
  EXPECT_EQ(frames[0].aux, (std::array<std::uint8_t, 6>{1, 2, 3, 4, 5, 6}));
}

TEST(OpenBciPacket, Feed_ByteByByteOrRandomChunks_SameAsWholeBuffer) {
  for (const bool daisy : {false, true}) {
    Bytes stream =
        daisy ? drop_packets(daisy_stream(200), {7, 50, 51, 52, 120}) : drop_packets(cyton_stream(400), {9, 10, 300});
    stream.insert(stream.begin() + 1000, {0xA0, 0xA0, 0x11, 0xC0});
    stream.insert(stream.begin() + 5000, 17, 0xA0);
    stream[3000] = 0x55;

    OpenBciDecoder whole(daisy, kOpenBciDefaultGain);
    const auto expected = feed_all(whole, stream);
    ASSERT_GT(expected.size(), 150U);
    for (const auto& sizes : std::vector<std::vector<std::size_t>>{{1}, {0, 5, 32, 33, 34, 1, 100, 2}}) {
      OpenBciDecoder chunked(daisy, kOpenBciDefaultGain);
      const auto got = feed_chunked(chunked, stream, sizes);
      ASSERT_EQ(got.size(), expected.size());
      EXPECT_TRUE(std::equal(got.begin(), got.end(), expected.begin(), same_frame));
      EXPECT_EQ(counters(chunked), counters(whole));
    }
  }
}

// Packets and noise (rich in headers and footers), some packets damaged, fed in 100k random
// chunks: no crash (the sanitizer job runs this) and every byte accounted for.
TEST(OpenBciPacket, Feed_RandomStreamInRandomChunks_NoCrashAndCountersConsistent) {
  constexpr std::size_t kChunks = 100'000;
  for (const bool daisy : {false, true}) {
    std::mt19937 rng(daisy ? 11 : 12);
    OpenBciEncoder encoder(daisy, kOpenBciDefaultGain);
    std::uniform_real_distribution<float> dist(-200'000.0F, 200'000.0F);
    std::vector<float> uv(encoder.channels());
    Bytes stream;
    while (stream.size() < kChunks * 24) {
      const std::size_t start = stream.size();
      for (auto& v : uv) v = dist(rng);
      encoder.encode(uv, stream);
      switch (rng() % 8) {
        case 0: stream[start + rng() % (stream.size() - start)] = static_cast<std::uint8_t>(rng()); break;
        case 1: stream.resize(start + rng() % (stream.size() - start)); break;  // truncated
        case 2:
          for (std::size_t n = rng() % 70; n > 0; --n) {
            const std::array<std::uint8_t, 4> likely{kOpenBciHeader, kOpenBciFooterAccel, kOpenBciFooterLast, 0xC3};
            stream.push_back(rng() % 2 == 0 ? likely[rng() % 4] : static_cast<std::uint8_t>(rng()));
          }
          break;
        default: break;
      }
    }

    OpenBciDecoder decoder(daisy, kOpenBciDefaultGain);
    std::uint64_t delivered = 0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < kChunks && at < stream.size(); ++i) {
      const std::size_t n = std::min<std::size_t>(rng() % 48, stream.size() - at);
      decoder.feed(std::span<const std::uint8_t>(stream).subspan(at, n), [&](const OpenBciFrame& f) {
        ++delivered;
        ASSERT_EQ(f.channel_count, daisy ? 16 : 8);
        for (const float v : f.uv) ASSERT_TRUE(std::isfinite(v));
      });
      at += n;
    }

    EXPECT_EQ(decoder.frames(), delivered);
    EXPECT_GT(delivered, 1000U);
    EXPECT_GT(decoder.resyncs(), 100U);
    EXPECT_GT(decoder.lost_packets(), 0U);
    EXPECT_EQ(decoder.packets() * kOpenBciPacketBytes + decoder.bytes_discarded() + decoder.buffered_bytes(), at);
    EXPECT_LE(decoder.buffered_bytes(), kOpenBciPacketBytes - 1);
    if (daisy) {
      // Each packet is paired, dropped as unpaired, or the one half still waiting.
      const std::uint64_t accounted = 2 * decoder.frames() + decoder.unpaired_daisy();
      EXPECT_TRUE(decoder.packets() == accounted || decoder.packets() == accounted + 1);
      EXPECT_GT(decoder.unpaired_daisy(), 0U);
    } else {
      EXPECT_EQ(decoder.frames(), decoder.packets());
      EXPECT_EQ(decoder.unpaired_daisy(), 0U);
    }
  }
}

// The OpenBCI GUI's sample recording (Cyton, 8 channels, µV): every row's values survive
// encoding to packets and decoding again to within half a count (plus float rounding).
TEST(OpenBciPacket, EncodeDecode_OpenBciGuiRecording_MatchesWithinHalfACount) {
  const std::filesystem::path path = std::filesystem::path(SENSORGATE_SHARED_DATA_DIR) /
                                     "openbci-gui-sample/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt";
  std::ifstream in(path);
  if (!in) GTEST_SKIP() << "recording not found at " << path << " (shared data not checked out)";

  constexpr std::size_t kRows = 2000;
  std::vector<std::array<double, 8>> rows;
  std::vector<int> sample_index;
  std::string line;
  bool header_seen = false;
  while (rows.size() < kRows && std::getline(in, line)) {
    if (line.starts_with('%')) continue;
    if (!header_seen) {  // the column-header line
      header_seen = true;
      ASSERT_TRUE(line.starts_with("Sample Index")) << line;
      continue;
    }
    std::vector<std::string> fields;
    std::size_t from = 0;
    std::size_t comma = line.find(',');
    while (comma != std::string::npos) {
      fields.push_back(line.substr(from, comma - from));
      from = comma + 1;
      comma = line.find(',', from);
    }
    fields.push_back(line.substr(from));
    ASSERT_EQ(fields.size(), 25U) << line;
    sample_index.push_back(std::stoi(fields[0]));
    std::array<double, 8> uv{};
    for (std::size_t c = 0; c < uv.size(); ++c) uv[c] = std::stod(fields[1 + c]);
    rows.push_back(uv);
  }
  ASSERT_EQ(rows.size(), kRows);

  OpenBciEncoder encoder(false, kOpenBciDefaultGain);
  Bytes stream;
  for (const auto& row : rows) {
    std::array<float, 8> uv{};
    std::transform(row.begin(), row.end(), uv.begin(), [](double v) { return static_cast<float>(v); });
    encoder.encode(uv, stream);
  }
  OpenBciDecoder decoder(false, kOpenBciDefaultGain);
  const auto frames = feed_all(decoder, stream);
  ASSERT_EQ(frames.size(), rows.size());
  for (std::size_t k = 0; k < rows.size(); ++k) {
    EXPECT_EQ(frames[k].sequence % 256, static_cast<std::uint64_t>(sample_index[k]));
    for (std::size_t c = 0; c < 8; ++c) {
      ASSERT_NEAR(frames[k].uv[c], rows[k][c], tolerance(rows[k][c])) << "row " << k << " channel " << c;
    }
  }
  EXPECT_EQ(decoder.lost_packets(), 0U);
}

}  // namespace
}  // namespace sensorgate
