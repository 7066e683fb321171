#include "sensorgate/uplink/codec.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "sensorgate/testing/fuzz_reproducer.hpp"

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

AnomalyEventRecord sample_event() {
  AnomalyEventRecord e;
  e.device_id = "sim-0001";
  e.start_ns = 1'000'000'000;
  e.end_ns = 4'000'000'000;
  e.peak_score = 7.25;
  e.peak_window_start_ns = 2'000'000'000;
  e.windows = 3;
  e.channels = {5, 0, 12};
  e.ongoing = true;
  return e;
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
  EXPECT_TRUE(std::isnan(w.anomaly_score));
  EXPECT_FALSE(decoded->event);
}

TEST(Codec, WindowSummary_AnomalyScore_RoundTripsAndNaNStaysNaN) {
  auto window = sample_window();
  std::string error;
  for (const float score : {0.0F, 3.5F, -1.25F}) {
    window.anomaly_score = score;
    const auto decoded = decode_uplink(encode_window_summary("gw-1", 1, 2, window), error);
    ASSERT_TRUE(decoded && decoded->window) << error;
    EXPECT_EQ(decoded->window->anomaly_score, score);
  }
  window.anomaly_score = std::numeric_limits<float>::quiet_NaN();
  const auto decoded = decode_uplink(encode_window_summary("gw-1", 1, 2, window), error);
  ASSERT_TRUE(decoded && decoded->window) << error;
  EXPECT_TRUE(std::isnan(decoded->window->anomaly_score));
}

TEST(Codec, WindowSummary_InfiniteAnomalyScore_RefusedWithMessage) {
  auto window = sample_window();
  window.anomaly_score = std::numeric_limits<float>::infinity();
  std::string error;
  EXPECT_FALSE(decode_uplink(encode_window_summary("gw-1", 1, 2, window), error));
  EXPECT_NE(error.find("anomaly_score"), std::string::npos) << error;
}

TEST(Codec, AnomalyEvent_RoundTrip_AllFieldsEqual) {
  for (const bool ongoing : {true, false}) {
    auto expected = sample_event();
    expected.ongoing = ongoing;
    std::string error;
    const auto decoded = decode_uplink(encode_anomaly_event("gw-1", 42, 99, expected), error);
    ASSERT_TRUE(decoded) << error;
    EXPECT_EQ(decoded->gateway_id, "gw-1");
    EXPECT_EQ(decoded->sequence, 42U);
    EXPECT_EQ(decoded->sent_at_ns, 99);
    EXPECT_FALSE(decoded->window);
    ASSERT_TRUE(decoded->event);
    const auto& e = *decoded->event;
    EXPECT_EQ(e.device_id, expected.device_id);
    EXPECT_EQ(e.start_ns, expected.start_ns);
    EXPECT_EQ(e.end_ns, expected.end_ns);
    EXPECT_EQ(e.peak_score, expected.peak_score);
    EXPECT_EQ(e.peak_window_start_ns, expected.peak_window_start_ns);
    EXPECT_EQ(e.windows, expected.windows);
    EXPECT_EQ(e.channels, expected.channels);
    EXPECT_EQ(e.ongoing, ongoing);
  }
}

TEST(Codec, AnomalyEvent_InvalidFields_RefusedWithMessage) {
  const auto refused = [](const AnomalyEventRecord& event) {
    std::string error;
    const bool decoded = decode_uplink(encode_anomaly_event("gw-1", 1, 2, event), error).has_value();
    EXPECT_NE(error.find("AnomalyEvent"), std::string::npos) << error;
    return !decoded;
  };
  auto event = sample_event();
  event.device_id.clear();
  EXPECT_TRUE(refused(event));
  event = sample_event();
  event.end_ns = event.start_ns - 1;
  EXPECT_TRUE(refused(event));
  event = sample_event();
  event.peak_score = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(refused(event));
  event.peak_score = -std::numeric_limits<double>::infinity();
  EXPECT_TRUE(refused(event));
}

TEST(Codec, BitFlippedAnomalyEvent_NeverCrashes_AndAcceptedOnesAreWellFormed) {
  const auto bytes = encode_anomaly_event("gw-1", 1, 2, sample_event());
  std::size_t rejected = 0;
  for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    auto flipped = bytes;
    flipped[bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
    std::string error;
    const auto decoded = decode_uplink(flipped, error);
    if (!decoded) {
      EXPECT_FALSE(error.empty());
      ++rejected;
      continue;
    }
    if (decoded->event) {
      EXPECT_FALSE(decoded->event->device_id.empty());
      EXPECT_LE(decoded->event->start_ns, decoded->event->end_ns);
      EXPECT_TRUE(std::isfinite(decoded->event->peak_score));
    }
  }
  EXPECT_GT(rejected, 0U);
}

TEST(Codec, RawFrames_RoundTripAndPartialFrameRefused) {
  const RawFramesRecord frames{"dev-1", 42, 1'000'000, 250.0, 2, {1.0F, 2.0F, 3.0F, 4.0F}};
  const auto bytes = encode_uplink_record("gw", 9, 1, frames);
  std::string error;
  const auto decoded = decode_uplink(bytes, error);
  ASSERT_TRUE(decoded && decoded->raw_frames) << error;
  EXPECT_EQ(decoded->raw_frames->device_id, "dev-1");
  EXPECT_EQ(decoded->raw_frames->first_seq, 42U);
  EXPECT_EQ(decoded->raw_frames->first_time_ns, 1'000'000);
  EXPECT_EQ(decoded->raw_frames->channels, 2);
  EXPECT_EQ(decoded->raw_frames->samples, frames.samples);
  EXPECT_EQ(decoded->raw_frames->frames(), 2U);
  auto partial = frames;
  partial.samples.pop_back();
  EXPECT_FALSE(decode_uplink(encode_raw_frames("gw", 10, 1, partial), error));
  EXPECT_NE(error.find("partial frame"), std::string::npos) << error;
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

// Found by fuzz_uplink_message (fuzz/regressions/uplink_message/empty-at-odd-address): an
// empty buffer at an odd address made AlignedView memcpy 0 bytes into the null pointer of
// its empty copy, which is undefined behaviour (UBSan: null pointer passed as argument 1).
TEST(Codec, EmptyBufferAtOddAddress_RefusedCleanly) {
  alignas(16) const std::array<std::uint8_t, 2> storage{};
  const auto empty = std::span<const std::uint8_t>(storage).subspan(1, 0);
  std::string error;
  EXPECT_FALSE(decode_uplink(empty, error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(decode_ack(empty, error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(decode_gateway_command(empty, error));
  EXPECT_FALSE(error.empty());
}

// Found by fuzz_uplink_message (fuzz/regressions/uplink_message/window-summary-misaligned-
// channel-stats): the FlatBuffers verifier checks a vector's length field but not that its
// elements are aligned; this WindowSummary's ChannelStats (8-byte aligned structs) sit 4
// bytes off, and reading them was a misaligned access (UBSan). Refused now, with a reason;
// what the encoder writes, empty vectors included, still decodes.
TEST(Codec, MisalignedChannelStats_RefusedCleanly) {
  const std::string bytes =
      sensorgate::testing::fuzz_reproducer("uplink_message/window-summary-misaligned-channel-stats");
  const std::vector<std::uint8_t> buffer(bytes.begin(), bytes.end());
  std::string error;
  EXPECT_FALSE(decode_uplink(buffer, error));
  EXPECT_NE(error.find("misaligned"), std::string::npos) << error;

  WindowSummaryRecord empty;
  empty.device_id = "dev";
  empty.window_end_ns = 1;
  EXPECT_TRUE(decode_uplink(encode_window_summary("gw", 1, 0, empty), error)) << error;
  const auto ack = decode_ack(encode_ack("gw", {}), error);
  ASSERT_TRUE(ack) << error;
  EXPECT_TRUE(ack->sequences.empty());
}

}  // namespace
}  // namespace sensorgate::uplink
