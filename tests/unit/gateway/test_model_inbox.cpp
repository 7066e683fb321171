// ModelInbox with real signed envelopes: a good model goes live, a flipped byte, another
// key, an unsigned or mismatched model is refused and the live model stays; rollback.
#include "sensorgate/gateway/model_inbox.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "sensorgate/testing/processes.hpp"

#include "sensorgate/uplink/model_payload.hpp"
#include "sensorgate/uplink/summary_features.hpp"

namespace sensorgate {
namespace {

constexpr std::size_t kChannels = 2;
constexpr std::size_t kFeatures = kChannels * uplink::kSummaryFeaturesPerChannel;

uplink::ModelRecord logistic_model(std::uint32_t version, float bias) {
  uplink::LinearModel linear;
  linear.mean.assign(kFeatures, 0.0F);
  linear.scale.assign(kFeatures, 1.0F);
  linear.weights.assign(kFeatures, 0.0F);
  linear.bias = bias;
  uplink::ModelRecord record;
  record.kind = uplink::ModelKind::kLogisticRegression;
  record.version = version;
  record.feature_spec = uplink::summary_feature_spec(kChannels);
  record.created_at_ns = 1;
  record.payload = uplink::encode_linear_model(linear);
  return record;
}

class ModelInboxTest : public ::testing::Test {
 protected:
  uplink::SigningKeys keys_ = uplink::SigningKeys::generate();
  ModelSlot slot_;
  ModelInbox inbox_{slot_, keys_.public_key};

  uplink::ModelStatusRecord push(const std::vector<std::uint8_t>& envelope) {
    uplink::GatewayCommandRecord command;
    command.model = envelope;
    return inbox_.handle(command);
  }
};

TEST_F(ModelInboxTest, Handle_GoodModel_LiveAndAcknowledged) {
  const auto status = push(uplink::encode_signed_model(logistic_model(3, 2.0F), keys_.secret_key));
  EXPECT_TRUE(status.accepted) << status.detail;
  EXPECT_EQ(status.version, 3U);
  EXPECT_EQ(status.active_version, 3U);
  ASSERT_NE(slot_.current(), nullptr);
  EXPECT_EQ(slot_.current()->version(), 3U);
  EXPECT_EQ(slot_.current()->channels(), kChannels);
  EXPECT_EQ(inbox_.counters().accepted.load(), 1U);
  EXPECT_EQ(inbox_.counters().active_version.load(), 3U);
}

TEST_F(ModelInboxTest, Handle_FlippedByteAnywhere_RefusedLiveModelKept) {
  ASSERT_TRUE(push(uplink::encode_signed_model(logistic_model(1, 0.0F), keys_.secret_key)).accepted);
  const auto good = uplink::encode_signed_model(logistic_model(2, 1.0F), keys_.secret_key);
  std::size_t refused = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    auto bad = good;
    bad[i] ^= 0x01U;
    const auto status = push(bad);
    // A flip in FlatBuffers padding changes nothing that is read or signed; every other
    // flip must be caught.
    if (!status.accepted) {
      ++refused;
      EXPECT_FALSE(status.detail.empty());
      EXPECT_EQ(status.active_version, 1U);
    } else {
      EXPECT_EQ(status.version, 2U);
      slot_.rollback();  // back to v1 for the next flip
    }
  }
  EXPECT_GT(refused, good.size() * 9 / 10);
  EXPECT_EQ(inbox_.counters().rejected.load(), refused);
}

TEST_F(ModelInboxTest, Handle_SignedByAnotherKey_Refused) {
  const auto other = uplink::SigningKeys::generate();
  const auto status = push(uplink::encode_signed_model(logistic_model(1, 0.0F), other.secret_key));
  EXPECT_FALSE(status.accepted);
  EXPECT_NE(status.detail.find("signature"), std::string::npos) << status.detail;
  EXPECT_EQ(slot_.current(), nullptr);
  EXPECT_EQ(inbox_.counters().rejected.load(), 1U);
}

TEST_F(ModelInboxTest, Handle_UnknownFeatureSpecOrPayloadSizeMismatch_Refused) {
  auto record = logistic_model(1, 0.0F);
  record.feature_spec = "kernels-v1:8x16";
  EXPECT_FALSE(push(uplink::encode_signed_model(record, keys_.secret_key)).accepted);
  record = logistic_model(1, 0.0F);
  record.feature_spec = uplink::summary_feature_spec(kChannels + 1);
  const auto status = push(uplink::encode_signed_model(record, keys_.secret_key));
  EXPECT_FALSE(status.accepted);
  EXPECT_NE(status.detail.find("features"), std::string::npos) << status.detail;
  EXPECT_EQ(slot_.current(), nullptr);
}

TEST(ModelInbox, Handle_NoVerifyKeyConfigured_EveryModelRefused) {
  const auto keys = uplink::SigningKeys::generate();
  ModelSlot slot;
  ModelInbox inbox(slot, std::nullopt);
  uplink::GatewayCommandRecord command;
  command.model = uplink::encode_signed_model(logistic_model(1, 0.0F), keys.secret_key);
  const auto status = inbox.handle(command);
  EXPECT_FALSE(status.accepted);
  EXPECT_NE(status.detail.find("verify_key"), std::string::npos);
}

TEST_F(ModelInboxTest, Handle_Rollback_PreviousModelLiveAgain) {
  uplink::GatewayCommandRecord rollback;
  rollback.rollback = true;
  EXPECT_FALSE(inbox_.handle(rollback).accepted);  // nothing to go back to
  ASSERT_TRUE(push(uplink::encode_signed_model(logistic_model(1, 0.0F), keys_.secret_key)).accepted);
  ASSERT_TRUE(push(uplink::encode_signed_model(logistic_model(2, 0.0F), keys_.secret_key)).accepted);
  const auto status = inbox_.handle(rollback);
  EXPECT_TRUE(status.accepted);
  EXPECT_EQ(status.version, 2U);
  EXPECT_EQ(status.active_version, 1U);
  EXPECT_EQ(status.detail, "rolled back");
  EXPECT_EQ(slot_.current()->version(), 1U);
  EXPECT_EQ(inbox_.counters().rollbacks.load(), 1U);
}

TEST(ModelInbox, Restore_ModelsKeptInDirectory_LiveAgainAfterRestartAndRollbackStillWorks) {
  const auto keys = uplink::SigningKeys::generate();
  testing::TempDir dir;
  {
    ModelSlot slot;
    ModelInbox inbox(slot, keys.public_key, dir.path());
    for (const std::uint32_t version : {1U, 2U, 3U}) {
      uplink::GatewayCommandRecord push;
      push.model = uplink::encode_signed_model(logistic_model(version, 0.0F), keys.secret_key);
      ASSERT_TRUE(inbox.handle(push).accepted);
    }
    uplink::GatewayCommandRecord rollback;
    rollback.rollback = true;
    ASSERT_EQ(inbox.handle(rollback).active_version, 2U);
  }
  ModelSlot slot;  // a restarted gateway
  ModelInbox inbox(slot, keys.public_key, dir.path());
  inbox.restore();
  ASSERT_NE(slot.current(), nullptr);
  EXPECT_EQ(slot.current()->version(), 2U);
  EXPECT_EQ(inbox.counters().active_version.load(), 2U);
  ASSERT_TRUE(slot.rollback());
  EXPECT_EQ(slot.current()->version(), 3U) << "the previous model came back too";

  // A file altered on disk is verified like a push and refused.
  auto bytes = uplink::encode_signed_model(logistic_model(9, 0.0F), keys.secret_key);
  bytes[bytes.size() / 2] ^= 0xFFU;
  std::ofstream(dir.path() / "active.sgm", std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ModelSlot tampered_slot;
  ModelInbox tampered(tampered_slot, keys.public_key, dir.path());
  tampered.restore();
  EXPECT_EQ(tampered.counters().rejected.load(), 1U);
  ASSERT_NE(tampered_slot.current(), nullptr);
  EXPECT_EQ(tampered_slot.current()->version(), 3U) << "previous.sgm still restored";
}

}  // namespace
}  // namespace sensorgate
