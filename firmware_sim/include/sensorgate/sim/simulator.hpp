#pragma once
// Simulator: N headsets publishing FrameBatches, in real time (or a multiple of it) or as
// fast as the broker takes them. Each plays synthetic EEG or replays a recording. Device i
// is named "<prefix>-<iiii>" (or `device_id` when there is one device), its frames are
// numbered from 0 and frame k was sampled at start_time + k / rate.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "sensorgate/sim/anomaly_injector.hpp"
#include "sensorgate/sim/batch_publisher.hpp"
#include "sensorgate/sim/fault_injector.hpp"
#include "sensorgate/sim/recording.hpp"
#include "sensorgate/sim/synthetic_eeg.hpp"

namespace sensorgate::sim {

struct SimulatorOptions {
  std::uint32_t devices = 4;
  std::string device_prefix = "sim";
  /// The id of the only device (devices must be 1); empty: "<prefix>-0000".
  std::string device_id;
  /// Replay this recording (every device plays it) instead of synthetic EEG; its channel
  /// count and rate replace those of `shape`. It ends the run when it ends.
  std::shared_ptr<const Recording> replay;
  /// Start the replay at this frame of the recording, as the same device resuming: frame
  /// k of the run has sequence number and device time of recording frame replay_skip + k
  /// (so the first 70 % and the rest of a file can be replayed by two runs into one stream).
  std::uint64_t replay_skip_frames = 0;
  /// Publish the recording's per-frame labels (runs of equal labels per batch) on the
  /// labels topic before each batch; only a replay of a labelled recording has any.
  bool publish_labels = false;
  SignalShape shape;
  std::uint32_t batch_frames = 32;
  double duration_s = 10;  ///< seconds of signal per device; 0 = until stopped
  double speed = 1.0;      ///< 1 = real time, 2 = twice as fast, 0 = as fast as possible
  std::uint64_t seed = 1;
  std::int64_t start_time_ns = 0;  ///< device time of frame 0; 0 = now, rounded up to a whole second
  FaultOptions faults;
  /// Labelled anomalies written over each device's samples (synthetic or replayed).
  AnomalyOptions anomalies;
};

/// "<prefix>-<index, 4 digits>", the id of simulated device `index`.
std::string simulated_device_id(const std::string& prefix, std::uint32_t index);

class Simulator {
 public:
  Simulator(SimulatorOptions options, BatchPublisher& publisher);

  /// Publishes until the duration is reached or `stop` is set.
  void run(const std::atomic<bool>& stop);

  [[nodiscard]] std::uint64_t frames_per_device() const { return frames_.load(std::memory_order_relaxed); }
  /// Frames per device the run will send: the duration, or the replayed file's end,
  /// whichever comes first; 0 when it runs until stopped.
  [[nodiscard]] std::uint64_t frames_to_send() const;
  [[nodiscard]] std::int64_t start_time_ns() const { return options_.start_time_ns; }
  /// Channels and rate actually streamed (a replay's replace the configured ones).
  [[nodiscard]] const SignalShape& shape() const { return options_.shape; }
  /// Faults injected so far (valid after run()).
  [[nodiscard]] const FaultCounts& faults() const { return fault_counts_; }
  /// Anomalies injected so far, all devices (valid after run()).
  [[nodiscard]] std::uint64_t anomalies_injected() const { return anomalies_injected_; }

 private:
  /// Publishes the labels of recording frames [first, first + frames).
  void publish_labels(const std::string& device_id, std::uint64_t first, std::uint32_t frames);

  SimulatorOptions options_;
  BatchPublisher& publisher_;
  std::atomic<std::uint64_t> frames_{0};
  FaultCounts fault_counts_;
  std::uint64_t anomalies_injected_ = 0;
};

}  // namespace sensorgate::sim
