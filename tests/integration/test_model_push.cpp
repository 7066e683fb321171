// Model push on real processes: models stored in the collector's database and queued for a
// gateway are delivered over the uplink connection while the simulator streams in real
// time. A good model is live within 1 s and classifies the following windows; a model with
// a flipped byte and one signed by another key are refused with the live model kept; a
// rollback returns to the previous model; and not one frame is dropped meanwhile.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "sensorgate/collector/store.hpp"
#include "sensorgate/testing/processes.hpp"
#include "sensorgate/testing/store_backend_test.hpp"
#include "sensorgate/uplink/model_envelope.hpp"
#include "sensorgate/uplink/model_payload.hpp"
#include "sensorgate/uplink/summary_features.hpp"

namespace sensorgate::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kChannels = 16;
constexpr std::size_t kFeatures = kChannels * uplink::kSummaryFeaturesPerChannel;
constexpr int kSeconds = 14;
constexpr const char* kGatewayId = "gw-push";

nlohmann::json stats(const std::filesystem::path& path) {
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const std::exception&) {
    return nlohmann::json::object();
  }
}

/// A logistic regression over 16-channel summary features (weight on alpha power).
uplink::ModelRecord model_record(std::uint32_t version) {
  uplink::LinearModel linear;
  linear.mean.assign(kFeatures, 0.0F);
  linear.scale.assign(kFeatures, 1.0F);
  linear.weights.assign(kFeatures, 0.0F);
  linear.weights[4] = 1.0F;  // channel 0, log alpha power
  uplink::ModelRecord record;
  record.kind = uplink::ModelKind::kLogisticRegression;
  record.version = version;
  record.feature_spec = uplink::summary_feature_spec(kChannels);
  record.created_at_ns = 1;
  record.payload = uplink::encode_linear_model(linear);
  return record;
}

std::vector<std::uint8_t> signed_model(std::uint32_t version, const uplink::SecretKey& key) {
  return uplink::encode_signed_model(model_record(version), key);
}

/// Stores `envelope` as the next model and queues its push; returns its version.
std::uint32_t store_and_push(collector::Store& store, std::vector<std::uint8_t> envelope) {
  collector::StoredModel model;
  model.kind = uplink::ModelKind::kLogisticRegression;
  model.feature_spec = uplink::summary_feature_spec(kChannels);
  model.envelope = std::move(envelope);
  model.metrics_json = "{}";
  const auto version = store.add_model(model);
  store.request_push(version, kGatewayId, false);
  return version;
}

std::optional<collector::Deployment> deployment(collector::Store& store, std::uint32_t version) {
  for (const auto& d : store.deployments()) {
    if (d.gateway_id == kGatewayId && d.version == version && d.status != "sent") return d;
  }
  return std::nullopt;
}

class ModelPush : public StoreBackendTest {};

TEST_P(ModelPush, PushFlippedWrongKeyRollback_GoodLiveWithinOneSecondBadRefusedNoFrameDropped) {
  TempDir dir;
  MosquittoBroker broker(dir.path());
  const auto keys = uplink::SigningKeys::generate();
  uplink::write_signing_keys(keys, dir.path() / "model-signing.pub", dir.path() / "model-signing.key");
  const std::string db = url();
  const std::string uplink = "tcp://127.0.0.1:" + std::to_string(free_tcp_port());
  ChildProcess collector({SENSORGATE_COLLECTOR_BIN, "--bind", uplink, "--db", db}, dir.path() / "collector.log");
  const auto config = dir.path() / "gateway.toml";
  std::ofstream(config) << "[log]\nstats_interval_s = 1\n[model]\nverify_key = \""
                        << (dir.path() / "model-signing.pub").string() << "\"\n";
  const auto stats_path = dir.path() / "stats.json";
  ChildProcess gateway({SENSORGATE_GATEWAY_BIN, "--config", config.string(), "--mqtt", broker.url(), "--uplink", uplink,
                        "--gateway-id", kGatewayId, "--idle-timeout-ms", "500", "--stats-json", stats_path.string()},
                       dir.path() / "gateway.log");
  ASSERT_TRUE(wait_until([&] { return gateway.log().find("subscribed to") != std::string::npos; }, 20s))
      << gateway.log();
  ChildProcess sim({SENSORGATE_SIM_BIN, "--mqtt", broker.url(), "--devices", "2", "--duration",
                    std::to_string(kSeconds), "--speed", "1", "--seed", "3"},
                   dir.path() / "sim.log");
  auto store = collector::open_store(db);
  // The collector knows a gateway once it has heard from it: wait for the first windows.
  ASSERT_TRUE(wait_until([&] { return store->count_window_rows() > 0; }, 20s)) << gateway.log();

  // 1. A good model: live within 1 s of the push request.
  const auto pushed_at = Clock::now();
  const auto v1 = store_and_push(*store, signed_model(1, keys.secret_key));
  ASSERT_TRUE(wait_until([&] { return deployment(*store, v1).has_value(); }, 5s)) << collector.log();
  const auto live_after = Clock::now() - pushed_at;
  std::cout << "model v" << v1 << " acknowledged live "
            << std::chrono::duration_cast<std::chrono::milliseconds>(live_after).count() << " ms after the push\n";
  EXPECT_EQ(deployment(*store, v1)->status, "active");
  EXPECT_LT(live_after, 1s);

  // 2. The same model with one byte flipped (in the signed payload), and a model signed by
  // another key: both refused, v1 stays live.
  auto flipped = signed_model(2, keys.secret_key);
  const auto payload = model_record(2).payload;
  const auto at = std::search(flipped.begin(), flipped.end(), payload.begin(), payload.end());
  ASSERT_NE(at, flipped.end());
  *(at + static_cast<std::ptrdiff_t>(payload.size() / 2)) ^= 0x40U;
  const auto v2 = store_and_push(*store, flipped);
  const auto other_key = uplink::SigningKeys::generate();
  ASSERT_TRUE(wait_until([&] { return deployment(*store, v2).has_value(); }, 5s)) << collector.log();
  const auto v3 = store_and_push(*store, signed_model(3, other_key.secret_key));
  ASSERT_TRUE(wait_until([&] { return deployment(*store, v3).has_value(); }, 5s)) << collector.log();
  EXPECT_EQ(deployment(*store, v2)->status, "rejected");
  EXPECT_EQ(deployment(*store, v3)->status, "rejected");
  EXPECT_NE(deployment(*store, v3)->detail.find("signature"), std::string::npos) << deployment(*store, v3)->detail;
  EXPECT_NE(gateway.log().find("refused pushed model"), std::string::npos) << gateway.log();

  // 3. A second good model, then a rollback to v1.
  const auto v4 = store_and_push(*store, signed_model(4, keys.secret_key));
  ASSERT_TRUE(wait_until([&] { return deployment(*store, v4).has_value(); }, 5s)) << collector.log();
  EXPECT_EQ(deployment(*store, v4)->status, "active");
  store->request_push(0, kGatewayId, true);
  ASSERT_TRUE(wait_until([&] { return deployment(*store, v4)->status == "rolled_back"; }, 5s)) << collector.log();
  EXPECT_EQ(deployment(*store, v1)->status, "active");

  ASSERT_EQ(sim.wait(60s), 0) << sim.log();
  ASSERT_TRUE(wait_until(
      [&] {
        const auto s = stats(stats_path);
        return s.value("frames_windowed", 0U) == 2U * kSeconds * 256 && s.value("uplink_in_flight", 1U) == 0;
      },
      20s))
      << read_file(stats_path);
  gateway.signal(SIGTERM);
  EXPECT_EQ(gateway.wait(20s), 0) << gateway.log();

  const auto s = stats(stats_path);
  EXPECT_EQ(s.value("models_accepted", 0U), 2U);
  EXPECT_EQ(s.value("models_rejected", 0U), 2U);
  EXPECT_EQ(s.value("model_rollbacks", 0U), 1U);
  EXPECT_EQ(s.value("model_version", 0U), v1);
  // No frame dropped while models were swapped: everything in was windowed, nothing missing.
  EXPECT_EQ(s.value("frames_in", 0U), 2U * kSeconds * 256);
  EXPECT_EQ(s.value("frames_windowed", 0U), s.value("frames_in", 1U));
  EXPECT_EQ(s.value("missing", 1U), 0U);
  EXPECT_EQ(s.value("frames_dropped_oldest", 1U), 0U);
  EXPECT_EQ(s.value("windows_dropped_on_stop", 1U), 0U);

  // Windows after the push carry the live model's prediction, every window is stored.
  const auto windows = store->load_windows({});
  EXPECT_EQ(windows.size(), 2U * kSeconds);
  std::size_t classified = 0;
  for (const auto& w : windows) {
    if (w.window.model_version == 0) continue;
    ++classified;
    EXPECT_TRUE(w.window.model_version == v1 || w.window.model_version == v4) << w.window.model_version;
    EXPECT_GE(w.window.prediction, 0.0F);
    EXPECT_LE(w.window.prediction, 1.0F);
  }
  EXPECT_GT(classified, 0U);
  EXPECT_EQ(s.value("windows_classified", 0U), classified);
}

INSTANTIATE_TEST_SUITE_P(Store, ModelPush, ::testing::ValuesIn(store_backends()), StoreBackendTest::name);

}  // namespace
}  // namespace sensorgate::testing
