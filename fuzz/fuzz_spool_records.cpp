// The disk spool's recovery (uplink::DiskSpool reading its segment files back at open):
// the input is written as one segment file into an empty directory and the spool opened
// on it. It must never crash and must account for every byte. Invariants: the intact
// records it hands back, serialised again in the spool's record format, are exactly the
// first (size - truncated_bytes) bytes of the segment; at most one corrupt record is
// counted (a corrupt record ends its segment); the segment is cut to its intact records
// (or removed when none is left); opening the directory again recovers the same records
// with nothing corrupt or truncated; the highest recovered sequence is reported; and the
// spool then accepts a new record and acknowledgements.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "sensorgate/common/serial_framing.hpp"
#include "sensorgate/uplink/disk_spool.hpp"

namespace {

namespace fs = std::filesystem;
namespace up = sensorgate::uplink;

template <typename T>
void put(std::vector<std::uint8_t>& out, T value) {
  std::uint8_t bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.insert(out.end(), bytes, bytes + sizeof(T));
}

/// `records` in the spool's on-disk format (disk_spool.hpp), little-endian.
std::vector<std::uint8_t> serialise(const std::vector<up::SpooledRecord>& records) {
  std::vector<std::uint8_t> out;
  for (const auto& r : records) {
    put(out, up::DiskSpool::kMagic);
    put(out, static_cast<std::uint32_t>(r.bytes.size()));
    put(out, r.sequence);
    std::uint8_t sequence[sizeof(r.sequence)];
    std::memcpy(sequence, &r.sequence, sizeof(sequence));
    put(out, sensorgate::crc32c(sequence, r.bytes));
    out.insert(out.end(), r.bytes.begin(), r.bytes.end());
  }
  return out;
}

up::DiskSpoolOptions options() {
  up::DiskSpoolOptions o;
  o.directory = sensorgate::fuzz::scratch_directory();
  o.fsync = up::FsyncPolicy::kNever;  // nothing to make durable in a throwaway directory
  o.segment_bytes = 1U << 20U;
  o.max_bytes = 4U << 20U;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  sensorgate::fuzz::quiet_logging();
  sensorgate::fuzz::make_scratch_directory("spool");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (const auto& entry : fs::directory_iterator(sensorgate::fuzz::scratch_directory())) fs::remove(entry.path());
  const fs::path segment = sensorgate::fuzz::scratch_directory() / "00000000000000000001.spool";
  {
    std::FILE* f = std::fopen(segment.c_str(), "wb");
    FUZZ_CHECK(f != nullptr);
    FUZZ_CHECK(size == 0 || std::fwrite(data, 1, size, f) == size);
    FUZZ_CHECK(std::fclose(f) == 0);
  }

  std::vector<up::SpooledRecord> records;
  std::uint64_t highest = 0;
  {
    up::DiskSpool spool(options());
    const auto& c = spool.counters();
    records = spool.take_recovered();
    FUZZ_CHECK(c.recovered.load() == records.size());
    FUZZ_CHECK(c.corrupt_records.load() <= 1);
    const std::uint64_t truncated = c.truncated_bytes.load();
    FUZZ_CHECK(truncated <= size);
    if (c.corrupt_records.load() == 1) FUZZ_CHECK(truncated > 0);
    // The kept bytes are intact records, back to back: split them by the spool's layout,
    // check they serialise back to exactly those bytes, and that they are the records the
    // spool handed back (which it sorts by sequence, so compare both sorted).
    const std::size_t kept = size - truncated;
    std::vector<up::SpooledRecord> in_file;
    for (std::size_t offset = 0; offset < kept;) {
      FUZZ_CHECK(kept - offset >= up::DiskSpool::kHeaderBytes);
      std::uint32_t length = 0;
      std::uint64_t sequence = 0;
      std::memcpy(&length, data + offset + 4, sizeof(length));
      std::memcpy(&sequence, data + offset + 8, sizeof(sequence));
      FUZZ_CHECK(kept - offset - up::DiskSpool::kHeaderBytes >= length);
      const std::uint8_t* payload = data + offset + up::DiskSpool::kHeaderBytes;
      in_file.push_back({sequence, std::vector<std::uint8_t>(payload, payload + length)});
      offset += up::DiskSpool::kHeaderBytes + length;
    }
    FUZZ_CHECK(serialise(in_file) == std::vector<std::uint8_t>(data, data + kept));
    const auto by_sequence = [](const up::SpooledRecord& a, const up::SpooledRecord& b) {
      return a.sequence < b.sequence || (a.sequence == b.sequence && a.bytes < b.bytes);
    };
    auto recovered = records;
    std::sort(in_file.begin(), in_file.end(), by_sequence);
    std::sort(recovered.begin(), recovered.end(), by_sequence);
    FUZZ_CHECK(in_file.size() == recovered.size());
    for (std::size_t i = 0; i < in_file.size(); ++i) {
      FUZZ_CHECK(in_file[i].sequence == recovered[i].sequence && in_file[i].bytes == recovered[i].bytes);
    }
    for (const auto& r : records) highest = std::max(highest, r.sequence);
    FUZZ_CHECK(spool.highest_recovered_sequence() == highest);
    std::error_code ec;
    if (kept == 0) {
      FUZZ_CHECK(!fs::exists(segment));
    } else {
      FUZZ_CHECK(fs::file_size(segment, ec) == kept);
    }
  }

  // Recovery leaves a clean segment: a second open reads the same records, nothing corrupt.
  {
    up::DiskSpool spool(options());
    const auto again = spool.take_recovered();
    FUZZ_CHECK(spool.counters().corrupt_records.load() == 0 && spool.counters().truncated_bytes.load() == 0);
    FUZZ_CHECK(again.size() == records.size());
    for (std::size_t i = 0; i < again.size(); ++i) {
      FUZZ_CHECK(again[i].sequence == records[i].sequence && again[i].bytes == records[i].bytes);
    }
    if (highest < UINT64_MAX) {
      const std::vector<std::uint8_t> payload = {1, 2, 3};
      const auto appended = spool.append(highest + 1, payload);
      FUZZ_CHECK(appended.spooled && appended.dropped.empty());
      for (const auto& r : records) spool.ack(r.sequence);
      spool.ack(highest + 1);
      FUZZ_CHECK(spool.counters().pending.load() == 0);
    }
  }
  return 0;
}
