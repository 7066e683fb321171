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

/// How a MosquittoBroker listens; built in option-builder style, e.g.
/// `MosquittoOptions().tls(ca, cert, key).require_client_certificate().password_file(p)`.
class MosquittoOptions {
 public:
  /// A TLS listener with this CA (which signs accepted client certificates) and server
  /// certificate and key (PEM files the broker's user must be able to read).
  MosquittoOptions& tls(std::filesystem::path ca_file, std::filesystem::path cert_file, std::filesystem::path key_file);
  /// Clients must present a certificate signed by the CA (mutual TLS).
  MosquittoOptions& require_client_certificate(bool on = true);
  /// Only users in this mosquitto_passwd file may connect; anonymous clients are refused.
  MosquittoOptions& password_file(std::filesystem::path file);
  /// Keep sessions and queued messages in `dir` across a restart (off by default).
  MosquittoOptions& persistence(std::filesystem::path dir);

  [[nodiscard]] bool uses_tls() const { return !ca_file_.empty(); }
  /// The mosquitto.conf text for a listener on `port`.
  [[nodiscard]] std::string config_text(int port) const;

 private:
  std::filesystem::path ca_file_;
  std::filesystem::path cert_file_;
  std::filesystem::path key_file_;
  bool require_client_certificate_ = false;
  std::filesystem::path password_file_;
  std::filesystem::path persistence_dir_;
};

/// A real mosquitto on 127.0.0.1:<free port>, configured for lossless QoS 1 load, without
/// broker persistence unless MosquittoOptions::persistence asks for it (without it a
/// restart forgets sessions, as a development broker does).
class MosquittoBroker {
 public:
  explicit MosquittoBroker(std::filesystem::path dir, MosquittoOptions options = {});
  [[nodiscard]] int port() const { return port_; }
  /// ssl://127.0.0.1:<port> for a TLS listener, tcp://127.0.0.1:<port> otherwise.
  [[nodiscard]] std::string url() const;
  /// Stops the broker (SIGTERM, then waits for it to exit).
  void stop();
  /// Starts it again on the same port and waits until it accepts connections.
  void start();
  [[nodiscard]] std::string log() const { return read_file(log_); }

 private:
  std::filesystem::path dir_;
  std::filesystem::path log_;
  MosquittoOptions options_;
  int port_;
  int starts_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace sensorgate::testing
