#include "sensorgate/testing/store_databases.hpp"

namespace sensorgate::testing {

std::string backend_name(StoreBackend backend) {
  return backend == StoreBackend::kSqlite ? "Sqlite" : "Postgres";
}

std::vector<StoreBackend> store_backends() {
#ifdef SENSORGATE_HAVE_POSTGRES
  return {StoreBackend::kSqlite, StoreBackend::kPostgres};
#else
  return {StoreBackend::kSqlite};
#endif
}

TestDatabases::~TestDatabases() = default;

PostgresServer& TestDatabases::postgres() {
  if (!postgres_) postgres_ = std::make_unique<PostgresServer>();
  return *postgres_;
}

std::string TestDatabases::fresh(StoreBackend backend) {
  const std::string name = "test_" + std::to_string(++next_);
  if (backend == StoreBackend::kSqlite) return (dir_.path() / (name + ".sqlite")).string();
  return postgres().create_database(name);
}

}  // namespace sensorgate::testing
