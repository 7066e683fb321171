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

# flatc runs on the build machine, also when cross-compiling: look for it outside the
# target's find root.
find_program(SENSORGATE_FLATC flatc REQUIRED NO_CMAKE_FIND_ROOT_PATH)

if(SENSORGATE_TESTS)
  find_package(GTest REQUIRED)
endif()
if(SENSORGATE_BENCH)
  find_package(benchmark REQUIRED)
endif()
