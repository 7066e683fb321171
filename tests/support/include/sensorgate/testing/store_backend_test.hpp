#pragma once
// A GoogleTest fixture for tests that run against every storage backend of the collector:
// one TestDatabases per suite (so one PostgreSQL server, started when the first PostgreSQL
// test runs and stopped after the suite) and a fresh database per test, e.g.
//
//   class Spool : public testing::StoreBackendTest {};
//   TEST_P(Spool, ...) { ... "--db", url() ...; testing::read_window_rows(url()) ... }
//   INSTANTIATE_TEST_SUITE_P(Store, Spool, ::testing::ValuesIn(testing::store_backends()),
//                            testing::StoreBackendTest::name);
//
// Header-only: include it from test sources (it needs GoogleTest), not from the library.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "sensorgate/testing/store_databases.hpp"

namespace sensorgate::testing {

class StoreBackendTest : public ::testing::TestWithParam<StoreBackend> {
 public:
  /// Names the instantiated tests .../Sqlite and .../Postgres.
  static std::string name(const ::testing::TestParamInfo<StoreBackend>& backend) { return backend_name(backend.param); }

 protected:
  static void SetUpTestSuite() { databases() = std::make_unique<TestDatabases>(); }
  static void TearDownTestSuite() { databases().reset(); }
  void SetUp() override { url_ = databases()->fresh(GetParam()); }

  /// This test's fresh database, as open_store() and `sensorgate-collector --db` take it.
  [[nodiscard]] const std::string& url() const { return url_; }
  [[nodiscard]] bool postgres() const { return GetParam() == StoreBackend::kPostgres; }
  /// The suite's databases (more fresh ones, or the PostgreSQL server itself).
  static std::unique_ptr<TestDatabases>& databases() {
    static std::unique_ptr<TestDatabases> instance;
    return instance;
  }

 private:
  std::string url_;
};

}  // namespace sensorgate::testing
