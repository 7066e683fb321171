#include "sensorgate/sim/anomaly_injector.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sensorgate/sim/label_writer.hpp"
#include "sensorgate/sim/simulator.hpp"
#include "sensorgate/sim/synthetic_eeg.hpp"
#include "spectrum.hpp"

namespace sensorgate::sim {
namespace {

constexpr double kRate = 256.0;
constexpr std::uint16_t kChannels = 16;
constexpr std::uint64_t kSeed = 11;

struct Run {
  std::vector<float> clean;
  std::vector<float> injected;
  std::vector<InjectedAnomaly> anomalies;
};

/// The clean signal of (kSeed, device) and the same with `options`' anomalies, fed through
/// the injector in batches of 32 frames as the simulator does.
Run run_injector(const AnomalyOptions& options, double seconds, std::uint32_t device = 0) {
  Run run;
  const auto frames = static_cast<std::size_t>(seconds * kRate);
  run.clean.resize(frames * kChannels);
  SyntheticEeg(kSeed, device, SignalShape{}).generate(run.clean);
  run.injected = run.clean;
  AnomalyInjector injector(options, kSeed, device, kChannels, kRate,
                           [&](const InjectedAnomaly& a) { run.anomalies.push_back(a); });
  for (std::size_t f = 0; f < frames; f += 32) {
    const std::size_t n = std::min<std::size_t>(32, frames - f);
    injector.apply(std::span<float>(run.injected.data() + f * kChannels, n * kChannels), f);
  }
  return run;
}

bool covered(const std::vector<InjectedAnomaly>& anomalies, std::uint64_t frame, std::uint16_t channel) {
  return std::any_of(anomalies.begin(), anomalies.end(), [&](const InjectedAnomaly& a) {
    return frame >= a.start_frame && frame < a.end_frame &&
           std::find(a.channels.begin(), a.channels.end(), channel) != a.channels.end();
  });
}

TEST(AnomalyInjector, RandomAnomalies_SignalIsCleanOutsideEveryLabelAndChangedInsideEach) {
  AnomalyOptions options;
  options.rate_per_hour = 900;
  const auto run = run_injector(options, 600);
  std::set<AnomalyType> types;
  for (const auto& a : run.anomalies) types.insert(a.type);
  EXPECT_EQ(types.size(), 5U) << "every type drawn in " << run.anomalies.size() << " anomalies";
  ASSERT_GT(run.anomalies.size(), 30U);
  std::vector<std::size_t> changed(run.anomalies.size(), 0);
  for (std::size_t i = 0; i < run.clean.size(); ++i) {
    const std::uint64_t frame = i / kChannels;
    const auto channel = static_cast<std::uint16_t>(i % kChannels);
    if (run.clean[i] == run.injected[i]) continue;
    ASSERT_TRUE(covered(run.anomalies, frame, channel)) << "frame " << frame << " channel " << channel;
    for (std::size_t k = 0; k < run.anomalies.size(); ++k) {
      if (covered({run.anomalies[k]}, frame, channel)) ++changed[k];
    }
  }
  for (std::size_t k = 0; k < run.anomalies.size(); ++k) {
    EXPECT_GT(changed[k], 0U) << anomaly_type_name(run.anomalies[k].type) << " at frame "
                              << run.anomalies[k].start_frame;
  }
  // Random anomalies of one device never overlap, and leave min_gap_s (2 s) between them.
  constexpr std::uint64_t kMinGapFrames = 512;
  for (std::size_t k = 1; k < run.anomalies.size(); ++k) {
    EXPECT_GE(run.anomalies[k].start_frame, run.anomalies[k - 1].end_frame + kMinGapFrames);
  }
}

TEST(AnomalyInjector, SameSeed_SameAnomalies_OtherDevice_Others) {
  AnomalyOptions options;
  options.rate_per_hour = 600;
  const auto a = run_injector(options, 120, 1);
  const auto b = run_injector(options, 120, 1);
  const auto c = run_injector(options, 120, 2);
  EXPECT_EQ(a.injected, b.injected);
  EXPECT_NE(a.injected, c.injected);
}

TEST(AnomalyInjector, FlatLine_SamplesConstantOverTheLabelledInterval) {
  AnomalyOptions options;
  options.schedule = parse_anomaly_schedule("0:flat:2:3:1 4; 1:flat:1:1");
  const auto run = run_injector(options, 8);
  ASSERT_EQ(run.anomalies.size(), 1U) << "device 1's entry is not device 0's";
  const auto& a = run.anomalies[0];
  EXPECT_EQ(a.type, AnomalyType::kFlat);
  EXPECT_EQ(a.start_frame, 512U);
  EXPECT_EQ(a.end_frame, 512U + 768U);
  EXPECT_EQ(a.channels, (std::vector<std::uint16_t>{1, 4}));
  for (const std::uint16_t c : {1, 4}) {
    const float held = run.injected[a.start_frame * kChannels + c];
    EXPECT_EQ(held, run.clean[a.start_frame * kChannels + c]);
    for (auto f = a.start_frame; f < a.end_frame; ++f) ASSERT_EQ(run.injected[f * kChannels + c], held) << f;
    EXPECT_NE(run.injected[a.end_frame * kChannels + c], held);
  }
}

TEST(AnomalyInjector, Seizure_MostPowerAtThreeHertzInItsWindow) {
  AnomalyOptions options;
  options.schedule = parse_anomaly_schedule("0:seizure:4:6");
  const auto run = run_injector(options, 12);
  ASSERT_EQ(run.anomalies.size(), 1U);
  const auto& a = run.anomalies[0];
  EXPECT_EQ(a.channels.size(), kChannels) << "a seizure covers every channel by default";
  EXPECT_EQ(a.end_frame - a.start_frame, 6U * 256U);
  const std::span<const float> window(run.injected.data() + a.start_frame * kChannels,
                                      (a.end_frame - a.start_frame) * kChannels);
  const auto freqs = testing::frequencies(0.5, 40, 0.25);
  for (const std::size_t channel : {std::size_t{0}, std::size_t{8}, std::size_t{15}}) {
    const auto power = testing::power_at(window, kChannels, channel, kRate, window.size() / kChannels, freqs);
    const auto peak = static_cast<std::size_t>(std::max_element(power.begin(), power.end()) - power.begin());
    EXPECT_NEAR(freqs[peak], 3.0, 0.5) << "channel " << channel;
  }
}

TEST(AnomalyInjector, PopAndDisconnect_StepDecaysAndChannelRails) {
  AnomalyOptions options;
  options.schedule = parse_anomaly_schedule("0:pop:1:2:3; 0:disconnect:5:1:7");
  const auto run = run_injector(options, 8);
  ASSERT_EQ(run.anomalies.size(), 2U);
  const auto diff = [&](std::uint64_t f, std::uint16_t c) {
    return std::abs(run.injected[f * kChannels + c] - run.clean[f * kChannels + c]);
  };
  const auto& pop = run.anomalies[0];
  EXPECT_NEAR(diff(pop.start_frame, 3), 400.0F, 1.0F);
  EXPECT_NEAR(diff(pop.start_frame + 102, 3), 400.0F * std::exp(-1.0F), 5.0F);  // tau = 0.4 s
  EXPECT_LT(diff(pop.end_frame - 1, 3), 400.0F * 0.01F);
  const auto& disconnect = run.anomalies[1];
  for (auto f = disconnect.start_frame; f < disconnect.end_frame; ++f) {
    ASSERT_EQ(std::abs(run.injected[f * kChannels + 7]), 187'500.0F);
  }
}

TEST(AnomalyInjector, ParseSchedule_BadEntries_Throw) {
  EXPECT_THROW(parse_anomaly_schedule("0:seizure"), std::invalid_argument);
  EXPECT_THROW(parse_anomaly_schedule("0:sneeze:1"), std::invalid_argument);
  EXPECT_THROW(parse_anomaly_schedule("x:spike:1"), std::invalid_argument);
  EXPECT_THROW(parse_anomaly_schedule("0:spike:-1"), std::invalid_argument);
  const auto ok = parse_anomaly_schedule(" 2:pop:1.5 ; 0:spike:3:0.1:all ");
  ASSERT_EQ(ok.size(), 2U);
  EXPECT_EQ(ok[0].device, 2U);
  EXPECT_EQ(ok[1].channels.mode, AnomalyChannels::Mode::kAll);
}

class NullPublisher final : public BatchPublisher {
 public:
  void publish(const std::string& /*device_id*/, std::vector<std::uint8_t> payload) override {
    ++published_;
    bytes_ += payload.size();
  }
  void finish(std::chrono::milliseconds /*timeout*/) override {}
  [[nodiscard]] std::uint64_t published() const override { return published_; }
  [[nodiscard]] std::uint64_t bytes() const override { return bytes_; }

 private:
  std::uint64_t published_ = 0;
  std::uint64_t bytes_ = 0;
};

TEST(Simulator, Anomalies_EveryInjectedOneIsInTheLabelsFileWithItsInterval) {
  const auto path =
      std::filesystem::temp_directory_path() / ("sensorgate-labels-" + std::to_string(::getpid()) + ".csv");
  SimulatorOptions options;
  options.devices = 3;
  options.duration_s = 300;
  options.speed = 0;
  options.seed = kSeed;
  options.start_time_ns = 1'700'000'000'000'000'000;
  options.anomalies.rate_per_hour = 600;
  options.anomalies.schedule = parse_anomaly_schedule("1:seizure:10:5");
  options.anomalies.labels_path = path.string();
  NullPublisher publisher;
  Simulator simulator(options, publisher);
  simulator.run(std::atomic<bool>{false});

  std::ifstream in(path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line, "device_id,type,start_ns,end_ns,channels");
  std::map<std::string, std::vector<std::string>> lines;
  while (std::getline(in, line)) lines[line.substr(0, line.find(','))].push_back(line);
  std::filesystem::remove(path);

  std::size_t expected_total = 0;
  for (std::uint32_t d = 0; d < options.devices; ++d) {
    // Recompute the device's anomalies with an injector of its own: the labels must list
    // exactly those, in order, with frame k at start_time + k / rate.
    const auto run = run_injector(options.anomalies, options.duration_s, d);
    const std::string id = simulated_device_id("sim", d);
    std::vector<std::string> expected;
    for (const auto& a : run.anomalies) {
      std::ostringstream channels;
      for (std::size_t i = 0; i < a.channels.size(); ++i) channels << (i > 0 ? " " : "") << a.channels[i];
      const auto ns = [&](std::uint64_t frame) {
        return options.start_time_ns + static_cast<std::int64_t>(frame) * 1'000'000'000 / 256;
      };
      expected.push_back(id + "," + std::string(anomaly_type_name(a.type)) + "," + std::to_string(ns(a.start_frame)) +
                         "," + std::to_string(ns(a.end_frame)) + "," + channels.str());
    }
    EXPECT_GT(expected.size(), 10U);
    EXPECT_EQ(lines[id], expected) << id;
    expected_total += expected.size();
  }
  EXPECT_EQ(simulator.anomalies_injected(), expected_total);
  EXPECT_NE(std::find_if(lines["sim-0001"].begin(), lines["sim-0001"].end(),
                         [](const std::string& l) {
                           return l.starts_with("sim-0001,seizure,1700000010000000000,1700000015000000000,0 1 2");
                         }),
            lines["sim-0001"].end());
}

}  // namespace
}  // namespace sensorgate::sim
