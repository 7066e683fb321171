#include "sensorgate/uplink/disk_spool.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "sensorgate/common/serial_framing.hpp"

namespace sensorgate::uplink {
namespace {

static_assert(std::endian::native == std::endian::little, "the spool format is little-endian");

template <typename T>
T load(const std::uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

template <typename T>
void store(std::uint8_t* p, T value) {
  std::memcpy(p, &value, sizeof(T));
}

/// CRC-32C over the record's sequence field (header bytes 8-15) and its payload.
std::uint32_t record_crc(const std::uint8_t* header, std::span<const std::uint8_t> payload) {
  return crc32c(std::span<const std::uint8_t>(header + 8, sizeof(std::uint64_t)), payload);
}

[[noreturn]] void fail(std::string_view log, const std::string& what, const std::filesystem::path& path) {
  throw std::runtime_error(fmt::format("{}: {} {}: {}", log, what, path.string(),
                                       std::error_code(errno, std::generic_category()).message()));
}

void sync_directory(const std::filesystem::path& dir) {
  // A new or deleted segment is durable only once its directory entry is.
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::optional<FsyncPolicy> parse_fsync_policy(std::string_view text) {
  if (text == "always") return FsyncPolicy::kAlways;
  if (text == "interval") return FsyncPolicy::kInterval;
  if (text == "never") return FsyncPolicy::kNever;
  return std::nullopt;
}

DiskSpool::DiskSpool(DiskSpoolOptions options) : options_(std::move(options)) {
  std::error_code ec;
  std::filesystem::create_directories(options_.directory, ec);
  if (ec) {
    throw std::runtime_error(
        fmt::format("{}: cannot create {}: {}", options_.name, options_.directory.string(), ec.message()));
  }
  recover();
}

DiskSpool::~DiskSpool() {
  if (fd_ >= 0) {
    if (dirty_ && options_.fsync != FsyncPolicy::kNever) ::fsync(fd_);
    ::close(fd_);
  }
}

void DiskSpool::recover() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(options_.directory)) {
    if (entry.is_regular_file() && entry.path().extension() == ".spool") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());  // names are zero-padded first sequences
  for (const auto& path : files) {
    Segment segment = recover_segment(path);
    if (segment.bytes == 0) {
      std::filesystem::remove(path);
      continue;
    }
    segments_.push_back(segment);
    total_bytes_ += segment.bytes;
  }
  std::sort(recovered_.begin(), recovered_.end(),
            [](const SpooledRecord& a, const SpooledRecord& b) { return a.sequence < b.sequence; });
  for (const auto& r : recovered_) unacked_.insert(r.sequence);
  if (!recovered_.empty()) highest_recovered_ = recovered_.back().sequence;
  counters_.recovered.store(recovered_.size(), std::memory_order_relaxed);
  if (!recovered_.empty()) {
    spdlog::info("{}: {} unacknowledged {} recovered from {} ({} segments)", options_.name, recovered_.size(),
                 options_.record_noun, options_.directory.string(), segments_.size());
  }
  update_gauges();
}

DiskSpool::Segment DiskSpool::recover_segment(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(options_.name, "cannot read", path);
  const std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Segment segment{path, 0, 0, 0};
  std::size_t offset = 0;
  bool first = true;
  while (offset < data.size()) {
    if (data.size() - offset < kHeaderBytes) break;  // torn header
    const std::uint8_t* header = data.data() + offset;
    const auto length = load<std::uint32_t>(header + 4);
    if (load<std::uint32_t>(header) != kMagic || length > kMaxRecordBytes) {
      counters_.corrupt_records.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("{}: {}: bad record header at byte {}; the rest of the segment is skipped", options_.name,
                   path.string(), offset);
      break;
    }
    if (data.size() - offset - kHeaderBytes < length) break;  // torn payload
    const auto sequence = load<std::uint64_t>(header + 8);
    const std::span<const std::uint8_t> payload(header + kHeaderBytes, length);
    if (record_crc(header, payload) != load<std::uint32_t>(header + 16)) {
      counters_.corrupt_records.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn(
          "{}: {}: CRC mismatch in the record of sequence {} at byte {}; the rest of the segment is "
          "skipped",
          options_.name, path.string(), sequence, offset);
      break;
    }
    recovered_.push_back(SpooledRecord{sequence, std::vector<std::uint8_t>(payload.begin(), payload.end())});
    segment.first = first ? sequence : std::min(segment.first, sequence);
    segment.last = std::max(segment.last, sequence);
    first = false;
    offset += kHeaderBytes + length;
  }
  if (offset < data.size()) {
    // Cut the torn or corrupt tail off, so that the segment reads cleanly next time too.
    counters_.truncated_bytes.fetch_add(data.size() - offset, std::memory_order_relaxed);
    std::filesystem::resize_file(path, offset);
  }
  segment.bytes = offset;
  return segment;
}

std::vector<SpooledRecord> DiskSpool::take_recovered() {
  return std::exchange(recovered_, {});
}

void DiskSpool::open_segment(std::uint64_t first_sequence) {
  const auto path = options_.directory / fmt::format("{:020}.spool", first_sequence);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) fail(options_.name, "cannot create", path);
  if (options_.fsync != FsyncPolicy::kNever) sync_directory(options_.directory);
  segments_.push_back(Segment{path, first_sequence, first_sequence, 0});
}

void DiskSpool::close_segment() {
  if (fd_ < 0) return;
  if (dirty_ && options_.fsync != FsyncPolicy::kNever) ::fsync(fd_);
  dirty_ = false;
  ::close(fd_);
  fd_ = -1;
}

void DiskSpool::count_write_failure(const std::exception& e) {
  counters_.write_failures.fetch_add(1, std::memory_order_relaxed);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_failure_log_ >= std::chrono::minutes(1)) {
    spdlog::error("{} ({} {} write failures so far; {})", e.what(),
                  counters_.write_failures.load(std::memory_order_relaxed), options_.name, options_.on_write_failure);
    last_failure_log_ = now;
  }
}

DiskSpool::AppendResult DiskSpool::append(std::uint64_t sequence, std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kMaxRecordBytes) throw std::runtime_error(options_.name + ": record too large");
  try {
    write_record(sequence, bytes);
  } catch (const std::runtime_error& e) {
    count_write_failure(e);
    return {.spooled = false, .dropped = {}};
  }
  std::vector<std::uint64_t> dropped;
  while (total_bytes_ > options_.max_bytes && segments_.size() > 1) {
    const Segment& oldest = segments_.front();
    for (auto it = unacked_.lower_bound(oldest.first); it != unacked_.end() && *it <= oldest.last;) {
      dropped.push_back(*it);
      it = unacked_.erase(it);
    }
    delete_front();
  }
  if (!dropped.empty()) {
    counters_.dropped_overflow.fetch_add(dropped.size(), std::memory_order_relaxed);
    spdlog::warn("{}: over {} bytes; dropped the {} oldest unacknowledged {}", options_.name, options_.max_bytes,
                 dropped.size(), options_.record_noun);
  }
  update_gauges();
  return {.spooled = true, .dropped = std::move(dropped)};
}

void DiskSpool::write_record(std::uint64_t sequence, std::span<const std::uint8_t> bytes) {
  const std::uint64_t record_bytes = kHeaderBytes + bytes.size();
  if (fd_ >= 0 && segments_.back().bytes + record_bytes > options_.segment_bytes) close_segment();
  if (fd_ < 0) open_segment(sequence);
  std::array<std::uint8_t, kHeaderBytes> header{};
  store(header.data(), kMagic);
  store(header.data() + 4, static_cast<std::uint32_t>(bytes.size()));
  store(header.data() + 8, sequence);
  store(header.data() + 16, record_crc(header.data(), bytes));
  scratch_.assign(header.begin(), header.end());
  scratch_.insert(scratch_.end(), bytes.begin(), bytes.end());
  // One write per record: with O_APPEND a crash leaves at most one torn record at the end.
  std::size_t done = 0;
  while (done < scratch_.size()) {
    const ssize_t n = ::write(fd_, scratch_.data() + done, scratch_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      // Cut what was written of this record off, so the segment stays whole for recovery.
      if (::ftruncate(fd_, static_cast<off_t>(segments_.back().bytes)) != 0) {
        spdlog::warn("{}: cannot cut a failed write off {}", options_.name, segments_.back().path.string());
      }
      errno = error;
      fail(options_.name, "cannot write", segments_.back().path);
    }
    done += static_cast<std::size_t>(n);
  }
  dirty_ = true;
  Segment& current = segments_.back();
  current.last = sequence;
  current.bytes += record_bytes;
  total_bytes_ += record_bytes;
  unacked_.insert(sequence);
  counters_.appended.fetch_add(1, std::memory_order_relaxed);
}

void DiskSpool::flush(std::chrono::steady_clock::time_point now) {
  if (fd_ < 0 || !dirty_ || options_.fsync == FsyncPolicy::kNever) return;
  if (options_.fsync == FsyncPolicy::kInterval && now - last_sync_ < options_.fsync_interval) return;
  last_sync_ = now;
  if (::fsync(fd_) != 0) {
    count_write_failure(
        std::runtime_error(fmt::format("{}: cannot fsync {}: {}", options_.name, segments_.back().path.string(),
                                       std::error_code(errno, std::generic_category()).message())));
    return;
  }
  dirty_ = false;
}

void DiskSpool::ack(std::uint64_t sequence) {
  unacked_.erase(sequence);
  // Closed segments (all but the one being written) with nothing unacknowledged go.
  while (segments_.size() > (fd_ >= 0 ? 1U : 0U)) {
    const Segment& oldest = segments_.front();
    const auto it = unacked_.lower_bound(oldest.first);
    if (it != unacked_.end() && *it <= oldest.last) break;
    delete_front();
  }
  update_gauges();
}

void DiskSpool::delete_front() {
  const Segment oldest = segments_.front();
  segments_.pop_front();
  total_bytes_ -= oldest.bytes;
  std::error_code ec;
  std::filesystem::remove(oldest.path, ec);
  if (ec) spdlog::warn("{}: cannot delete {}: {}", options_.name, oldest.path.string(), ec.message());
}

void DiskSpool::update_gauges() {
  counters_.bytes.store(total_bytes_, std::memory_order_relaxed);
  counters_.segments.store(segments_.size(), std::memory_order_relaxed);
  counters_.pending.store(unacked_.size(), std::memory_order_relaxed);
}

}  // namespace sensorgate::uplink
