#include "sensorgate/testing/postgres_server.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace sensorgate::testing {
namespace {

using namespace std::chrono_literals;

/// The newest /usr/lib/postgresql/<version>/bin (Debian's layout) holding initdb and
/// pg_ctl; empty when PostgreSQL's server package is not installed.
std::filesystem::path find_bin_dir() {
  std::vector<std::filesystem::path> candidates;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    candidates.push_back(entry.path() / "bin");
  }
  // Version directories are numbers: compare numerically so that 16 beats 9.6.
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    return std::strtod(a.parent_path().filename().c_str(), nullptr) >
           std::strtod(b.parent_path().filename().c_str(), nullptr);
  });
  for (const auto& dir : candidates) {
    if (std::filesystem::exists(dir / "initdb") && std::filesystem::exists(dir / "pg_ctl") &&
        std::filesystem::exists(dir / "createdb")) {
      return dir;
    }
  }
  return {};
}

}  // namespace

PostgresServer::PostgresServer() : bin_dir_(find_bin_dir()), as_postgres_user_(::geteuid() == 0) {
  if (bin_dir_.empty()) {
    throw std::runtime_error(
        "PostgreSQL server binaries (initdb, pg_ctl, createdb under /usr/lib/postgresql/<version>/bin) not found: "
        "run scripts/install-deps.sh (it installs the postgresql package)");
  }
  if (as_postgres_user_) {
    passwd entry{};
    passwd* user = nullptr;
    std::vector<char> buffer(16384);
    if (::getpwnam_r("postgres", &entry, buffer.data(), buffer.size(), &user) != 0 || user == nullptr) {
      throw std::runtime_error(
          "running as root, and there is no 'postgres' user to run the PostgreSQL server as (PostgreSQL refuses "
          "root): run scripts/install-deps.sh (the postgresql package creates the user)");
    }
    if (::chown(dir_.path().c_str(), user->pw_uid, user->pw_gid) != 0) {
      throw std::system_error(errno, std::generic_category(), "chown " + dir_.path().string() + " to postgres");
    }
  }
  const auto data = (dir_.path() / "data").string();
  run("initdb", "initdb", {"-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"});
  port_ = free_tcp_port();
  // No durability (the data dies with the test) and no background noise.
  const std::string options = "-p " + std::to_string(port_) + " -k " + dir_.path().string() +
                              " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                              " -c full_page_writes=off -c max_connections=50";
  run("pg_ctl start", "pg_ctl",
      {"-D", data, "-l", (dir_.path() / "postgres.log").string(), "-w", "-t", "30", "-o", options, "start"});
  started_ = true;
}

PostgresServer::~PostgresServer() {
  if (!started_) return;
  try {
    run("pg_ctl stop", "pg_ctl", {"-D", (dir_.path() / "data").string(), "-m", "fast", "-w", "stop"});
  } catch (const std::exception&) {
    // Nothing to do in a destructor: the TempDir goes anyway; the log said why.
  }
}

std::string PostgresServer::url(const std::string& name) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

std::string PostgresServer::create_database(const std::string& name) {
  run("createdb " + name, "createdb", {"-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "postgres", name});
  return url(name);
}

std::string PostgresServer::run(const std::string& what, const std::string& program,
                                std::vector<std::string> args) const {
  std::vector<std::string> argv;
  if (as_postgres_user_) argv = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  argv.push_back((bin_dir_ / program).string());
  argv.insert(argv.end(), args.begin(), args.end());
  std::string output;
  const int status = run_program(argv, output, 60s);
  if (status != 0) {
    throw std::runtime_error("PostgreSQL " + what + " failed (exit " + std::to_string(status) + "): " + output +
                             "\nserver log:\n" + log());
  }
  return output;
}

}  // namespace sensorgate::testing
