#include "sensorgate/uplink/model_envelope.hpp"

#include <gtest/gtest.h>

namespace sensorgate::uplink {
namespace {

ModelRecord sample_model() {
  ModelRecord m;
  m.kind = ModelKind::kKMeans;
  m.version = 7;
  m.feature_spec = "c0.log_std,c0.log_line_length";
  m.created_at_ns = 1'796'000'000'000'000'000;
  for (int i = 0; i < 300; ++i) m.payload.push_back(static_cast<std::uint8_t>(i * 7));
  return m;
}

TEST(ModelEnvelope, SignedByCollector_VerifiesAndRoundTrips) {
  const auto keys = SigningKeys::generate();
  const auto model = sample_model();
  const auto bytes = encode_signed_model(model, keys.secret_key);
  std::string error;
  const auto got = verify_signed_model(bytes, keys.public_key, model.feature_spec, error);
  ASSERT_TRUE(got) << error;
  EXPECT_EQ(got->kind, model.kind);
  EXPECT_EQ(got->version, model.version);
  EXPECT_EQ(got->feature_spec, model.feature_spec);
  EXPECT_EQ(got->created_at_ns, model.created_at_ns);
  EXPECT_EQ(got->payload, model.payload);
}

// Every single flipped byte is refused: by the verifier, the hash or the signature.
TEST(ModelEnvelope, AnyFlippedByte_Refused) {
  const auto keys = SigningKeys::generate();
  const auto bytes = encode_signed_model(sample_model(), keys.secret_key);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto corrupt = bytes;
    corrupt[i] ^= 0x01U;
    std::string error;
    const auto got = verify_signed_model(corrupt, keys.public_key, "", error);
    // A flip in FlatBuffers padding changes no field; everything else must be refused.
    if (got) {
      EXPECT_EQ(got->payload, sample_model().payload) << "byte " << i;
      EXPECT_EQ(got->version, 7U) << "byte " << i;
      EXPECT_EQ(got->feature_spec, sample_model().feature_spec) << "byte " << i;
    } else {
      EXPECT_FALSE(error.empty());
    }
  }
  // The payload's bytes specifically: always refused, for the hash.
  auto corrupt = bytes;
  corrupt[corrupt.size() - 10] ^= 0xFFU;
  std::string error;
  EXPECT_FALSE(verify_signed_model(corrupt, keys.public_key, "", error));
}

TEST(ModelEnvelope, SignedWithAnotherKey_RefusedSayingSignature) {
  const auto collector = SigningKeys::generate();
  const auto attacker = SigningKeys::generate();
  const auto bytes = encode_signed_model(sample_model(), attacker.secret_key);
  std::string error;
  EXPECT_FALSE(verify_signed_model(bytes, collector.public_key, "", error));
  EXPECT_NE(error.find("signature does not verify"), std::string::npos) << error;
}

TEST(ModelEnvelope, OtherFeatureSpec_RefusedNamingBoth) {
  const auto keys = SigningKeys::generate();
  const auto bytes = encode_signed_model(sample_model(), keys.secret_key);
  std::string error;
  EXPECT_FALSE(verify_signed_model(bytes, keys.public_key, "c0.log_std", error));
  EXPECT_NE(error.find("feature spec"), std::string::npos) << error;
}

TEST(ModelEnvelope, GarbageAndEmptyBuffers_RefusedWithoutThrowing) {
  const auto keys = SigningKeys::generate();
  std::string error;
  EXPECT_FALSE(verify_signed_model({}, keys.public_key, "", error));
  const std::vector<std::uint8_t> garbage(64, 0xAB);
  EXPECT_FALSE(verify_signed_model(garbage, keys.public_key, "", error));
  EXPECT_NE(error.find("ModelEnvelope"), std::string::npos) << error;
}

}  // namespace
}  // namespace sensorgate::uplink
