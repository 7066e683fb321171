#include "sensorgate/gateway/frame_batch_decoder.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "sensorgate/uplink/codec.hpp"

namespace sensorgate {
namespace {

std::vector<std::uint8_t> batch(const std::string& id, std::uint16_t channels, std::size_t floats, double rate = 256) {
  std::vector<float> samples(floats);
  for (std::size_t i = 0; i < floats; ++i) samples[i] = static_cast<float>(i) * 0.5F;
  return uplink::encode_frame_batch(id, 77, 123456789, rate, channels, samples);
}

TEST(FrameBatchDecoder, ValidBatch_RoundTrips) {
  FrameBatchDecoder decoder;
  const auto bytes = batch("dev-1", 4, 32);
  DecodedBatch out;
  ASSERT_EQ(decoder.decode(bytes, out), DecodeError::kNone);
  EXPECT_EQ(out.device_id, "dev-1");
  EXPECT_EQ(out.first_seq, 77U);
  EXPECT_EQ(out.first_time_ns, 123456789);
  EXPECT_EQ(out.channels, 4);
  EXPECT_EQ(out.frames(), 8U);
  EXPECT_EQ(out.samples[5], 2.5F);
  EXPECT_EQ(decoder.rejected_total(), 0U);
}

// A truncated buffer is rejected, except when only trailing alignment padding was cut:
// then it still holds the whole batch, unchanged.
TEST(FrameBatchDecoder, EveryTruncation_RejectedUnlessOnlyPaddingWasCut) {
  FrameBatchDecoder decoder;
  const auto bytes = batch("dev-1", 4, 32);
  DecodedBatch full;
  ASSERT_EQ(decoder.decode(bytes, full), DecodeError::kNone);
  const std::vector<float> full_samples(full.samples.begin(), full.samples.end());
  std::size_t accepted = 0;
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
    DecodedBatch out;
    if (decoder.decode(cut, out) != DecodeError::kNone) continue;
    ++accepted;
    EXPECT_GE(len + 4, bytes.size()) << "only up to 3 bytes of padding can be cut, at length " << len;
    EXPECT_EQ(out.device_id, "dev-1");
    EXPECT_EQ(std::vector<float>(out.samples.begin(), out.samples.end()), full_samples);
  }
  EXPECT_EQ(decoder.rejected(DecodeError::kVerifierFailed), bytes.size() - accepted);
}

// Flipping any single bit must never crash; the result is either a rejection or a batch
// that passes all semantic checks.
TEST(FrameBatchDecoder, EveryBitFlip_NeverCrashesAndNeverYieldsAnInvalidBatch) {
  FrameBatchDecoder decoder;
  const auto bytes = batch("dev-1", 4, 32);
  for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    auto flipped = bytes;
    flipped[bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
    DecodedBatch out;
    if (decoder.decode(flipped, out) == DecodeError::kNone) {
      EXPECT_GT(out.channels, 0);
      EXPECT_EQ(out.samples.size() % out.channels, 0U);
      EXPECT_FALSE(out.device_id.empty());
    }
  }
  EXPECT_GT(decoder.rejected_total(), 0U);
}

TEST(FrameBatchDecoder, WrongMessageType_Rejected) {
  FrameBatchDecoder decoder;
  const std::vector<std::uint64_t> seqs{1, 2};
  const auto ack = uplink::encode_ack("gw", seqs);
  DecodedBatch out;
  EXPECT_EQ(decoder.decode(ack, out), DecodeError::kVerifierFailed);
}

TEST(FrameBatchDecoder, SemanticErrors_EachHasItsOwnCounter) {
  FrameBatchDecoder decoder;
  DecodedBatch out;
  EXPECT_EQ(decoder.decode(batch("", 4, 32), out), DecodeError::kBadDeviceId);
  EXPECT_EQ(decoder.decode(batch("bad id/with slash", 4, 32), out), DecodeError::kBadDeviceId);
  EXPECT_EQ(decoder.decode(batch("d", 0, 32), out), DecodeError::kBadChannelCount);
  EXPECT_EQ(decoder.decode(batch("d", 300, 300), out), DecodeError::kBadChannelCount);
  EXPECT_EQ(decoder.decode(batch("d", 4, 30), out), DecodeError::kBadSampleCount);
  EXPECT_EQ(decoder.decode(batch("d", 4, 0), out), DecodeError::kBadSampleCount);
  EXPECT_EQ(decoder.decode(batch("d", 4, 32, 0.0), out), DecodeError::kBadSampleRate);
  EXPECT_EQ(decoder.decode(batch("d", 4, 32, -5.0), out), DecodeError::kBadSampleRate);
  EXPECT_EQ(decoder.rejected(DecodeError::kBadDeviceId), 2U);
  EXPECT_EQ(decoder.rejected(DecodeError::kBadChannelCount), 2U);
  EXPECT_EQ(decoder.rejected(DecodeError::kBadSampleCount), 2U);
  EXPECT_EQ(decoder.rejected(DecodeError::kBadSampleRate), 2U);
}

TEST(FrameBatchDecoder, NanOrInfiniteSample_RejectedWithItsOwnCounter) {
  FrameBatchDecoder decoder;
  DecodedBatch out;
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::vector<float> samples(8, 1.0F);
    samples[5] = bad;
    const auto bytes = uplink::encode_frame_batch("d", 0, 0, 256.0, 4, samples);
    EXPECT_EQ(decoder.decode(bytes, out), DecodeError::kNonFiniteSample);
  }
  EXPECT_EQ(decoder.rejected(DecodeError::kNonFiniteSample), 2U);
}

}  // namespace
}  // namespace sensorgate
