#pragma once
// LabelBook: ground truth that arrives with the stream (a replayed labelled recording
// publishes its labels on <prefix>/<device>/labels), kept per device as intervals of
// device time, so that a worker can give each closed window its label and score the live
// model against it (prequential accuracy). Written by the ingest thread, read by the
// workers: one mutex, held for a map lookup.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace sensorgate {

struct LabelIntervalMessage {
  std::string device_id;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;  ///< exclusive
  std::int32_t label = 0;
};

/// Parses a labels message, JSON `{"start_ns":N,"end_ns":N,"label":N}` (the device id comes
/// from the topic). Nullopt with the reason in `error` for anything else.
std::optional<LabelIntervalMessage> parse_label_message(const std::string& device_id, const std::string& payload,
                                                        std::string& error);

class LabelBook {
 public:
  /// Labels older than this behind a device's newest one are forgotten (windows close long
  /// before), so memory stays bounded on an endless labelled stream.
  explicit LabelBook(std::int64_t retention_ns = 600'000'000'000) : retention_ns_(retention_ns) {}

  void add(const LabelIntervalMessage& label);
  /// The label covering most of [start_ns, end_ns) (ties: the smaller label); nullopt when
  /// no label overlaps it.
  [[nodiscard]] std::optional<std::int32_t> majority(const std::string& device_id, std::int64_t start_ns,
                                                     std::int64_t end_ns) const;
  [[nodiscard]] std::uint64_t added() const;

 private:
  struct Interval {
    std::int64_t end_ns;
    std::int32_t label;
  };
  std::int64_t retention_ns_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::map<std::int64_t, Interval>> devices_;  // by start
  std::uint64_t added_ = 0;
};

}  // namespace sensorgate
