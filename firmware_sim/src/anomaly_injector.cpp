#include "sensorgate/sim/anomaly_injector.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <utility>

namespace sensorgate::sim {
namespace {

constexpr std::array<std::string_view, 5> kTypeNames{"spike", "seizure", "flat", "pop", "disconnect"};
constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
// Distinguishes the injector's random stream from the signal generator's of the same device.
constexpr std::uint64_t kAnomalyStreamSalt = 0xA7F0'11E5'5EED'0001ULL;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <typename T>
T parse_number(std::string_view text, std::string_view what) {
  T value{};
  text = trim(text);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    throw std::invalid_argument(fmt::format("{}: not a number: \"{}\"", what, text));
  }
  return value;
}

/// Splits on `separator`, trimming each part and skipping empty ones.
std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    const auto at = text.find(separator);
    const auto part = trim(text.substr(0, at));
    if (!part.empty()) parts.push_back(part);
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return parts;
}

double gauss(double x, double centre, double width) {
  const double z = (x - centre) / width;
  return std::exp(-0.5 * z * z);
}

}  // namespace

std::string_view anomaly_type_name(AnomalyType type) {
  return kTypeNames.at(static_cast<std::size_t>(type));
}

std::optional<AnomalyType> parse_anomaly_type(std::string_view name) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == trim(name)) return static_cast<AnomalyType>(i);
  }
  return std::nullopt;
}

AnomalyChannels AnomalyChannels::parse(std::string_view text) {
  AnomalyChannels result;
  text = trim(text);
  if (text.empty()) return result;
  if (text == "all") {
    result.mode = Mode::kAll;
    return result;
  }
  result.mode = Mode::kList;
  for (const auto part : split(text, ' ')) result.list.push_back(parse_number<std::uint16_t>(part, "anomaly channel"));
  return result;
}

std::vector<ScheduledAnomaly> parse_anomaly_schedule(std::string_view text) {
  std::vector<ScheduledAnomaly> schedule;
  for (const auto entry : split(text, ';')) {
    const auto fields = split(entry, ':');
    if (fields.size() < 3 || fields.size() > 5) {
      throw std::invalid_argument(
          fmt::format("anomaly schedule entry \"{}\": expected DEVICE:TYPE:START_S[:DURATION_S[:CHANNELS]]", entry));
    }
    ScheduledAnomaly anomaly;
    anomaly.device = parse_number<std::uint32_t>(fields[0], "anomaly schedule device");
    const auto type = parse_anomaly_type(fields[1]);
    if (!type) throw std::invalid_argument(fmt::format("anomaly schedule entry \"{}\": unknown type", entry));
    anomaly.type = *type;
    anomaly.start_s = parse_number<double>(fields[2], "anomaly schedule start");
    if (fields.size() > 3) anomaly.duration_s = parse_number<double>(fields[3], "anomaly schedule duration");
    if (fields.size() > 4) anomaly.channels = AnomalyChannels::parse(fields[4]);
    if (anomaly.start_s < 0 || anomaly.duration_s < 0) {
      throw std::invalid_argument(fmt::format("anomaly schedule entry \"{}\": negative time", entry));
    }
    schedule.push_back(std::move(anomaly));
  }
  return schedule;
}

AnomalyInjector::AnomalyInjector(AnomalyOptions options, std::uint64_t seed, std::uint32_t device_index,
                                 std::uint16_t channels, double sample_rate_hz, Sink sink)
    : options_(std::move(options)),
      rng_(FastRng::splitmix64(seed ^ kAnomalyStreamSalt ^ FastRng::splitmix64(std::uint64_t{device_index} + 1))),
      channels_(channels),
      rate_(sample_rate_hz),
      sink_(std::move(sink)),
      next_random_frame_(kNever) {
  const auto check = [&](const AnomalyChannels& choice) {
    for (const auto c : choice.list) {
      if (c >= channels_) throw std::invalid_argument(fmt::format("anomaly channel {} of {} channels", c, channels_));
    }
  };
  check(options_.channels);
  for (const auto& entry : options_.schedule) {
    if (entry.device != device_index) continue;
    check(entry.channels);
    schedule_.push_back(entry);
  }
  std::stable_sort(schedule_.begin(), schedule_.end(),
                   [](const auto& a, const auto& b) { return a.start_s < b.start_s; });
  if (options_.rate_per_hour > 0 && options_.types.empty()) {
    throw std::invalid_argument("random anomalies need at least one type");
  }
  draw_next_random(0);
}

std::uint64_t AnomalyInjector::frames(double seconds) const {
  return static_cast<std::uint64_t>(std::llround(seconds * rate_));
}

double AnomalyInjector::default_duration_s(AnomalyType type) const {
  switch (type) {
    case AnomalyType::kSpike: return options_.spike_ms / 1000.0;
    case AnomalyType::kSeizure: return options_.seizure_s;
    case AnomalyType::kFlat: return options_.flat_s;
    case AnomalyType::kPop: return options_.pop_s;
    case AnomalyType::kDisconnect: return options_.disconnect_s;
  }
  return 0.0;
}

std::vector<std::uint16_t> AnomalyInjector::pick_channels(AnomalyType type, const AnomalyChannels& choice) {
  std::vector<std::uint16_t> picked;
  const bool all = choice.mode == AnomalyChannels::Mode::kAll ||
                   (choice.mode == AnomalyChannels::Mode::kTypeDefault && type == AnomalyType::kSeizure);
  if (choice.mode == AnomalyChannels::Mode::kList) {
    picked = choice.list;
  } else if (all) {
    for (std::uint16_t c = 0; c < channels_; ++c) picked.push_back(c);
  } else {
    picked.push_back(static_cast<std::uint16_t>(rng_.next() % channels_));
  }
  std::sort(picked.begin(), picked.end());
  picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
  return picked;
}

void AnomalyInjector::draw_next_random(std::uint64_t after) {
  if (!(options_.rate_per_hour > 0)) return;
  const double mean_gap_frames = 3600.0 / options_.rate_per_hour * rate_;
  next_random_frame_ = after + static_cast<std::uint64_t>(rng_.exponential(mean_gap_frames));
}

void AnomalyInjector::start(AnomalyType type, std::uint64_t start_frame, double duration_s,
                            const AnomalyChannels& choice) {
  Active active;
  active.anomaly.type = type;
  active.anomaly.start_frame = start_frame;
  active.anomaly.end_frame = start_frame + std::max<std::uint64_t>(1, frames(duration_s));
  active.anomaly.channels = pick_channels(type, choice);
  active.sign = rng_.uniform() < 0.5 ? -1.0 : 1.0;
  if (sink_) sink_(active.anomaly);
  active_.push_back(std::move(active));
}

void AnomalyInjector::apply(std::span<float> samples, std::uint64_t first_frame) {
  const std::uint64_t n = samples.size() / channels_;
  const std::uint64_t end = first_frame + n;
  while (next_scheduled_ < schedule_.size() && frames(schedule_[next_scheduled_].start_s) < end) {
    const auto& entry = schedule_[next_scheduled_++];
    start(entry.type, frames(entry.start_s), entry.duration_s > 0 ? entry.duration_s : default_duration_s(entry.type),
          entry.channels);
  }
  while (next_random_frame_ < end) {
    const auto type = options_.types[rng_.next() % options_.types.size()];
    start(type, next_random_frame_, default_duration_s(type), options_.channels);
    draw_next_random(active_.back().anomaly.end_frame + frames(options_.min_gap_s));
  }
  for (auto& active : active_) write(active, samples, first_frame, n);
  std::erase_if(active_, [end](const Active& a) { return a.anomaly.end_frame <= end; });
}

void AnomalyInjector::write(Active& active, std::span<float> samples, std::uint64_t first_frame,
                            std::uint64_t n) const {
  const auto& a = active.anomaly;
  const std::uint64_t from = std::max(a.start_frame, first_frame);
  const std::uint64_t to = std::min(a.end_frame, first_frame + n);
  const auto length = static_cast<double>(a.end_frame - a.start_frame);
  const double duration_s = length / rate_;
  for (std::uint64_t frame = from; frame < to; ++frame) {
    const auto k = static_cast<double>(frame - a.start_frame);
    const double t = k / rate_;
    float* row = samples.data() + (frame - first_frame) * channels_;
    double add = 0;
    switch (a.type) {
      case AnomalyType::kSpike: {
        // A sharp transient (~20 ms wide) and a smaller, slower after-wave of opposite sign.
        const double p = (k + 0.5) / length;
        add = options_.spike_uv * active.sign * (gauss(p, 0.35, 0.07) - 0.3 * gauss(p, 0.65, 0.12));
        break;
      }
      case AnomalyType::kSeizure: {
        // Spike-and-wave: per cycle a narrow spike, then a slow wave that carries most of the
        // power at the fundamental; 0.25 s ramps so the onset is not a step.
        const double cycle = t * options_.seizure_hz;
        const double theta = cycle - std::floor(cycle);
        const double wave = -1.5 * gauss(theta, 0.1, 0.03) + std::cos(2.0 * std::numbers::pi * (theta - 0.55));
        const double ramp = std::clamp(std::min(t, duration_s - t) / 0.25, 0.0, 1.0);
        add = options_.seizure_uv * ramp * wave;
        break;
      }
      case AnomalyType::kPop:
        // The electrode's half-cell potential jumps and the amplifier's input recovers.
        add = options_.pop_uv * active.sign * std::exp(-t / (duration_s / 5.0));
        break;
      case AnomalyType::kFlat:
        if (active.held.empty()) {
          for (const auto c : a.channels) active.held.push_back(row[c]);
        }
        break;
      case AnomalyType::kDisconnect: break;
    }
    for (std::size_t i = 0; i < a.channels.size(); ++i) {
      float& sample = row[a.channels[i]];
      switch (a.type) {
        case AnomalyType::kFlat: sample = active.held[i]; break;
        case AnomalyType::kDisconnect:
          sample = options_.disconnect_rail ? static_cast<float>(options_.rail_uv * active.sign) : 0.0F;
          break;
        default: sample += static_cast<float>(add); break;
      }
    }
  }
}

}  // namespace sensorgate::sim
