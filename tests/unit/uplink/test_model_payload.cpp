#include "sensorgate/uplink/model_payload.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>

namespace sensorgate::uplink {
namespace {

LinearModel sample_linear() {
  LinearModel m;
  m.mean = {1.0F, -2.0F, 0.5F};
  m.scale = {2.0F, 0.5F, 1.0F};
  m.weights = {0.75F, -1.25F, 2.0F};
  m.bias = -0.3F;
  return m;
}

CentroidModel sample_centroids() {
  CentroidModel m;
  m.mean = {10.0F, 20.0F};
  m.scale = {2.0F, 4.0F};
  m.k = 3;
  m.centroids = {0.0F,  0.0F,  //
                 1.0F,  1.0F,  //
                 -1.0F, 2.0F};
  return m;
}

void write_float(std::vector<std::uint8_t>& bytes, std::size_t offset, float v) {
  std::memcpy(bytes.data() + offset, &v, sizeof(v));
}

TEST(ModelPayload, LinearRoundTrip_SameModel) {
  const auto m = sample_linear();
  const auto bytes = encode_linear_model(m);
  EXPECT_EQ(bytes.size(), 12 + (4 * (3 * 3 + 1)));
  std::string error;
  const auto got = decode_linear_model(bytes, error);
  ASSERT_TRUE(got) << error;
  EXPECT_EQ(got->mean, m.mean);
  EXPECT_EQ(got->scale, m.scale);
  EXPECT_EQ(got->weights, m.weights);
  EXPECT_EQ(got->bias, m.bias);
  EXPECT_EQ(feature_count(*got), 3U);
}

TEST(ModelPayload, CentroidRoundTrip_SameModel) {
  const auto m = sample_centroids();
  const auto bytes = encode_centroid_model(m);
  EXPECT_EQ(bytes.size(), 16 + (4 * (2 * 2 + 3 * 2)));
  std::string error;
  const auto got = decode_centroid_model(bytes, error);
  ASSERT_TRUE(got) << error;
  EXPECT_EQ(got->mean, m.mean);
  EXPECT_EQ(got->scale, m.scale);
  EXPECT_EQ(got->k, m.k);
  EXPECT_EQ(got->centroids, m.centroids);
  EXPECT_EQ(feature_count(*got), 2U);
}

TEST(ModelPayload, EveryTruncation_Refused) {
  const auto linear = encode_linear_model(sample_linear());
  for (std::size_t len = 0; len < linear.size(); ++len) {
    std::string error;
    EXPECT_FALSE(decode_linear_model(std::span(linear).first(len), error)) << "length " << len;
    EXPECT_FALSE(error.empty());
  }
  const auto centroid = encode_centroid_model(sample_centroids());
  for (std::size_t len = 0; len < centroid.size(); ++len) {
    std::string error;
    EXPECT_FALSE(decode_centroid_model(std::span(centroid).first(len), error)) << "length " << len;
    EXPECT_FALSE(error.empty());
  }
}

TEST(ModelPayload, TrailingBytes_Refused) {
  auto bytes = encode_linear_model(sample_linear());
  bytes.push_back(0);
  std::string error;
  EXPECT_FALSE(decode_linear_model(bytes, error));
  EXPECT_NE(error.find("expected"), std::string::npos) << error;
}

TEST(ModelPayload, NaNOrZeroScale_Refused) {
  const auto good = encode_linear_model(sample_linear());
  constexpr std::size_t kHeader = 12;
  constexpr std::size_t kScale0 = kHeader + 12;  // after 3 means
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // A NaN anywhere in the floats: mean, scale, weights, bias.
  for (std::size_t offset = kHeader; offset < good.size(); offset += 4) {
    auto bad = good;
    write_float(bad, offset, nan);
    std::string error;
    EXPECT_FALSE(decode_linear_model(bad, error)) << "offset " << offset;
  }
  for (const float s : {0.0F, -1.0F, std::numeric_limits<float>::infinity()}) {
    auto bad = good;
    write_float(bad, kScale0, s);
    std::string error;
    EXPECT_FALSE(decode_linear_model(bad, error)) << "scale " << s;
    EXPECT_NE(error.find("scale"), std::string::npos) << error;
  }
  auto bad = encode_centroid_model(sample_centroids());
  write_float(bad, 24, 0.0F);  // scale[0], after a 16-byte header and 2 means
  std::string error;
  EXPECT_FALSE(decode_centroid_model(bad, error));
  EXPECT_NE(error.find("scale"), std::string::npos) << error;
  auto bad_centroid = encode_centroid_model(sample_centroids());
  write_float(bad_centroid, bad_centroid.size() - 4, nan);
  EXPECT_FALSE(decode_centroid_model(bad_centroid, error));
}

TEST(ModelPayload, EncoderGivenInvalidModel_Throws) {
  auto m = sample_linear();
  m.scale[1] = 0;
  EXPECT_THROW((void)encode_linear_model(m), std::invalid_argument);
  auto c = sample_centroids();
  c.centroids.pop_back();
  EXPECT_THROW((void)encode_centroid_model(c), std::invalid_argument);
}

// Counts that promise more than the limit, or more than the bytes hold, are refused
// before anything is allocated or read.
TEST(ModelPayload, HugeCounts_RefusedWithoutReading) {
  auto bytes = encode_centroid_model(sample_centroids());
  const std::uint32_t huge = 0xFFFFFFFFU;
  std::memcpy(bytes.data() + 8, &huge, sizeof(huge));   // features
  std::memcpy(bytes.data() + 12, &huge, sizeof(huge));  // k
  std::string error;
  EXPECT_FALSE(decode_centroid_model(bytes, error));
  EXPECT_NE(error.find("limits"), std::string::npos) << error;
  auto linear = encode_linear_model(sample_linear());
  const std::uint32_t many = 4;  // one more feature than the bytes hold
  std::memcpy(linear.data() + 8, &many, sizeof(many));
  EXPECT_FALSE(decode_linear_model(linear, error));
}

TEST(ModelPayload, WrongMagicOrVersion_Refused) {
  const auto linear = encode_linear_model(sample_linear());
  std::string error;
  EXPECT_FALSE(decode_centroid_model(linear, error));
  EXPECT_NE(error.find("magic"), std::string::npos) << error;
  auto newer = linear;
  newer[4] = 2;
  EXPECT_FALSE(decode_linear_model(newer, error));
  EXPECT_NE(error.find("version"), std::string::npos) << error;
}

TEST(ModelPayload, RandomGarbage_RefusedWithoutCrash) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 200);
  for (int i = 0; i < 5000; ++i) {
    std::vector<std::uint8_t> garbage(length(rng));
    for (auto& b : garbage) b = static_cast<std::uint8_t>(byte(rng));
    // Half of them start with a valid magic and version, to get past the first check.
    if (i % 2 == 0 && garbage.size() >= 8) {
      const auto head = encode_linear_model(sample_linear());
      std::copy_n(head.begin(), 8, garbage.begin());
    }
    std::string error;
    EXPECT_FALSE(decode_linear_model(garbage, error)) << "case " << i;
    EXPECT_FALSE(decode_centroid_model(garbage, error)) << "case " << i;
  }
}

TEST(ModelPayload, PredictLogisticAndLinear_MatchHandComputation) {
  const auto m = sample_linear();
  const std::vector<float> x = {3.0F, -1.0F, 1.5F};
  // x' = ((3-1)/2, (-1+2)/0.5, (1.5-0.5)/1) = (1, 2, 1); z = 0.75 - 2.5 + 2 - 0.3 = -0.05.
  EXPECT_NEAR(predict_linear(m, x), -0.05F, 1e-6F);
  EXPECT_NEAR(predict_logistic(m, x), 1.0 / (1.0 + std::exp(0.05)), 1e-6);
  // Far out on both sides the probability saturates without overflow.
  EXPECT_NEAR(predict_logistic(m, std::vector<float>{1e6F, -2.0F, 0.5F}), 1.0F, 1e-6F);
  EXPECT_NEAR(predict_logistic(m, std::vector<float>{-1e6F, -2.0F, 0.5F}), 0.0F, 1e-6F);
  EXPECT_THROW((void)predict_linear(m, std::vector<float>{1.0F}), std::invalid_argument);
}

TEST(ModelPayload, NearestCentroid_MatchesHandComputation) {
  const auto m = sample_centroids();
  // Standardised: x' = ((x0 - 10) / 2, (x1 - 20) / 4).
  EXPECT_EQ(nearest_centroid(m, std::vector<float>{10.0F, 20.0F}), 0U);  // (0, 0)
  EXPECT_EQ(nearest_centroid(m, std::vector<float>{12.2F, 24.4F}), 1U);  // (1.1, 1.1)
  EXPECT_EQ(nearest_centroid(m, std::vector<float>{8.0F, 28.0F}), 2U);   // (-1, 2)
  EXPECT_EQ(nearest_centroid(m, std::vector<float>{11.0F, 22.0F}), 0U);  // (0.5, 0.5): tie, lowest index
  EXPECT_THROW((void)nearest_centroid(m, std::vector<float>{1.0F, 2.0F, 3.0F}), std::invalid_argument);
}

}  // namespace
}  // namespace sensorgate::uplink
