#pragma once
// StopSignal: SIGINT/SIGTERM handling for the executables' main threads.
//
// The constructor blocks both signals in the calling thread before any other thread is
// started, so every thread inherits the mask and the signals stay pending until the main
// thread collects them with wait_for(). No async-signal-safety concerns, no global flags.

#include <chrono>
#include <csignal>
#include <optional>

namespace sensorgate {

class StopSignal {
 public:
  /// Blocks SIGINT and SIGTERM in the calling thread; construct before starting threads.
  StopSignal();

  /// Waits for SIGINT/SIGTERM or until `timeout` passes (forever when empty).
  /// Returns the signal number, or 0 when the timeout passed first.
  [[nodiscard]] int wait_for(std::optional<std::chrono::milliseconds> timeout) const;

 private:
  sigset_t signals_{};
};

}  // namespace sensorgate
