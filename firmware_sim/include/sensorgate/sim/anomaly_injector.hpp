#pragma once
// AnomalyInjector: labelled anomalies written over one device's stream — spikes,
// seizure-like 3 Hz spike-and-wave bursts, flat lines, electrode pops and disconnects —
// at random times (a rate per hour) or on an explicit schedule. Each one is reported to a
// callback as it starts (its frame interval and channels: the ground truth for
// evaluation). It draws from its own random stream, so the samples outside every
// anomaly's interval and channels are exactly the clean generator's. See
// docs/synthetic-eeg.md.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sensorgate/sim/fast_rng.hpp"

namespace sensorgate::sim {

enum class AnomalyType : std::uint8_t { kSpike, kSeizure, kFlat, kPop, kDisconnect };

/// "spike", "seizure", "flat", "pop", "disconnect".
std::string_view anomaly_type_name(AnomalyType type);
std::optional<AnomalyType> parse_anomaly_type(std::string_view name);

/// Which channels an anomaly covers: the type's default (seizure: all; the others: one
/// random channel), all, or a list.
struct AnomalyChannels {
  enum class Mode : std::uint8_t { kTypeDefault, kAll, kList };
  Mode mode = Mode::kTypeDefault;
  std::vector<std::uint16_t> list;

  /// "" = type default, "all", or indices separated by spaces ("0 3 5").
  static AnomalyChannels parse(std::string_view text);
};

/// One anomaly at a fixed time on one device.
struct ScheduledAnomaly {
  std::uint32_t device = 0;
  AnomalyType type = AnomalyType::kSpike;
  double start_s = 0;     ///< seconds after frame 0
  double duration_s = 0;  ///< 0 = the type's configured duration
  AnomalyChannels channels;
};

/// Parses "DEVICE:TYPE:START_S[:DURATION_S[:CHANNELS]]" entries separated by ';', e.g.
/// "0:seizure:10:6:all; 1:flat:3:2:4 5". Throws std::invalid_argument naming the entry.
std::vector<ScheduledAnomaly> parse_anomaly_schedule(std::string_view text);

struct AnomalyOptions {
  double rate_per_hour = 0;  ///< random anomalies per device and hour; 0 = none
  std::vector<AnomalyType> types{AnomalyType::kSpike, AnomalyType::kSeizure, AnomalyType::kFlat, AnomalyType::kPop,
                                 AnomalyType::kDisconnect};
  AnomalyChannels channels;  ///< for random anomalies
  double min_gap_s = 2.0;    ///< quiet time after a random anomaly before the next may start
  double spike_uv = 150.0;
  double spike_ms = 80.0;
  double seizure_uv = 150.0;
  double seizure_s = 6.0;
  double seizure_hz = 3.0;
  double flat_s = 4.0;
  double pop_uv = 400.0;
  double pop_s = 2.0;
  double disconnect_s = 5.0;
  /// A disconnected channel reads the amplifier's rail (ADS1299 at gain 24: 187,500 uV)
  /// when true, zeros when false.
  bool disconnect_rail = true;
  double rail_uv = 187'500.0;
  std::vector<ScheduledAnomaly> schedule;
  std::string labels_path;  ///< CSV of ground-truth intervals; "" = none

  [[nodiscard]] bool enabled() const { return rate_per_hour > 0 || !schedule.empty(); }
};

/// An anomaly as injected: frames [start_frame, end_frame) of the listed channels.
struct InjectedAnomaly {
  AnomalyType type = AnomalyType::kSpike;
  std::uint64_t start_frame = 0;
  std::uint64_t end_frame = 0;
  std::vector<std::uint16_t> channels;
};

class AnomalyInjector {
 public:
  using Sink = std::function<void(const InjectedAnomaly&)>;

  /// `sink` hears of each anomaly when its first frame passes through apply().
  AnomalyInjector(AnomalyOptions options, std::uint64_t seed, std::uint32_t device_index, std::uint16_t channels,
                  double sample_rate_hz, Sink sink);

  /// Writes the anomalies due in frames [first_frame, first_frame + n) over `samples`
  /// (n frame-major frames). Calls must follow each other in frame order.
  void apply(std::span<float> samples, std::uint64_t first_frame);

 private:
  struct Active {
    InjectedAnomaly anomaly;
    double sign = 1.0;
    std::vector<float> held;  ///< flat: the value each channel is held at
  };

  [[nodiscard]] std::uint64_t frames(double seconds) const;
  [[nodiscard]] double default_duration_s(AnomalyType type) const;
  [[nodiscard]] std::vector<std::uint16_t> pick_channels(AnomalyType type, const AnomalyChannels& choice);
  void draw_next_random(std::uint64_t after);
  void start(AnomalyType type, std::uint64_t start_frame, double duration_s, const AnomalyChannels& choice);
  void write(Active& active, std::span<float> samples, std::uint64_t first_frame, std::uint64_t n) const;

  AnomalyOptions options_;
  FastRng rng_;
  std::uint16_t channels_;
  double rate_;
  Sink sink_;
  std::vector<ScheduledAnomaly> schedule_;  ///< this device's, by start time
  std::size_t next_scheduled_ = 0;
  std::uint64_t next_random_frame_;
  std::vector<Active> active_;
};

}  // namespace sensorgate::sim
