#include "sensorgate/uplink/codec.hpp"

#include <gtest/gtest.h>

namespace sensorgate::uplink {
namespace {

WindowSummaryRecord sample_window() {
  WindowSummaryRecord w;
  w.device_id = "sim-0001";
  w.window_start_ns = 1'000'000'000;
  w.window_end_ns = 2'000'000'000;
  for (std::uint16_t c = 0; c < 3; ++c) {
    const auto x = static_cast<float>(c);
    w.channels.push_back({c, 256, -1.5F - x, 2.5F + x, 0.25 * x, 4.0 + x});
  }
  return w;
}

TEST(Codec, WindowSummary_RoundTrip_AllFieldsEqual) {
  const auto bytes = encode_window_summary("gw-1", 42, 99, sample_window());
  std::string error;
  const auto decoded = decode_uplink(bytes, error);
  ASSERT_TRUE(decoded) << error;
  EXPECT_EQ(decoded->gateway_id, "gw-1");
  EXPECT_EQ(decoded->sequence, 42U);
  EXPECT_EQ(decoded->sent_at_ns, 99);
  ASSERT_TRUE(decoded->window);
  const auto& w = *decoded->window;
  const auto expected = sample_window();
  EXPECT_EQ(w.device_id, expected.device_id);
  EXPECT_EQ(w.window_start_ns, expected.window_start_ns);
  EXPECT_EQ(w.window_end_ns, expected.window_end_ns);
  ASSERT_EQ(w.channels.size(), 3U);
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_EQ(w.channels[c].channel, expected.channels[c].channel);
    EXPECT_EQ(w.channels[c].count, expected.channels[c].count);
    EXPECT_EQ(w.channels[c].min, expected.channels[c].min);
    EXPECT_EQ(w.channels[c].max, expected.channels[c].max);
    EXPECT_EQ(w.channels[c].mean, expected.channels[c].mean);
    EXPECT_EQ(w.channels[c].variance, expected.channels[c].variance);
  }
}

TEST(Codec, Ack_RoundTrip) {
  const std::vector<std::uint64_t> seqs{3, 1, 2};
  const auto bytes = encode_ack("gw-1", seqs);
  std::string error;
  const auto ack = decode_ack(bytes, error);
  ASSERT_TRUE(ack) << error;
  EXPECT_EQ(ack->gateway_id, "gw-1");
  EXPECT_EQ(ack->sequences, seqs);
}

// A truncated buffer is rejected, except when only trailing alignment padding was cut.
TEST(Codec, TruncatedUplink_RejectedUnlessOnlyPaddingWasCut) {
  const auto bytes = encode_window_summary("gw-1", 1, 2, sample_window());
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    std::string error;
    const auto decoded = decode_uplink({bytes.data(), len}, error);
    if (!decoded) {
      EXPECT_FALSE(error.empty());
      continue;
    }
    EXPECT_GE(len + 8, bytes.size()) << "accepted a buffer cut to " << len << " of " << bytes.size() << " bytes";
    ASSERT_TRUE(decoded->window);
    EXPECT_EQ(decoded->window->channels.size(), 3U);
    EXPECT_EQ(decoded->gateway_id, "gw-1");
  }
}

TEST(Codec, BitFlippedUplink_NeverCrashes_AndAcceptedOnesAreWellFormed) {
  const auto bytes = encode_window_summary("gw-1", 1, 2, sample_window());
  std::size_t rejected = 0;
  for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    auto flipped = bytes;
    flipped[bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
    std::string error;
    const auto decoded = decode_uplink(flipped, error);
    if (!decoded) {
      ++rejected;
      continue;
    }
    EXPECT_FALSE(decoded->gateway_id.empty());
    if (decoded->window) {
      EXPECT_LT(decoded->window->window_start_ns, decoded->window->window_end_ns);
    }
  }
  EXPECT_GT(rejected, 0U);
}

TEST(Codec, MisalignedBuffer_StillDecodes) {
  const auto bytes = encode_window_summary("gw-1", 7, 2, sample_window());
  std::vector<std::uint8_t> shifted(bytes.size() + 1);
  std::copy(bytes.begin(), bytes.end(), shifted.begin() + 1);
  std::string error;
  const auto decoded = decode_uplink({shifted.data() + 1, bytes.size()}, error);
  ASSERT_TRUE(decoded) << error;
  EXPECT_EQ(decoded->sequence, 7U);
}

TEST(Codec, AckBytesAsUplink_RejectedByIdentifier) {
  const std::vector<std::uint64_t> seqs{1};
  const auto bytes = encode_ack("gw-1", seqs);
  std::string error;
  EXPECT_FALSE(decode_uplink(bytes, error));
}

}  // namespace
}  // namespace sensorgate::uplink
