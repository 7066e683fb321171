#include "sensorgate/testing/processes.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace sensorgate::testing {

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = std::filesystem::temp_directory_path() / ("sensorgate-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

ChildProcess::ChildProcess(std::vector<std::string> argv, std::filesystem::path log) : log_(std::move(log)) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // The test runner may block signals; children must see SIGINT/SIGTERM normally.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const int rc = posix_spawn(&pid_, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::system_category().message(rc));
}

ChildProcess::~ChildProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(5));
  }
}

void ChildProcess::signal(int sig) const {
  ::kill(pid_, sig);
}

bool ChildProcess::running() {
  if (status_ != -1) return false;
  int raw = 0;
  if (::waitpid(pid_, &raw, WNOHANG) == pid_) {
    status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    return false;
  }
  return true;
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  wait_until([this] { return !running(); }, timeout);
  return status_;
}

int run_program(std::vector<std::string> argv, std::string& output, std::chrono::milliseconds timeout) {
  TempDir dir;
  const auto log = dir.path() / "output.log";
  int status = -1;
  {
    ChildProcess child(std::move(argv), log);
    status = child.wait(timeout);
  }
  output = read_file(log);
  return status;
}

MosquittoOptions& MosquittoOptions::tls(std::filesystem::path ca_file, std::filesystem::path cert_file,
                                        std::filesystem::path key_file) {
  ca_file_ = std::move(ca_file);
  cert_file_ = std::move(cert_file);
  key_file_ = std::move(key_file);
  return *this;
}

MosquittoOptions& MosquittoOptions::require_client_certificate(bool on) {
  require_client_certificate_ = on;
  return *this;
}

MosquittoOptions& MosquittoOptions::password_file(std::filesystem::path file) {
  password_file_ = std::move(file);
  return *this;
}

MosquittoOptions& MosquittoOptions::persistence(std::filesystem::path dir) {
  persistence_dir_ = std::move(dir);
  return *this;
}

std::string MosquittoOptions::config_text(int port) const {
  std::ostringstream conf;
  conf << "per_listener_settings false\n"
       << "listener " << port << " 127.0.0.1\n";
  if (uses_tls()) {
    conf << "cafile " << ca_file_.string() << "\ncertfile " << cert_file_.string() << "\nkeyfile " << key_file_.string()
         << "\nrequire_certificate " << (require_client_certificate_ ? "true" : "false") << "\n";
  }
  if (password_file_.empty()) {
    conf << "allow_anonymous true\n";
  } else {
    conf << "allow_anonymous false\npassword_file " << password_file_.string() << "\n";
  }
  if (persistence_dir_.empty()) {
    conf << "persistence false\n";
  } else {
    // Saved when the broker stops (SIGTERM) and read back when it starts. Started as root,
    // mosquitto drops to user "mosquitto", which cannot write into our private temp dir.
    conf << "persistence true\npersistence_location " << persistence_dir_.string() << "/\n";
    if (geteuid() == 0) conf << "user root\n";
  }
  conf << "max_queued_messages 0\nmax_inflight_messages 0\n";
  return conf.str();
}

MosquittoBroker::MosquittoBroker(std::filesystem::path dir, MosquittoOptions options)
    : dir_(std::move(dir)), options_(std::move(options)), port_(free_tcp_port()) {
  std::ofstream(dir_ / "mosquitto.conf") << options_.config_text(port_);
  start();
}

std::string MosquittoBroker::url() const {
  return (options_.uses_tls() ? "ssl://127.0.0.1:" : "tcp://127.0.0.1:") + std::to_string(port_);
}

void MosquittoBroker::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  process_->wait(std::chrono::seconds(10));
  process_.reset();
}

void MosquittoBroker::start() {
  stop();
  // A fresh log per start, so a test reading it sees this run only.
  log_ = dir_ / ("mosquitto-" + std::to_string(++starts_) + ".log");
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/sbin/mosquitto", "-c", (dir_ / "mosquitto.conf").string()}, log_);
  const bool up = wait_until(
      [this] {
        if (!process_->running()) return false;
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<std::uint16_t>(port_));
        const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        ::close(fd);
        return ok;
      },
      std::chrono::seconds(10));
  if (!up) throw std::runtime_error("mosquitto did not start: " + read_file(log_));
}

}  // namespace sensorgate::testing
