// The uplink and the collector over real ZeroMQ sockets on loopback, storing into each
// backend: a real SQLite file and a real PostgreSQL server (one per suite, a fresh
// database per test).
#include <gtest/gtest.h>

#include <csignal>
#include <set>
#include <thread>

#include "sensorgate/collector/collector_server.hpp"
#include "sensorgate/collector/store.hpp"
#include "sensorgate/testing/processes.hpp"
#include "sensorgate/testing/store_backend_test.hpp"
#include "sensorgate/testing/window_rows.hpp"
#include "sensorgate/uplink/codec.hpp"
#include "sensorgate/uplink/uplink_sender.hpp"

namespace sensorgate {
namespace {

using namespace std::chrono_literals;

uplink::WindowSummaryRecord record(int i) {
  uplink::WindowSummaryRecord w;
  w.device_id = "dev-" + std::to_string(i % 4);
  w.window_start_ns = 1'000'000'000LL * (i / 4);
  w.window_end_ns = 1'000'000'000LL * (i / 4 + 1);
  for (std::uint16_t c = 0; c < 4; ++c) w.channels.push_back({c, 256, -1, 1, 0.1 * i, 1.0});
  return w;
}

collector::CollectorOptions collector_options(const std::string& bind) {
  collector::CollectorOptions options;
  options.bind = bind;
  options.batch_max_messages = 1024;
  options.batch_max_wait = 5ms;
  return options;
}

/// A collector running on its own thread against the store at `url`.
class RunningCollector {
 public:
  RunningCollector(zmq::context_t& ctx, const std::string& url, const std::string& bind)
      : store_(collector::open_store(url)), server_(ctx, collector_options(bind), *store_) {
    thread_ = std::thread([this] { server_.run(stop_); });
  }
  ~RunningCollector() {
    stop_ = true;
    thread_.join();
  }
  RunningCollector(const RunningCollector&) = delete;
  RunningCollector& operator=(const RunningCollector&) = delete;
  [[nodiscard]] const collector::CollectorCounters& counters() const { return server_.counters(); }

 private:
  std::unique_ptr<collector::Store> store_;
  collector::CollectorServer server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::uint64_t stored_rows(const std::string& url) {
  return collector::open_store(url)->count_window_rows();
}

uplink::UplinkSenderOptions sender_options(const std::string& endpoint, std::chrono::milliseconds resend) {
  uplink::UplinkSenderOptions options;
  options.endpoint = endpoint;
  options.gateway_id = "gw-test";
  options.resend_after = resend;
  return options;
}

struct SenderRun {
  explicit SenderRun(zmq::context_t& ctx, const std::string& endpoint, std::chrono::milliseconds resend = 200ms)
      : ring(1024), sender(ctx, sender_options(endpoint, resend), {&ring}) {}
  void start() {
    thread = std::thread([this] { unacked = sender.run(); });
  }
  std::size_t finish(std::chrono::milliseconds within) {
    sender.finish(std::chrono::steady_clock::now() + within);
    thread.join();
    return unacked;
  }
  uplink::UplinkRing ring;
  uplink::UplinkSender sender;
  std::thread thread;
  std::size_t unacked = 0;
};

class UplinkCollector : public testing::StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    db = url();
  }
  std::string db;  ///< the store's URL
};

TEST_P(UplinkCollector, CollectorUp_EveryWindowStoredOnceAndAcked) {
  zmq::context_t ctx(1);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());
  {
    RunningCollector collector(ctx, db, endpoint);
    SenderRun run(ctx, endpoint);
    run.start();
    for (int i = 0; i < 400; ++i) ASSERT_TRUE(run.ring.try_push(record(i)));
    EXPECT_EQ(run.finish(10s), 0U);
    EXPECT_EQ(run.sender.counters().acked.load(), 400U);
    EXPECT_EQ(run.sender.counters().in_flight.load(), 0U);
    EXPECT_EQ(collector.counters().bad_messages.load(), 0U);
  }
  EXPECT_EQ(stored_rows(db), 400U * 4);
}

TEST_P(UplinkCollector, WindowsAndEvents_BothStoredAndAcked) {
  zmq::context_t ctx(1);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());
  {
    RunningCollector collector(ctx, db, endpoint);
    SenderRun run(ctx, endpoint);
    run.start();
    uplink::AnomalyEventRecord event{"dev-0", 0, 2'000'000'000, 5.5, 1'000'000'000, 2, {3, 1}, true};
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(run.ring.try_push(record(i)));
    ASSERT_TRUE(run.ring.try_push(event));
    event.end_ns = 3'000'000'000;
    event.windows = 3;
    event.ongoing = false;
    ASSERT_TRUE(run.ring.try_push(event));
    EXPECT_EQ(run.finish(10s), 0U);
    EXPECT_EQ(run.sender.counters().acked.load(), 10U);
    EXPECT_EQ(collector.counters().bad_messages.load(), 0U);
  }
  EXPECT_EQ(stored_rows(db), 8U * 4);
  EXPECT_EQ(collector::open_store(db)->count_event_rows(), 1U);
}

TEST_P(UplinkCollector, CollectorStartsLate_SenderResendsAndNothingIsLostOrDoubled) {
  zmq::context_t ctx(1);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());
  SenderRun run(ctx, endpoint);
  run.start();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(run.ring.try_push(record(i)));
  std::this_thread::sleep_for(700ms);  // several resend periods with nobody listening
  EXPECT_EQ(run.sender.counters().acked.load(), 0U);
  {
    RunningCollector collector(ctx, db, endpoint);
    EXPECT_EQ(run.finish(10s), 0U);
  }
  EXPECT_EQ(run.sender.counters().acked.load(), 100U);
  EXPECT_EQ(stored_rows(db), 100U * 4);
}

TEST(UplinkSender, CollectorNeverUp_FinishReportsUnackedAtDeadline) {
  zmq::context_t ctx(1);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());
  SenderRun run(ctx, endpoint);
  run.start();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(run.ring.try_push(record(i)));
  EXPECT_EQ(run.finish(300ms), 10U);
}

TEST_P(UplinkCollector, GarbageAndDuplicates_GarbageCountedDuplicatesStoredOnceBothAcked) {
  zmq::context_t ctx(1);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());
  RunningCollector collector(ctx, db, endpoint);
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect(endpoint);
  const std::string garbage = "definitely not a flatbuffer";
  dealer.send(zmq::buffer(garbage));
  const auto good = uplink::encode_window_summary("gw-raw", 5, 0, record(1));
  dealer.send(zmq::buffer(good));
  dealer.send(zmq::buffer(good));  // redelivery
  std::set<std::uint64_t> acked;
  int acks = 0;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        zmq::message_t msg;
        while (dealer.recv(msg, zmq::recv_flags::dontwait)) {
          std::string error;
          auto ack = uplink::decode_ack({static_cast<const std::uint8_t*>(msg.data()), msg.size()}, error);
          if (!ack) continue;
          for (auto s : ack->sequences) {
            acked.insert(s);
            ++acks;
          }
        }
        return acks >= 2;
      },
      5s));
  EXPECT_EQ(acked, std::set<std::uint64_t>{5});
  EXPECT_EQ(collector.counters().bad_messages.load(), 1U);
  EXPECT_EQ(collector.counters().rows_duplicate.load(), 4U);
  EXPECT_EQ(stored_rows(db), 4U);
}

// The collector executable with `--db <url>`: what it stores is read back through the
// Store (load_windows), and its log names the database without a password.
TEST_P(UplinkCollector, CollectorBinary_DbUrl_EveryWindowStoredOnce) {
  testing::TempDir dir;
  std::string url = db;
  if (postgres()) {
    url.replace(url.find("postgres@"), 9, "postgres:s3cret@");  // trust authentication ignores it
  }
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());
  testing::ChildProcess collector({SENSORGATE_COLLECTOR_BIN, "--bind", endpoint, "--db", url},
                                  dir.path() / "collector.log");
  ASSERT_TRUE(testing::wait_until([&] { return collector.log().find("listening on") != std::string::npos; }, 15s))
      << collector.log();
  zmq::context_t ctx(1);
  SenderRun run(ctx, endpoint);
  run.start();
  constexpr int kRecords = 40;
  for (int i = 0; i < kRecords; ++i) ASSERT_TRUE(run.ring.try_push(record(i)));
  for (int i = 0; i < kRecords; i += 2) ASSERT_TRUE(run.ring.try_push(record(i)));  // resent copies
  EXPECT_EQ(run.finish(10s), 0U);
  collector.signal(SIGTERM);
  EXPECT_EQ(collector.wait(10s), 0) << collector.log();

  const auto rows = testing::read_window_rows(db);
  ASSERT_EQ(rows.size(), kRecords * 4U);
  for (int i = 0; i < kRecords; ++i) {
    const auto w = record(i);
    for (const auto& c : w.channels) {
      const auto it = rows.find({w.device_id, c.channel, w.window_start_ns});
      ASSERT_NE(it, rows.end()) << i;
      EXPECT_EQ(it->second.count, 256);
      EXPECT_DOUBLE_EQ(it->second.mean, c.mean);
    }
  }
  const auto log = collector.log();
  EXPECT_NE(log.find(postgres() ? "storing into postgresql:127.0.0.1:" : "storing into sqlite:" + db),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("schema v6"), std::string::npos) << log;
  EXPECT_EQ(log.find("s3cret"), std::string::npos) << log;
}

INSTANTIATE_TEST_SUITE_P(Store, UplinkCollector, ::testing::ValuesIn(testing::store_backends()),
                         testing::StoreBackendTest::name);

}  // namespace
}  // namespace sensorgate
