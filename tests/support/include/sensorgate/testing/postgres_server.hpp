#pragma once
// PostgresServer: a throwaway PostgreSQL server for tests, on 127.0.0.1:<free port> with
// its data directory and socket in a TempDir, trust authentication for user "postgres",
// and durability off (fsync=off): fast, and nothing outlives the test. Each test gets a
// fresh database from create_database(), so one server can serve a whole suite.
//
// PostgreSQL refuses to run as root: when the tests run as root, the server's commands run
// as the "postgres" system user (runuser), which owns the directory.

#include <filesystem>
#include <string>

#include "sensorgate/testing/processes.hpp"

namespace sensorgate::testing {

class PostgresServer {
 public:
  /// initdb and start; throws std::runtime_error (with the server's log) on failure, and
  /// names scripts/install-deps.sh when the PostgreSQL binaries are not installed.
  PostgresServer();
  ~PostgresServer();  ///< pg_ctl stop -m fast
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  /// Creates database `name` (letters, digits, underscores) and returns its URL,
  /// postgresql://postgres@127.0.0.1:<port>/<name>. Throws when it exists or fails.
  std::string create_database(const std::string& name);
  /// The URL of database `name` (which need not exist).
  [[nodiscard]] std::string url(const std::string& name) const;
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string log() const { return read_file(dir_.path() / "postgres.log"); }

 private:
  /// Runs one of the server's programs (as "postgres" when we are root); returns its output
  /// and throws naming `what` when it fails.
  std::string run(const std::string& what, const std::string& program, std::vector<std::string> args) const;

  TempDir dir_;
  std::filesystem::path bin_dir_;
  bool as_postgres_user_ = false;
  int port_ = 0;
  bool started_ = false;
};

}  // namespace sensorgate::testing
