// The uplink and the collector over real ZeroMQ sockets on loopback, storing into a real
// SQLite file.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "sensorgate/collector/collector_server.hpp"
#include "sensorgate/collector/sqlite_store.hpp"
#include "sensorgate/testing/processes.hpp"
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

/// A collector running on its own thread against a SQLite file in `dir`.
class RunningCollector {
 public:
  RunningCollector(zmq::context_t& ctx, const std::filesystem::path& db, const std::string& bind)
      : store_(db), server_(ctx, collector::CollectorOptions{bind, 1024, 5ms}, store_) {
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
  collector::SqliteStore store_;
  collector::CollectorServer server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::uint64_t stored_rows(const std::filesystem::path& db) {
  return collector::SqliteStore(db).count_window_rows();
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

TEST(UplinkCollector, CollectorUp_EveryWindowStoredOnceAndAcked) {
  testing::TempDir dir;
  zmq::context_t ctx(1);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());
  const auto db = dir.path() / "w.sqlite";
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

TEST(UplinkCollector, WindowsAndEvents_BothStoredAndAcked) {
  testing::TempDir dir;
  zmq::context_t ctx(1);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());
  const auto db = dir.path() / "w.sqlite";
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
  EXPECT_EQ(collector::SqliteStore(db).count_event_rows(), 1U);
}

TEST(UplinkCollector, CollectorStartsLate_SenderResendsAndNothingIsLostOrDoubled) {
  testing::TempDir dir;
  zmq::context_t ctx(1);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());
  const auto db = dir.path() / "w.sqlite";
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

TEST(UplinkCollector, CollectorNeverUp_FinishReportsUnackedAtDeadline) {
  zmq::context_t ctx(1);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());
  SenderRun run(ctx, endpoint);
  run.start();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(run.ring.try_push(record(i)));
  EXPECT_EQ(run.finish(300ms), 10U);
}

TEST(UplinkCollector, GarbageAndDuplicates_GarbageCountedDuplicatesStoredOnceBothAcked) {
  testing::TempDir dir;
  zmq::context_t ctx(1);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::free_tcp_port());
  const auto db = dir.path() / "w.sqlite";
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

}  // namespace
}  // namespace sensorgate
