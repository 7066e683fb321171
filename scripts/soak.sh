#!/usr/bin/env bash
# The soak run with fault injection (docs/soak.md), outside CI: builds the harness
# (Release, build-bench) and runs it. Defaults: 100 headsets at 4x real time for 30 min
# with the collector killed every 2 min (15 s outages fill the spool's 4 MB tmpfs), the
# gateway killed every 5 min, the broker restarted every 7 min, and a compute-backend
# failure injected. Needs root (the tmpfs) and ends with the report's table.
#
#   scripts/soak.sh [sensorgate-soak options, e.g. --duration-s 600 --headsets 40]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSENSORGATE_BENCH=ON -DSENSORGATE_TESTS=OFF >/dev/null
cmake --build build-bench --target sensorgate-soak sensorgate-gateway sensorgate-collector sensorgate-sim
work=$(mktemp -d /tmp/sensorgate-soak.XXXXXX)
report=$work/report.md
build-bench/bench/sensorgate-soak --bin-dir build-bench --work-dir "$work" --report "$report" "$@" | tee "$work/report.json"
echo
cat "$report"
