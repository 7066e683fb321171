// IngestJournal with a real IngestSink, DeviceRegistry and journal files: what is appended
// comes back at the next open, what is safe is forgotten, and nothing else is. The worker's
// and the uplink's progress are the two inputs of the rule; the tests set them directly.
#include "sensorgate/gateway/ingest_journal.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "sensorgate/gateway/ingest_sink.hpp"
#include "sensorgate/testing/processes.hpp"
#include "sensorgate/uplink/codec.hpp"

namespace sensorgate {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint16_t kChannels = 4;
constexpr std::uint32_t kFrames = 64;  // one FrameChunk per batch (256 samples)

std::vector<float> samples_of(std::uint32_t batch) {
  std::vector<float> samples(std::size_t{kFrames} * kChannels);
  for (std::size_t i = 0; i < samples.size(); ++i) samples[i] = static_cast<float>(std::size_t{batch} * 1000 + i);
  return samples;
}

/// A gateway's ingest side without its transport: registry, sink and journal.
struct Ingest {
  Ingest(const std::filesystem::path& dir, const Clock::time_point& durable_before, std::uint64_t segment_bytes,
         std::size_t ring_chunks = 64)
      : registry(ring_chunks, 4), journal(options(dir, segment_bytes), [&durable_before] { return durable_before; }) {
    sink.set_journal(&journal);
  }

  static IngestJournalOptions options(const std::filesystem::path& dir, std::uint64_t segment_bytes) {
    IngestJournalOptions o;
    o.log.directory = dir / "journal";
    o.log.segment_bytes = segment_bytes;
    o.log.max_bytes = 64ULL << 20U;
    o.retain = 2s;
    o.check_interval = 0ms;
    return o;
  }

  void push(std::uint32_t batch) {
    const auto samples = samples_of(batch);
    DecodedBatch b;
    b.device_id = "dev-1";
    b.first_seq = std::uint64_t{batch} * kFrames;
    b.first_time_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(batch) * 250'000'000;
    b.sample_rate_hz = 256.0;
    b.channels = kChannels;
    b.samples = samples;
    sink.push(b);
  }

  /// The worker is done with every chunk written so far.
  void worker_done() const {
    DeviceStream& d = registry.at(0);
    d.chunks_done.store(d.chunks_written.load());
  }

  DeviceRegistry registry;
  std::atomic<bool> stopping{false};
  IngestSink sink{registry, FullPolicy::kBlock, stopping, "mqtt"};
  IngestJournal journal;
};

TEST(IngestJournal, Reopen_AcceptedBatches_ReplayedInOrderWithTheirSamples) {
  testing::TempDir dir;
  const Clock::time_point durable{};
  {
    Ingest first(dir.path(), durable, 1 << 20);
    for (std::uint32_t b = 0; b < 5; ++b) first.push(b);
    EXPECT_EQ(first.journal.log_counters().appended.load(), 5U);
  }
  Ingest second(dir.path(), durable, 1 << 20);
  EXPECT_EQ(second.sink.replay_journal(), 5U);
  EXPECT_EQ(second.journal.counters().replayed.load(), 5U);
  DeviceStream& device = second.registry.at(0);
  EXPECT_EQ(device.id, "dev-1");
  const auto chunks = device.ring.acquire_read();
  ASSERT_EQ(chunks.size(), 5U);
  for (std::uint32_t b = 0; b < 5; ++b) {
    EXPECT_EQ(chunks[b].first_seq, std::uint64_t{b} * kFrames);
    EXPECT_EQ(chunks[b].frames, kFrames);
    const auto expected = samples_of(b);
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), chunks[b].samples.begin())) << "batch " << b;
  }
  // Replayed batches stay journaled until safe, like new ones: a third start gets them too.
  EXPECT_EQ(second.journal.log_counters().pending.load(), 5U);
}

TEST(IngestJournal, Push_FramesGivenUpAtShutdown_JournaledAndReplayedNextStart) {
  testing::TempDir dir;
  const Clock::time_point durable{};
  {
    Ingest first(dir.path(), durable, 1 << 20, 2);
    first.push(0);
    first.push(1);  // the ring (2 chunks) is full; no worker drains it
    first.stopping = true;
    first.push(2);  // shutdown: given up, but the broker was told it arrived
    EXPECT_EQ(first.sink.counters().frames_dropped_on_stop.load(), kFrames);
  }
  Ingest second(dir.path(), durable, 1 << 20);
  EXPECT_EQ(second.sink.replay_journal(), 3U);
  const auto chunks = second.registry.at(0).ring.acquire_read();
  ASSERT_EQ(chunks.size(), 3U);
  EXPECT_EQ(chunks[2].first_seq, 2U * kFrames);
}

TEST(IngestJournal, ForgetSafe_WorkerNotDone_KeepsEveryBatch) {
  testing::TempDir dir;
  const Clock::time_point durable = Clock::now() + 1h;  // the uplink holds everything safe
  Ingest ingest(dir.path(), durable, 1 << 20);
  for (std::uint32_t b = 0; b < 5; ++b) ingest.push(b);
  ingest.journal.forget_safe(Clock::now());
  EXPECT_EQ(ingest.journal.log_counters().pending.load(), 5U);
  EXPECT_EQ(ingest.journal.counters().forgotten.load(), 0U);
}

TEST(IngestJournal, ForgetSafe_WorkerDoneUplinkBehind_KeptUntilSummariesAreSafe) {
  testing::TempDir dir;
  Clock::time_point durable{};
  Ingest ingest(dir.path(), durable, 4096);  // a segment holds three batches
  for (std::uint32_t b = 0; b < 9; ++b) ingest.push(b);
  ingest.worker_done();
  const auto done_at = Clock::now();
  ingest.journal.forget_safe(done_at);
  EXPECT_EQ(ingest.journal.log_counters().pending.load(), 9U) << "forgotten while the uplink had nothing safe";

  durable = done_at + 1s;  // short of the 2 s retain: the batches' windows may still be open
  ingest.journal.forget_safe(done_at + 1500ms);
  EXPECT_EQ(ingest.journal.log_counters().pending.load(), 9U);

  durable = done_at + 3s;
  const auto bytes_before = ingest.journal.log_counters().bytes.load();
  ingest.journal.forget_safe(done_at + 3s);
  EXPECT_EQ(ingest.journal.log_counters().pending.load(), 0U);
  EXPECT_EQ(ingest.journal.counters().forgotten.load(), 9U);
  EXPECT_LT(ingest.journal.log_counters().bytes.load(), bytes_before) << "no closed segment was deleted";

  // A batch pushed now is new work: not forgotten on the strength of the old progress.
  ingest.push(9);
  ingest.journal.forget_safe(done_at + 3s);
  EXPECT_EQ(ingest.journal.log_counters().pending.load(), 1U);
}

TEST(IngestJournal, ForgetFlushed_UplinkSafePastTheFlush_OnlyBatchesTheWorkerTookAreForgotten) {
  testing::TempDir dir;
  Clock::time_point durable{};
  Ingest ingest(dir.path(), durable, 1 << 20);
  for (std::uint32_t b = 0; b < 4; ++b) ingest.push(b);
  ingest.worker_done();
  ingest.push(4);  // not taken by the worker (given up at shutdown, say)
  const auto flushed = Clock::now();
  durable = flushed - 1ms;  // the uplink still holds something taken before the flush in memory
  EXPECT_EQ(ingest.journal.forget_flushed(flushed), 5U);
  durable = flushed;
  EXPECT_EQ(ingest.journal.forget_flushed(flushed), 1U);
  EXPECT_EQ(ingest.journal.log_counters().pending.load(), 1U);
}

TEST(IngestJournal, Replay_UndecodableRecord_SkippedCountedAndNeighboursReplayed) {
  testing::TempDir dir;
  const Clock::time_point durable{};
  {
    Ingest first(dir.path(), durable, 1 << 20);
    first.push(0);
  }
  {
    // A record with an intact CRC but no FrameBatch inside (a bug or an older format), then
    // a good batch: the journal's own files, written as the journal writes them.
    uplink::DiskSpoolOptions raw;
    raw.directory = dir.path() / "journal";
    uplink::DiskSpool log(raw);
    const std::vector<std::uint8_t> garbage{1, 2, 3, 4, 5, 6, 7, 8};
    ASSERT_TRUE(log.append(2, garbage).spooled);
    const auto samples = samples_of(2);
    ASSERT_TRUE(
        log.append(3, uplink::encode_frame_batch("dev-1", std::uint64_t{2} * kFrames, 0, 256.0, kChannels, samples))
            .spooled);
  }
  Ingest second(dir.path(), durable, 1 << 20);
  EXPECT_EQ(second.sink.replay_journal(), 2U);
  EXPECT_EQ(second.journal.counters().replay_rejected.load(), 1U);
  EXPECT_EQ(second.registry.at(0).ring.acquire_read().size(), 2U);
  EXPECT_EQ(second.journal.log_counters().pending.load(), 2U) << "the rejected record is still pending";
}

}  // namespace
}  // namespace sensorgate
