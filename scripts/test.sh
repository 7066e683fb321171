#!/usr/bin/env bash
# Quick start, second command: installs what is missing (Debian 12, as root), builds
# everything with the tests, and runs the whole test suite (unit + integration: a real
# mosquitto, real ZeroMQ sockets, real SQLite files, the real executables).
#
#   scripts/test.sh [extra ctest arguments, e.g. -L unit or -R end_to_end]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSENSORGATE_TESTS=ON \
  -DSENSORGATE_WERROR="${SENSORGATE_WERROR:-ON}"
cmake --build build
ctest --test-dir build --output-on-failure --timeout 600 "$@"
