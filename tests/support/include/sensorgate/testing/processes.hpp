#pragma once
// Test support: real processes on loopback. ChildProcess runs an executable with its
// output in a log file and stops it on destruction; MosquittoBroker starts a real broker on
// a free loopback port; free_tcp_port() asks the kernel for an unused port.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sensorgate::testing {

/// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// An unused TCP port on 127.0.0.1 (bound to port 0 and released).
int free_tcp_port();

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

std::string read_file(const std::filesystem::path& path);

class ChildProcess {
 public:
  /// Starts `argv[0]` (a path) with `argv`; stdout and stderr go to `log`.
  ChildProcess(std::vector<std::string> argv, std::filesystem::path log);
  ~ChildProcess();  ///< SIGKILL if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// Sends `signal`.
  void signal(int sig) const;
  /// Waits for exit up to `timeout`; returns the exit status (128 + signal when killed by
  /// one), or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  [[nodiscard]] bool running();
  [[nodiscard]] std::string log() const { return read_file(log_); }
  [[nodiscard]] pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::filesystem::path log_;
};

/// Runs a program to completion; returns its exit status and fills `output`.
int run_program(std::vector<std::string> argv, std::string& output, std::chrono::milliseconds timeout);

/// A real mosquitto on 127.0.0.1:<free port>, configured for lossless QoS 1 load.
class MosquittoBroker {
 public:
  explicit MosquittoBroker(const std::filesystem::path& dir);
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace sensorgate::testing
