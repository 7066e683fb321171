#include "sensorgate/sim/simulator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "sensorgate/common/runtime.hpp"
#include "sensorgate/sim/label_writer.hpp"
#include "sensorgate/uplink/codec.hpp"

namespace sensorgate::sim {

std::string simulated_device_id(const std::string& prefix, std::uint32_t index) {
  return fmt::format("{}-{:04d}", prefix, index);
}

Simulator::Simulator(SimulatorOptions options, BatchPublisher& publisher)
    : options_(std::move(options)), publisher_(publisher) {
  if (options_.replay) {
    options_.shape.channels = static_cast<std::uint16_t>(options_.replay->channels());
    options_.shape.sample_rate_hz = options_.replay->sample_rate_hz;
  }
  if (options_.start_time_ns == 0) {
    constexpr std::int64_t kSecond = 1'000'000'000;
    options_.start_time_ns = (wall_clock_ns() / kSecond + 1) * kSecond;
  }
}

std::uint64_t Simulator::frames_to_send() const {
  std::uint64_t frames =
      options_.duration_s > 0
          ? static_cast<std::uint64_t>(std::llround(options_.duration_s * options_.shape.sample_rate_hz))
          : 0;
  if (options_.replay) {
    const std::uint64_t left =
        options_.replay->frames() - std::min<std::uint64_t>(options_.replay_skip_frames, options_.replay->frames());
    frames = frames > 0 ? std::min(frames, left) : left;
  }
  return frames;
}

void Simulator::run(const std::atomic<bool>& stop) {
  const auto& shape = options_.shape;
  std::vector<SyntheticEeg> generators;
  std::vector<std::string> ids;
  if (!options_.device_id.empty() && options_.devices != 1) {
    throw std::invalid_argument("a device id can only be given for a single device");
  }
  for (std::uint32_t d = 0; d < options_.devices; ++d) {
    generators.emplace_back(options_.seed, d, shape);
    ids.push_back(options_.device_id.empty() ? simulated_device_id(options_.device_prefix, d) : options_.device_id);
  }
  const std::uint64_t total_frames = frames_to_send() > 0 ? frames_to_send() : UINT64_MAX;
  const double period_ns = 1e9 / shape.sample_rate_hz;
  // The device's reported clock: nominal, or skewed (it then runs fast or slow).
  const double reported_period_ns = period_ns * (1.0 + options_.faults.clock_skew_ppm * 1e-6);
  FaultInjector injector(options_.faults, ids);
  // Anomalies go over the samples before encoding; labels use nominal frame times (the
  // true device time, whatever clock skew the reported timestamps suffer).
  std::optional<LabelWriter> labels;
  if (!options_.anomalies.labels_path.empty()) labels.emplace(options_.anomalies.labels_path);
  std::vector<AnomalyInjector> anomalies;
  if (options_.anomalies.enabled()) {
    for (std::uint32_t d = 0; d < options_.devices; ++d) {
      anomalies.emplace_back(options_.anomalies, options_.seed, d, shape.channels, shape.sample_rate_hz,
                             [this, &labels, &ids, d, period_ns](const InjectedAnomaly& anomaly) {
                               ++anomalies_injected_;
                               if (labels) labels->write(ids[d], anomaly, options_.start_time_ns, period_ns);
                             });
    }
  }
  std::vector<OutgoingBatch> outgoing;
  if (options_.speed > 0 && options_.start_time_ns > wall_clock_ns()) {
    // Like a headset whose clock is set to wall time: frame 0 is measured at its device
    // time, so device time and wall time agree (end-to-end latency can be read off window
    // end times) and several simulators given one start time start together.
    std::this_thread::sleep_for(std::chrono::nanoseconds(options_.start_time_ns - wall_clock_ns()));
  }
  const auto wall_start = std::chrono::steady_clock::now();
  std::vector<float> samples;
  for (std::uint64_t frame = 0; frame < total_frames && !stop.load(std::memory_order_relaxed);) {
    const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(options_.batch_frames, total_frames - frame));
    if (options_.speed > 0) {
      // A batch leaves once its last frame has been "measured".
      const auto due = wall_start + std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(frame + n) *
                                                                                       period_ns / options_.speed));
      std::this_thread::sleep_until(due);
    }
    samples.resize(static_cast<std::size_t>(n) * shape.channels);
    // A resumed replay continues the device's sequence numbers and clock.
    const std::uint64_t seq = options_.replay_skip_frames + frame;
    const auto reported_time = options_.start_time_ns + std::llround(static_cast<double>(seq) * reported_period_ns);
    const auto end_time = options_.start_time_ns + std::llround(static_cast<double>(seq + n) * period_ns);
    const bool last = frame + n >= total_frames;
    for (std::uint32_t d = 0; d < options_.devices; ++d) {
      if (options_.replay) {
        // Every device replays the same recording.
        const auto offset = static_cast<std::ptrdiff_t>(seq * shape.channels);
        std::copy_n(options_.replay->samples.begin() + offset, samples.size(), samples.begin());
        if (options_.publish_labels) publish_labels(ids[d], seq, n);
      } else {
        generators[d].generate(samples);
      }
      if (!anomalies.empty()) anomalies[d].apply(samples, frame);
      outgoing.clear();
      injector.submit(OutgoingBatch{d, frame, n, end_time,
                                    uplink::encode_frame_batch(ids[d], seq, reported_time, shape.sample_rate_hz,
                                                               shape.channels, samples)},
                      last, outgoing);
      for (auto& batch : outgoing) publisher_.publish(ids[batch.device], std::move(batch.payload));
    }
    frame += n;
    frames_.store(frame, std::memory_order_relaxed);
  }
  fault_counts_ = injector.counts();
}

void Simulator::publish_labels(const std::string& device_id, std::uint64_t first, std::uint32_t frames) {
  const auto& labels = options_.replay->labels;
  if (labels.size() < first + frames) return;  // an unlabelled recording
  const double period_ns = 1e9 / options_.shape.sample_rate_hz;
  const auto time_of = [&](std::uint64_t f) {
    return options_.start_time_ns + std::llround(static_cast<double>(f) * period_ns);
  };
  // One message per run of equal labels: a few per batch at most.
  for (std::uint64_t begin = first; begin < first + frames;) {
    std::uint64_t end = begin + 1;
    while (end < first + frames && labels[end] == labels[begin]) ++end;
    publisher_.publish_label(device_id, fmt::format(R"({{"start_ns":{},"end_ns":{},"label":{}}})", time_of(begin),
                                                    time_of(end), labels[begin]));
    begin = end;
  }
}

}  // namespace sensorgate::sim
