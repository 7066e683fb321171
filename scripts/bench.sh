#!/usr/bin/env bash
# Builds the benchmarks (Release, own build directory) and runs them; JSON results go to
# bench-results/ (docs/benchmarks.md explains each figure). Not part of CI: run it on a
# quiet machine, as root on Debian 12 (it installs what is missing first).
#
#   scripts/bench.sh [ring|pipeline|moments|scoring|harness ...]   (default: all of them)
#   HEADSETS=250,500,1000 DURATION=20 scripts/bench.sh harness
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSENSORGATE_BENCH=ON -DSENSORGATE_TESTS=OFF \
  -DSENSORGATE_WERROR="${SENSORGATE_WERROR:-OFF}"
cmake --build build-bench
mkdir -p bench-results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
repetitions=${REPETITIONS:-5}

run_benchmark() {
  local name=$1
  shift
  echo "bench: $name ($repetitions repetitions, medians in bench-results/$name-$stamp.json)"
  "build-bench/bench/$name" --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true \
    --benchmark_out="bench-results/$name-$stamp.json" --benchmark_out_format=json "$@"
}

for what in "${@:-ring pipeline moments scoring harness}"; do
  for item in $what; do
    case $item in
      ring) run_benchmark bench_spsc_ring --benchmark_min_time=0.3 --benchmark_enable_random_interleaving=true ;;
      pipeline) run_benchmark bench_pipeline --benchmark_min_time=0.5 ;;
      moments) run_benchmark bench_moments ;;
      scoring) run_benchmark bench_scoring --benchmark_min_time=0.3 ;;
      harness)
        echo "bench: load harness (headsets ${HEADSETS:-250,500,1000}, ${DURATION:-20} s each)"
        build-bench/bench/sensorgate-load-harness --bin-dir build-bench --headsets "${HEADSETS:-250,500,1000}" \
          --duration "${DURATION:-20}" --sim-processes "${SIM_PROCESSES:-2}" \
          --batch-frames "${BATCH_FRAMES:-32}" >"bench-results/load-harness-$stamp.json"
        cat "bench-results/load-harness-$stamp.json"
        ;;
      *)
        echo "bench: unknown benchmark '$item' (ring|pipeline|moments|scoring|harness)" >&2
        exit 2
        ;;
    esac
  done
done
