// sensorgate-sim: simulated EEG headsets publishing FrameBatches over MQTT.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <charconv>
#include <thread>

#include "sensorgate/common/cli.hpp"
#include "sensorgate/common/runtime.hpp"
#include "sensorgate/common/stop_signal.hpp"
#include "sensorgate/sim/simulator.hpp"

namespace {

struct ReplaySettings {
  std::string path;
  std::string channels;       ///< channel spec, e.g. "0-15" or "C3,Cz,C4"; empty: all
  double file_rate_hz = 0.0;  ///< the rate of a file that does not state one
};

struct Settings {
  sensorgate::sim::PublisherOptions mqtt;
  sensorgate::sim::SimulatorOptions sim;
  ReplaySettings replay;
  std::string log_level;
};

/// Reads the recording to replay, with channel selection and resampling to the
/// configured rate (when one is configured).
std::shared_ptr<const sensorgate::sim::Recording> load_replay(const Settings& s) {
  sensorgate::sim::ReadOptions options;
  options.channel_spec = s.replay.channels;
  if (s.replay.file_rate_hz > 0) options.sample_rate_hz = s.replay.file_rate_hz;
  if (s.sim.shape.sample_rate_hz > 0) options.resample_to_hz = s.sim.shape.sample_rate_hz;
  auto recording = sensorgate::sim::read_recording(s.replay.path, options);
  spdlog::info("sim: replaying {}: {} channels at {} Hz, {:.1f} s", s.replay.path, recording.channels(),
               recording.sample_rate_hz, static_cast<double>(recording.frames()) / recording.sample_rate_hz);
  return std::make_shared<const sensorgate::sim::Recording>(std::move(recording));
}

double parse_speed(sensorgate::ConfigFile& file) {
  const std::string text = file.get_string("sim.speed", "1");
  if (text == "max") return 0.0;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || !(value > 0)) {
    file.fail("sim.speed", R"(expected "max" or a positive real-time factor such as "1" or "10", got ")" + text + "\"");
  }
  return value;
}

Settings read_settings(sensorgate::ConfigFile& file) {
  Settings s;
  s.mqtt.url = file.get_string("mqtt.url", "tcp://127.0.0.1:1883");
  s.mqtt.topic_prefix = file.get_string("mqtt.topic_prefix", "sensorgate");
  s.mqtt.client_id = file.get_string("mqtt.client_id", "sensorgate-sim-" + sensorgate::host_name());
  s.mqtt.max_in_flight = static_cast<std::size_t>(file.get_int("mqtt.max_in_flight", 256, 1, 65535));
  s.mqtt.username = file.get_string("mqtt.username", "");
  s.mqtt.password = file.get_string("mqtt.password", "");
  s.sim.devices = static_cast<std::uint32_t>(file.get_int("sim.devices", 4, 1, 100'000));
  s.sim.device_prefix = file.get_string("sim.device_prefix", "sim");
  s.sim.shape.channels = static_cast<std::uint16_t>(file.get_int("sim.channels", 16, 1, 256));
  // 0: not configured; synthetic EEG then runs at 256 Hz and a replay at the file's rate.
  s.sim.shape.sample_rate_hz = file.get_double("sim.sample_rate_hz", 0.0, 1.0, 100'000.0);
  s.sim.device_id = file.get_string("sim.device_id", "");
  s.replay.path = file.get_string("replay.file", "");
  s.replay.channels = file.get_string("replay.channels", "");
  s.replay.file_rate_hz = file.get_double("replay.file_rate_hz", 0.0, 0.0, 100'000.0);
  s.sim.batch_frames = static_cast<std::uint32_t>(file.get_int("sim.batch_frames", 32, 1, 65536));
  // -1: not configured; synthetic EEG then runs 10 s and a replay to the file's end.
  s.sim.duration_s = file.get_double("sim.duration_s", -1.0, 0.0, 1e9);
  s.sim.speed = parse_speed(file);
  s.sim.seed = static_cast<std::uint64_t>(file.get_int("sim.seed", 1, 0, INT64_MAX));
  s.sim.start_time_ns = file.get_int("sim.start_time_ns", 0, 0, INT64_MAX);
  auto& f = s.sim.faults;
  f.drop_rate = file.get_double("faults.drop_rate", 0.0, 0.0, 1.0);
  f.duplicate_rate = file.get_double("faults.duplicate_rate", 0.0, 0.0, 1.0);
  f.reorder_rate = file.get_double("faults.reorder_rate", 0.0, 0.0, 1.0);
  f.reorder_depth = static_cast<std::uint32_t>(file.get_int("faults.reorder_depth", 1, 1, 1000));
  f.delay_rate = file.get_double("faults.delay_rate", 0.0, 0.0, 1.0);
  f.delay_ms = file.get_double("faults.delay_ms", 0.0, 0.0, 3'600'000.0);
  f.burst_rate = file.get_double("faults.burst_rate", 0.0, 0.0, 1.0);
  f.burst_batches = static_cast<std::uint32_t>(file.get_int("faults.burst_batches", 4, 1, 100'000));
  f.clock_skew_ppm = file.get_double("faults.clock_skew_ppm", 0.0, -100'000.0, 100'000.0);
  f.seed = static_cast<std::uint64_t>(file.get_int("faults.seed", 1, 0, INT64_MAX));
  f.log_path = file.get_string("faults.log", "");
  s.log_level = file.get_choice("log.level", "info", {"trace", "debug", "info", "warn", "error", "off"});
  file.reject_unknown_keys();
  return s;
}

int run(int argc, char** argv) {
  sensorgate::StopSignal stop_signal;
  CLI::App app{"sensorgate-sim: simulated EEG headsets publishing frame batches over MQTT (QoS 1)", "sensorgate-sim"};
  sensorgate::CommonFlags common;
  common.add_to(app);
  std::optional<std::string> mqtt_url;
  std::optional<std::int64_t> devices;
  std::optional<double> duration;
  std::optional<std::string> speed;
  std::optional<std::int64_t> seed;
  std::optional<std::int64_t> channels;
  std::optional<double> rate;
  std::optional<std::int64_t> batch;
  std::optional<std::int64_t> start;
  std::optional<double> drop_rate;
  std::optional<double> duplicate_rate;
  std::optional<double> reorder_rate;
  std::optional<std::int64_t> reorder_depth;
  std::optional<double> delay_rate;
  std::optional<double> delay_ms;
  std::optional<double> burst_rate;
  std::optional<std::int64_t> burst_batches;
  std::optional<double> skew_ppm;
  std::optional<std::string> fault_log;
  std::optional<std::string> replay;
  std::optional<std::string> replay_channels;
  std::optional<double> replay_file_rate;
  std::optional<std::string> device_id;
  app.add_option("--mqtt", mqtt_url, "MQTT broker URL (mqtt.url)");
  app.add_option("--devices", devices, "number of simulated headsets (sim.devices)");
  app.add_option("--duration", duration, "seconds of signal per device, 0 = until Ctrl-C (sim.duration_s)");
  app.add_option("--speed", speed, "max, or a real-time factor: 1 = real time (sim.speed)");
  app.add_option("--seed", seed, "random seed; same seed, same signal (sim.seed)");
  app.add_option("--channel-count", channels, "channels per synthetic device (sim.channels)");
  app.add_option("--rate", rate, "sampling rate in Hz (sim.sample_rate_hz)");
  app.add_option("--batch-frames", batch, "frames per published batch (sim.batch_frames)");
  app.add_option("--start-time-ns", start, "device time of frame 0, ns since the epoch (sim.start_time_ns)");
  app.add_option("--replay", replay, "replay this recording (EDF/EDF+, CSV, OpenBCI GUI, ARFF, text) (replay.file)");
  app.add_option("--channels", replay_channels, "channels to replay, e.g. 0-15 or C3,Cz,C4 (replay.channels)");
  app.add_option("--file-rate", replay_file_rate, "sampling rate of a file that states none (replay.file_rate_hz)");
  app.add_option("--device-id", device_id, "id of the single simulated device (sim.device_id)");
  auto* faults = app.add_option_group("Fault injection", "every injected fault is written to --fault-log");
  faults->add_option("--drop-rate", drop_rate, "probability a batch is dropped (faults.drop_rate)");
  faults->add_option("--duplicate-rate", duplicate_rate, "probability a batch is sent twice (faults.duplicate_rate)");
  faults->add_option("--reorder-rate", reorder_rate, "probability a batch is sent late (faults.reorder_rate)");
  faults->add_option("--reorder-depth", reorder_depth, "...after this many later batches (faults.reorder_depth)");
  faults->add_option("--delay-rate", delay_rate, "probability a batch is delayed (faults.delay_rate)");
  faults->add_option("--delay-ms", delay_ms, "...by this much device time (faults.delay_ms)");
  faults->add_option("--burst-rate", burst_rate, "probability a burst of batches is lost (faults.burst_rate)");
  faults->add_option("--burst-batches", burst_batches, "batches per lost burst (faults.burst_batches)");
  faults->add_option("--clock-skew-ppm", skew_ppm, "reported device clock error in ppm (faults.clock_skew_ppm)");
  faults->add_option("--fault-log", fault_log, "JSON-lines file listing every injected fault (faults.log)");
  if (int rc = sensorgate::parse_cli(app, argc, argv); rc >= 0) return rc;

  Settings settings;
  try {
    auto file = common.load_config();
    if (mqtt_url) file.set_override("mqtt.url", *mqtt_url, "--mqtt");
    if (devices) file.set_override("sim.devices", *devices, "--devices");
    if (duration) file.set_override("sim.duration_s", *duration, "--duration");
    if (speed) file.set_override("sim.speed", *speed, "--speed");
    if (seed) file.set_override("sim.seed", *seed, "--seed");
    if (channels) file.set_override("sim.channels", *channels, "--channel-count");
    if (rate) file.set_override("sim.sample_rate_hz", *rate, "--rate");
    if (batch) file.set_override("sim.batch_frames", *batch, "--batch-frames");
    if (start) file.set_override("sim.start_time_ns", *start, "--start-time-ns");
    if (drop_rate) file.set_override("faults.drop_rate", *drop_rate, "--drop-rate");
    if (duplicate_rate) file.set_override("faults.duplicate_rate", *duplicate_rate, "--duplicate-rate");
    if (reorder_rate) file.set_override("faults.reorder_rate", *reorder_rate, "--reorder-rate");
    if (reorder_depth) file.set_override("faults.reorder_depth", *reorder_depth, "--reorder-depth");
    if (delay_rate) file.set_override("faults.delay_rate", *delay_rate, "--delay-rate");
    if (delay_ms) file.set_override("faults.delay_ms", *delay_ms, "--delay-ms");
    if (burst_rate) file.set_override("faults.burst_rate", *burst_rate, "--burst-rate");
    if (burst_batches) file.set_override("faults.burst_batches", *burst_batches, "--burst-batches");
    if (skew_ppm) file.set_override("faults.clock_skew_ppm", *skew_ppm, "--clock-skew-ppm");
    if (fault_log) file.set_override("faults.log", *fault_log, "--fault-log");
    if (replay) file.set_override("replay.file", *replay, "--replay");
    if (replay_channels) file.set_override("replay.channels", *replay_channels, "--channels");
    if (replay_file_rate) file.set_override("replay.file_rate_hz", *replay_file_rate, "--file-rate");
    if (device_id) file.set_override("sim.device_id", *device_id, "--device-id");
    settings = read_settings(file);
  } catch (const sensorgate::ConfigError& e) {
    return sensorgate::report_config_error(e);
  }
  if (common.check_config) {
    fmt::print("configuration valid ({})\n", common.config_path.empty() ? "defaults and flags" : common.config_path);
    return 0;
  }
  sensorgate::init_logging("sim", common.log_level.value_or(settings.log_level));

  try {
    if (!settings.replay.path.empty()) {
      settings.sim.replay = load_replay(settings);
      if (settings.sim.duration_s < 0) settings.sim.duration_s = 0;
    } else {
      if (settings.sim.shape.sample_rate_hz == 0) settings.sim.shape.sample_rate_hz = 256.0;
      if (settings.sim.duration_s < 0) settings.sim.duration_s = 10;
    }
    sensorgate::sim::MqttFramePublisher publisher(settings.mqtt);
    publisher.connect(std::chrono::seconds(10));
    sensorgate::sim::Simulator simulator(settings.sim, publisher);
    const auto& s = settings.sim;
    spdlog::info("sim: {} device(s) x {} ch @ {} Hz, seed {}, speed {}, duration {}, start time {} ns, to {}",
                 s.devices, simulator.shape().channels, simulator.shape().sample_rate_hz, s.seed,
                 s.speed > 0 ? fmt::format("{}x", s.speed) : "max",
                 s.duration_s > 0 ? fmt::format("{} s", s.duration_s) : "until stopped", simulator.start_time_ns(),
                 settings.mqtt.url);

    std::atomic<bool> stop{false};
    std::atomic<bool> done{false};
    std::exception_ptr failure;
    const auto started = std::chrono::steady_clock::now();
    std::thread runner([&] {
      try {
        simulator.run(stop);
      } catch (...) {
        failure = std::current_exception();
      }
      done = true;
    });
    while (!done.load()) {
      if (stop_signal.wait_for(std::chrono::milliseconds(100)) != 0) {
        spdlog::info("sim: signal received, stopping");
        stop = true;
      }
    }
    runner.join();
    if (failure) std::rethrow_exception(failure);
    publisher.finish(std::chrono::seconds(30));
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double samples = static_cast<double>(simulator.frames_per_device()) * s.devices *
                           static_cast<double>(simulator.shape().channels);
    spdlog::info("sim: published {} batches ({} frames per device, {:.1f} MB) in {:.2f} s: {:.0f} samples/s",
                 publisher.published(), simulator.frames_per_device(), static_cast<double>(publisher.bytes()) / 1e6,
                 elapsed, elapsed > 0 ? samples / elapsed : 0.0);
    if (s.faults.any_batch_faults()) {
      const auto& f = simulator.faults();
      spdlog::info("sim: injected faults (frames): dropped {}, duplicated {}, reordered {}, delayed {}",
                   f.dropped_frames, f.duplicated_frames, f.reordered_frames, f.delayed_frames);
    }
  } catch (const std::exception& e) {
    spdlog::critical("sim: {}", e.what());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return sensorgate::guarded_main(argc, argv, run);
}
