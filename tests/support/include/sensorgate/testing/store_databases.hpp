#pragma once
// Fresh databases of each storage backend of the collector, for tests that run against
// all of them (see store_backend_test.hpp for the GoogleTest fixture built on this).

#include <memory>
#include <string>
#include <vector>

#include "sensorgate/testing/postgres_server.hpp"
#include "sensorgate/testing/processes.hpp"

namespace sensorgate::testing {

enum class StoreBackend { kSqlite, kPostgres };

/// "Sqlite" or "Postgres" (usable as a GoogleTest parameter name).
std::string backend_name(StoreBackend backend);

/// The backends this build of the collector has: SQLite always, PostgreSQL when it was
/// built with it (-DSENSORGATE_POSTGRES=ON, the default except when cross-compiling).
std::vector<StoreBackend> store_backends();

/// Fresh, empty databases: SQLite files in a TempDir, or databases on one PostgresServer,
/// started on the first request for one (so a suite that asks for SQLite only starts no
/// server). Not thread-safe.
class TestDatabases {
 public:
  TestDatabases() = default;
  ~TestDatabases();
  TestDatabases(const TestDatabases&) = delete;
  TestDatabases& operator=(const TestDatabases&) = delete;

  /// A URL for open_store() and `sensorgate-collector --db`: a path to a SQLite file that
  /// does not exist yet, or postgresql://postgres@127.0.0.1:<port>/<new empty database>.
  /// Throws std::runtime_error when the PostgreSQL server cannot start.
  std::string fresh(StoreBackend backend);
  /// The PostgreSQL server, started on first use.
  PostgresServer& postgres();

 private:
  TempDir dir_;
  std::unique_ptr<PostgresServer> postgres_;
  int next_ = 0;
};

}  // namespace sensorgate::testing
