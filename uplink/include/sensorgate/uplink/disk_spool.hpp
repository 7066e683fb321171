#pragma once
// DiskSpool: the uplink's unacknowledged messages on disk, so that they survive a gateway
// crash (kill -9, power loss with fsync) as well as a collector outage. The gateway's
// ingest journal (IngestJournal) keeps accepted frame batches in one too.
//
// Layout: a directory of append-only segment files "<first sequence, 20 digits>.spool".
// Each record is
//   magic "SGSP" (u32 LE) | payload length (u32 LE) | sequence (u64 LE) |
//   CRC-32C of sequence and payload (u32 LE) | payload (an encoded UplinkMessage)
// A segment is closed when it reaches segment_bytes; a closed segment whose records are
// all acknowledged is deleted. When the spool would exceed max_bytes the oldest segment is
// deleted unacknowledged (drop-oldest, counted): the freshest data keeps flowing.
//
// On open every segment is read back: intact records are handed to the sender to resend
// (at-least-once: some may already have been acknowledged, which the collector's unique
// keys absorb); a torn record at the end of a segment (a crash mid-write) is cut off, and
// a record whose CRC fails ends its segment; both are counted. Appends always go to a new
// segment.
//
// Durability: fsync "always" (after each append batch, flush()), "interval" (at most every
// fsync_interval), or "never" (the OS writes back; survives a process crash, not a power
// cut). Single-threaded: the uplink thread owns it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sensorgate::uplink {

enum class FsyncPolicy : std::uint8_t { kAlways, kInterval, kNever };

/// "always", "interval" or "never"; nullopt for anything else.
std::optional<FsyncPolicy> parse_fsync_policy(std::string_view text);

struct DiskSpoolOptions {
  std::filesystem::path directory;
  std::uint64_t segment_bytes = 16ULL << 20U;
  std::uint64_t max_bytes = 1ULL << 30U;
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  std::chrono::milliseconds fsync_interval{1000};
  /// How log lines and errors name this log ("spool: cannot write ..."), what they call its
  /// records, and what a failed write means for them.
  std::string name = "spool";
  std::string record_noun = "messages";
  std::string on_write_failure = "unacknowledged messages are kept in memory only";
};

/// Written by the owner thread, readable from any thread.
struct DiskSpoolCounters {
  std::atomic<std::uint64_t> appended{0};
  std::atomic<std::uint64_t> recovered{0};         ///< records read back at open
  std::atomic<std::uint64_t> dropped_overflow{0};  ///< unacknowledged records deleted by max_bytes
  std::atomic<std::uint64_t> corrupt_records{0};   ///< CRC or header errors found at open
  std::atomic<std::uint64_t> truncated_bytes{0};   ///< torn tails cut off at open
  std::atomic<std::uint64_t> bytes{0};             ///< gauge: size of the segments on disk
  std::atomic<std::uint64_t> segments{0};          ///< gauge
  std::atomic<std::uint64_t> pending{0};           ///< gauge: records not yet acknowledged
  std::atomic<std::uint64_t> write_failures{0};    ///< appends and fsyncs that failed (disk full, I/O error)
};

struct SpooledRecord {
  std::uint64_t sequence = 0;
  std::vector<std::uint8_t> bytes;
};

class DiskSpool {
 public:
  static constexpr std::uint32_t kMagic = 0x50534753;  // "SGSP" little-endian
  static constexpr std::size_t kHeaderBytes = 20;
  static constexpr std::uint32_t kMaxRecordBytes = 64U << 20U;

  /// Creates the directory if needed and reads back its segments. Throws
  /// std::runtime_error naming the path when it cannot be created, read or written.
  explicit DiskSpool(DiskSpoolOptions options);
  ~DiskSpool();
  DiskSpool(const DiskSpool&) = delete;
  DiskSpool& operator=(const DiskSpool&) = delete;

  /// The records found at open, in sequence order (the second call returns none).
  [[nodiscard]] std::vector<SpooledRecord> take_recovered();
  /// The highest sequence found at open (0 if none): new sequences must be above it.
  [[nodiscard]] std::uint64_t highest_recovered_sequence() const { return highest_recovered_; }

  struct AppendResult {
    bool spooled = false;                ///< false: a write error; the record is not on disk
    std::vector<std::uint64_t> dropped;  ///< unacknowledged records deleted by max_bytes
  };
  /// Appends a record (sequences must increase). `dropped` holds the sequences of
  /// unacknowledged records deleted to stay within max_bytes, so the caller forgets them
  /// too. A write error (disk full, I/O error) does not throw: the record is not spooled
  /// (`spooled` false), the bytes written of it are cut off again, and write_failures counts
  /// it; the caller still holds it in memory, so only a crash before it is acknowledged
  /// would lose it.
  AppendResult append(std::uint64_t sequence, std::span<const std::uint8_t> bytes);
  /// Makes the appends durable as the fsync policy says (call after a batch of appends); a
  /// failed fsync is counted in write_failures, not thrown.
  void flush(std::chrono::steady_clock::time_point now);
  /// Marks `sequence` acknowledged; deletes closed segments with nothing left unacknowledged.
  void ack(std::uint64_t sequence);

  [[nodiscard]] const DiskSpoolCounters& counters() const { return counters_; }

 private:
  struct Segment {
    std::filesystem::path path;
    std::uint64_t first = 0;  ///< lowest sequence in it
    std::uint64_t last = 0;   ///< highest sequence in it
    std::uint64_t bytes = 0;
  };

  void recover();
  /// Reads one segment's intact records into recovered_; returns its Segment.
  Segment recover_segment(const std::filesystem::path& path);
  void open_segment(std::uint64_t first_sequence);
  /// Writes one record into the current segment; throws std::runtime_error on an error.
  void write_record(std::uint64_t sequence, std::span<const std::uint8_t> bytes);
  /// Counts a write failure and logs it (at most once a minute: a full disk fails every append).
  void count_write_failure(const std::exception& e);
  void close_segment();
  void delete_front();
  void update_gauges();

  DiskSpoolOptions options_;
  std::deque<Segment> segments_;  ///< oldest first; the back one is being written when fd_ >= 0
  int fd_ = -1;
  std::set<std::uint64_t> unacked_;
  std::vector<SpooledRecord> recovered_;
  std::uint64_t highest_recovered_ = 0;
  std::uint64_t total_bytes_ = 0;
  bool dirty_ = false;
  std::chrono::steady_clock::time_point last_sync_{};
  std::vector<std::uint8_t> scratch_;
  DiskSpoolCounters counters_;
  std::chrono::steady_clock::time_point last_failure_log_{};
};

}  // namespace sensorgate::uplink
