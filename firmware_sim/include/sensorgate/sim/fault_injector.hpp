#pragma once
// FaultInjector: what the simulator does to batches on their way to the broker, so tests
// can check that the gateway notices each fault and counts it exactly. Every fault is
// written to a log (JSON lines), the ground truth the tests compare the gateway's counters
// with. Decisions come from their own seeded generator: the same seed, the same faults.
//
// Faults per batch (at most one each): drop, burst loss (drop this and the next n-1
// batches of the device), duplicate (published twice in a row), reorder (held back and
// published after the device's next `reorder_depth` batches), delay (held back until the
// device's stream has moved on by `delay_ms` of device time). Clock skew is applied by the
// simulator to the reported times. The first and the last batch of a device are never
// faulted: a receiver cannot see a gap before the first frame or after the last one.

#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace sensorgate::sim {

struct FaultOptions {
  double drop_rate = 0;       ///< probability a batch is dropped
  double duplicate_rate = 0;  ///< probability a batch is sent twice
  double reorder_rate = 0;    ///< probability a batch is held back by reorder_depth batches
  std::uint32_t reorder_depth = 1;
  double delay_rate = 0;  ///< probability a batch is held back by delay_ms of device time
  double delay_ms = 0;
  double burst_rate = 0;  ///< probability a burst of burst_batches consecutive batches is lost
  std::uint32_t burst_batches = 4;
  double clock_skew_ppm = 0;  ///< the device's reported clock runs fast (+) or slow (-)
  std::uint64_t seed = 1;
  std::string log_path;  ///< JSON lines, one per fault; empty: no log

  [[nodiscard]] bool any_batch_faults() const {
    return drop_rate > 0 || duplicate_rate > 0 || reorder_rate > 0 || delay_rate > 0 || burst_rate > 0;
  }
};

/// A batch ready to publish.
struct OutgoingBatch {
  std::uint32_t device = 0;
  std::uint64_t first_seq = 0;
  std::uint32_t frames = 0;
  std::int64_t end_time_ns = 0;  ///< device time just after the batch's last frame
  std::vector<std::uint8_t> payload;
};

struct FaultCounts {
  std::uint64_t dropped_frames = 0;
  std::uint64_t duplicated_frames = 0;
  std::uint64_t reordered_frames = 0;
  std::uint64_t delayed_frames = 0;
};

class FaultInjector {
 public:
  FaultInjector(FaultOptions options, std::vector<std::string> device_ids);

  /// Takes the next batch of a device (`last` when no more follow for it) and appends what
  /// is to be published now, in order, to `out`.
  void submit(OutgoingBatch batch, bool last, std::vector<OutgoingBatch>& out);

  [[nodiscard]] const FaultCounts& counts() const { return counts_; }

 private:
  struct Held {
    OutgoingBatch batch;
    std::uint32_t batches_to_wait = 0;  // later batches of the device still to go out first
    std::int64_t release_time_ns = 0;   // delay: device time after which it goes out
  };

  bool chance(double p) { return p > 0 && uniform_(rng_) < p; }
  void log(const char* fault, const OutgoingBatch& batch);
  void release_due(std::uint32_t device, std::int64_t now_ns, bool everything, std::vector<OutgoingBatch>& out);

  FaultOptions options_;
  std::vector<std::string> device_ids_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
  std::vector<std::uint64_t> batches_seen_;  // per device
  std::vector<std::uint32_t> burst_left_;    // per device
  std::vector<std::vector<Held>> held_;      // per device
  std::ofstream log_;
  FaultCounts counts_;
};

}  // namespace sensorgate::sim
