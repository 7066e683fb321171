#include "sensorgate/uplink/disk_spool.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>
#include <fstream>
#include <numeric>
#include <vector>

#include "sensorgate/testing/processes.hpp"

namespace sensorgate::uplink {
namespace {

std::vector<std::uint8_t> payload(std::uint64_t seq, std::size_t size = 100) {
  std::vector<std::uint8_t> bytes(size);
  std::iota(bytes.begin(), bytes.end(), static_cast<std::uint8_t>(seq));
  return bytes;
}

DiskSpoolOptions options_in(const std::filesystem::path& dir, std::uint64_t segment_bytes = 1 << 20,
                            std::uint64_t max_bytes = 1 << 24) {
  DiskSpoolOptions o;
  o.directory = dir / "spool";
  o.segment_bytes = segment_bytes;
  o.max_bytes = max_bytes;
  o.fsync = FsyncPolicy::kAlways;
  return o;
}

std::vector<std::filesystem::path> segments(const DiskSpoolOptions& o) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(o.directory)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(DiskSpool, Reopen_UnackedRecords_RecoveredInOrderWithTheirBytes) {
  testing::TempDir dir;
  const auto o = options_in(dir.path(), 1000);  // several segments
  {
    DiskSpool spool(o);
    for (std::uint64_t s = 1; s <= 30; ++s) EXPECT_TRUE(spool.append(s, payload(s)).dropped.empty());
    spool.flush(std::chrono::steady_clock::now());
    for (std::uint64_t s = 1; s <= 10; ++s) spool.ack(s);  // whole segments acked: deleted
  }
  DiskSpool reopened(o);
  const auto records = reopened.take_recovered();
  ASSERT_GE(records.size(), 20U);
  ASSERT_LE(records.size(), 30U);  // a partly acked segment comes back whole: at least once
  EXPECT_EQ(records.back().sequence, 30U);
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i > 0) {
      EXPECT_EQ(records[i].sequence, records[i - 1].sequence + 1);
    }
    EXPECT_EQ(records[i].bytes, payload(records[i].sequence));
  }
  EXPECT_EQ(reopened.highest_recovered_sequence(), 30U);
  EXPECT_EQ(reopened.counters().recovered.load(), records.size());
  EXPECT_TRUE(reopened.take_recovered().empty());
}

TEST(DiskSpool, Ack_EveryRecord_AllClosedSegmentsDeleted) {
  testing::TempDir dir;
  const auto o = options_in(dir.path(), 500);
  DiskSpool spool(o);
  for (std::uint64_t s = 1; s <= 20; ++s) (void)spool.append(s, payload(s));
  EXPECT_GT(segments(o).size(), 3U);
  EXPECT_EQ(spool.counters().pending.load(), 20U);
  for (std::uint64_t s = 1; s <= 20; ++s) spool.ack(s);
  EXPECT_EQ(spool.counters().pending.load(), 0U);
  EXPECT_EQ(segments(o).size(), 1U);  // the one being written stays
  EXPECT_EQ(spool.counters().segments.load(), 1U);
}

TEST(DiskSpool, Reopen_TornLastRecord_CutOffAndCounted) {
  testing::TempDir dir;
  const auto o = options_in(dir.path());
  {
    DiskSpool spool(o);
    for (std::uint64_t s = 1; s <= 5; ++s) (void)spool.append(s, payload(s));
  }
  const auto file = segments(o).back();
  const auto size = std::filesystem::file_size(file);
  std::filesystem::resize_file(file, size - 30);  // a crash in the middle of record 5
  DiskSpool reopened(o);
  const auto records = reopened.take_recovered();
  ASSERT_EQ(records.size(), 4U);
  EXPECT_EQ(records.back().sequence, 4U);
  EXPECT_EQ(reopened.counters().truncated_bytes.load(), DiskSpool::kHeaderBytes + 100 - 30);
  EXPECT_EQ(std::filesystem::file_size(file), size - (DiskSpool::kHeaderBytes + 100));
}

TEST(DiskSpool, Reopen_FlippedPayloadByte_RecordAndRestOfSegmentSkipped) {
  testing::TempDir dir;
  const auto o = options_in(dir.path());
  {
    DiskSpool spool(o);
    for (std::uint64_t s = 1; s <= 5; ++s) (void)spool.append(s, payload(s));
  }
  const auto file = segments(o).back();
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(2 * (DiskSpool::kHeaderBytes + 100) + DiskSpool::kHeaderBytes + 7));
    f.put('\x55');
  }
  DiskSpool reopened(o);
  const auto records = reopened.take_recovered();
  ASSERT_EQ(records.size(), 2U);  // records 1 and 2; record 3 fails its CRC
  EXPECT_EQ(reopened.counters().corrupt_records.load(), 1U);
}

TEST(DiskSpool, Append_BeyondMaxBytes_OldestSegmentDroppedAndReported) {
  testing::TempDir dir;
  const auto o = options_in(dir.path(), 600, 1800);
  DiskSpool spool(o);
  std::vector<std::uint64_t> dropped;
  for (std::uint64_t s = 1; s <= 40; ++s) {
    const auto result = spool.append(s, payload(s));
    EXPECT_TRUE(result.spooled);
    dropped.insert(dropped.end(), result.dropped.begin(), result.dropped.end());
  }
  ASSERT_FALSE(dropped.empty());
  EXPECT_EQ(dropped.front(), 1U);  // the oldest first
  EXPECT_LE(spool.counters().bytes.load(), 1800U);
  EXPECT_EQ(spool.counters().dropped_overflow.load(), dropped.size());
  DiskSpool reopened(o);
  const auto records = reopened.take_recovered();
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.front().sequence, dropped.back() + 1);  // nothing dropped comes back
  EXPECT_EQ(records.back().sequence, 40U);
}

/// Limits the size of files this process writes (a full disk, as write() sees it) until
/// destroyed; SIGXFSZ is ignored meanwhile, so an over-limit write fails with EFBIG.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) : old_handler_(std::signal(SIGXFSZ, SIG_IGN)) {
    getrlimit(RLIMIT_FSIZE, &old_);
    const rlimit limited{bytes, old_.rlim_max};
    setrlimit(RLIMIT_FSIZE, &limited);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  void (*old_handler_)(int);
};

TEST(DiskSpool, Append_DiskFull_CountedNotThrownAndSpoolStaysReadable) {
  testing::TempDir dir;
  const auto o = options_in(dir.path());
  {
    DiskSpool spool(o);
    EXPECT_TRUE(spool.append(1, payload(1)).spooled);
    const auto size = std::filesystem::file_size(segments(o).front());
    {
      // Room for part of the next record only: the write fails midway.
      const FileSizeLimit full(size + 50);
      DiskSpool::AppendResult result;
      EXPECT_NO_THROW(result = spool.append(2, payload(2)));
      EXPECT_FALSE(result.spooled) << "a failed write reported as spooled";
      EXPECT_NO_THROW(spool.flush(std::chrono::steady_clock::now()));
    }
    EXPECT_EQ(spool.counters().write_failures.load(), 1U);
    EXPECT_EQ(std::filesystem::file_size(segments(o).front()), size) << "the torn record was not cut off";
    EXPECT_TRUE(spool.append(3, payload(3)).spooled);  // space again: appends resume
  }
  DiskSpool reopened(o);
  const auto records = reopened.take_recovered();
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].sequence, 1U);
  EXPECT_EQ(records[1].sequence, 3U);
  EXPECT_EQ(records[1].bytes, payload(3));
  EXPECT_EQ(reopened.counters().corrupt_records.load(), 0U);
  EXPECT_EQ(reopened.counters().truncated_bytes.load(), 0U);
}

TEST(DiskSpool, Open_DirectoryIsAFile_ThrowsNamingIt) {
  testing::TempDir dir;
  const auto o = options_in(dir.path());
  std::ofstream(o.directory) << "not a directory";
  try {
    DiskSpool spool(o);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(o.directory.string()), std::string::npos) << e.what();
  }
}

TEST(ParseFsyncPolicy, Names_Parsed) {
  EXPECT_EQ(parse_fsync_policy("always"), FsyncPolicy::kAlways);
  EXPECT_EQ(parse_fsync_policy("interval"), FsyncPolicy::kInterval);
  EXPECT_EQ(parse_fsync_policy("never"), FsyncPolicy::kNever);
  EXPECT_FALSE(parse_fsync_policy("sometimes"));
}

}  // namespace
}  // namespace sensorgate::uplink
