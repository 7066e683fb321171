#pragma once
// ProgressLine: how far a simulator run is, as one line a person can read: a bar and
// percentage when the run's length is known (a duration or a replayed file), the signal
// time sent and the speed against real time. On a terminal the line is redrawn in place a
// few times a second; otherwise (logs, CI) it is logged every `log_interval`.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace sensorgate::sim {

class ProgressLine {
 public:
  /// `total_frames`: frames per device the run will send, 0 when it runs until stopped.
  ProgressLine(std::uint64_t total_frames, double sample_rate_hz, std::FILE* terminal,
               std::chrono::seconds log_interval = std::chrono::seconds(10));

  /// Called often; draws or logs when it is time. `frames`: frames per device sent so far.
  void update(std::uint64_t frames, std::chrono::duration<double> elapsed);
  /// Draws the final state and ends the terminal line.
  void finish(std::uint64_t frames, std::chrono::duration<double> elapsed);

  /// The line itself, e.g. "[#########-----------]  45.0%  4.5/10.0 s  1.0x real time".
  [[nodiscard]] std::string render(std::uint64_t frames, std::chrono::duration<double> elapsed) const;

 private:
  std::uint64_t total_frames_;
  double sample_rate_hz_;
  std::FILE* terminal_;  // nullptr: not a terminal, log instead
  std::chrono::seconds log_interval_;
  std::chrono::duration<double> last_shown_{-1e9};
};

}  // namespace sensorgate::sim
