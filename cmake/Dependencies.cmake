# Every dependency comes from a Debian 12 package; scripts/install-deps.sh installs them.
# The names here are the ones that work with those packages (see docs/building.md).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS system)
find_package(PahoMqttCpp REQUIRED)
find_package(cppzmq REQUIRED)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(FlatBuffers REQUIRED CONFIG)
find_package(SQLite3 REQUIRED)
find_package(CLI11 REQUIRED CONFIG)
find_package(spdlog REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
# libsodium-dev: Ed25519 signatures and SHA-256 of pushed models.
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)

# PostgreSQL storage backend for the collector (libpqxx-dev, libpqxx 6.4 ships no CMake
# package). Off by default when cross-compiling: libpq-dev:arm64 conflicts with the amd64
# package on a multiarch host, and a gateway-side build has no use for it.
if(CMAKE_CROSSCOMPILING)
  set(_sensorgate_postgres_default OFF)
else()
  set(_sensorgate_postgres_default ON)
endif()
option(SENSORGATE_POSTGRES "Build the collector's PostgreSQL storage backend (libpqxx)" ${_sensorgate_postgres_default})
if(SENSORGATE_POSTGRES)
  pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
endif()
message(STATUS "sensorgate: PostgreSQL storage backend=${SENSORGATE_POSTGRES}")

# EDFlib (libedf-dev) ships no CMake package or pkg-config file: an imported target by hand.
find_path(SENSORGATE_EDFLIB_INCLUDE_DIR edflib.h REQUIRED)
find_library(SENSORGATE_EDFLIB_LIBRARY edf REQUIRED)
add_library(EDFlib::edf UNKNOWN IMPORTED)
set_target_properties(EDFlib::edf PROPERTIES IMPORTED_LOCATION "${SENSORGATE_EDFLIB_LIBRARY}"
                      INTERFACE_INCLUDE_DIRECTORIES "${SENSORGATE_EDFLIB_INCLUDE_DIR}")

# flatc runs on the build machine, also when cross-compiling: look for it outside the
# target's find root.
find_program(SENSORGATE_FLATC flatc REQUIRED NO_CMAKE_FIND_ROOT_PATH)

if(SENSORGATE_TESTS)
  find_package(GTest REQUIRED)
endif()
if(SENSORGATE_BENCH)
  find_package(benchmark REQUIRED)
endif()
