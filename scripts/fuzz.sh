#!/usr/bin/env bash
# Runs the libFuzzer targets in fuzz/ (docs/fuzzing.md). Build them first:
#   CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
#     -DSENSORGATE_FUZZ=ON -DSENSORGATE_TESTS=OFF -DSENSORGATE_CUDA=OFF -DSENSORGATE_WEB=OFF -DSENSORGATE_POSTGRES=OFF
#   cmake --build build-fuzz --target fuzz_all
#
#   scripts/fuzz.sh smoke [SECONDS]  replay fuzz/regressions, then fuzz each target SECONDS (default 10)
#                                    on a copy of its seeds; fails on any crash or sanitizer report
#   scripts/fuzz.sh long [EXECS]     fuzz each target EXECS runs (default 10000000) in all, split
#                                    over FUZZ_JOBS processes (default: the number of cores) that
#                                    share one corpus, each at most FUZZ_MAX_TIME seconds (default
#                                    480); writes a row per target into docs/fuzzing.md's table
#   scripts/fuzz.sh replay           run every file of fuzz/regressions/<target>/ through its target
#   scripts/fuzz.sh corpus           regenerate the committed seeds in fuzz/corpus/ (fuzz_make_corpus)
#
# Environment: FUZZ_BUILD (build directory, default build-fuzz), FUZZ_TARGETS (a subset,
# space-separated), FUZZ_WORK (working directory for corpora, logs and crash files; default
# a fresh one under /tmp, kept when something crashed), FUZZ_TMPDIR (where the recording and
# spool targets write their scratch files, default /dev/shm: a file system in memory makes
# them three times faster than a disk).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

ALL_TARGETS=(frame_batch uplink_message model_envelope serial_framing openbci_packet recording config spool_records
  label_message)
read -r -a targets <<<"${FUZZ_TARGETS:-${ALL_TARGETS[*]}}"
build=${FUZZ_BUILD:-build-fuzz}
[[ $build = /* ]] || build=$root/$build
bin=$build/fuzz
results_doc=$root/docs/fuzzing.md
tmp_default=/dev/shm
[[ -d $tmp_default && -w $tmp_default ]] || tmp_default=/tmp
export TMPDIR=${FUZZ_TMPDIR:-$tmp_default}

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

need_binaries() {
  local t
  for t in "${targets[@]}" make_corpus; do
    if [[ ! -x $bin/fuzz_$t ]]; then
      echo "fuzz: $bin/fuzz_$t is missing: build the fuzz_all target (see $0 --help)" >&2
      exit 2
    fi
  done
}

work_dir() {
  if [[ -n ${FUZZ_WORK:-} ]]; then
    mkdir -p "$FUZZ_WORK"
    work=$FUZZ_WORK
  else
    work=$(mktemp -d /tmp/sensorgate-fuzz.XXXXXX)
  fi
}

# The corpus a run starts from: the committed seeds plus freshly generated ones (so a
# schema change never leaves a target with only stale seeds).
prepare_corpus() {
  local t=$1
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  if [[ -d $root/fuzz/corpus/$t ]]; then cp -R "$root/fuzz/corpus/$t/." "$work/corpus/$t/"; fi
  if [[ ! -d $work/generated ]]; then "$bin/fuzz_make_corpus" "$work/generated" "$root" >/dev/null; fi
  if [[ -d $work/generated/$t ]]; then cp -R "$work/generated/$t/." "$work/corpus/$t/"; fi
}

dict_args() {
  local t=$1
  if [[ -f $root/fuzz/dict/$t.dict ]]; then echo "-dict=$root/fuzz/dict/$t.dict"; fi
}

stat_of() {  # stat_of LOG NAME: a value of libFuzzer's -print_final_stats lines
  sed -n "s/^stat::$2: *//p" "$1" | tail -n 1
}

# Runs every reproducer in fuzz/regressions/<target>/ once; fails if any crashes again.
replay() {
  local failed=0 t files
  for t in "${targets[@]}"; do
    [[ -d $root/fuzz/regressions/$t ]] || continue
    mapfile -t files < <(find "$root/fuzz/regressions/$t" -type f ! -name '*.md' | sort)
    [[ ${#files[@]} -gt 0 ]] || continue
    if "$bin/fuzz_$t" "${files[@]}" >"$work/replay-$t.log" 2>&1; then
      printf 'replay %-15s %3d reproducer(s): ok\n' "$t" "${#files[@]}"
    else
      printf 'replay %-15s %3d reproducer(s): FAILED (log: %s)\n' "$t" "${#files[@]}" "$work/replay-$t.log"
      tail -n 30 "$work/replay-$t.log" >&2
      failed=1
    fi
  done
  return $failed
}

# fuzz_one WORKERS TARGET ARGS...: WORKERS libFuzzer processes on the target's one corpus
# (each picks up the others' finds, -reload); sets rc (the first non-zero exit), execs and
# rate (sums over the workers) and secs (wall time).
fuzz_one() {
  local workers=$1 t=$2
  shift 2
  prepare_corpus "$t"
  local start end i
  local -a pids=()
  start=$(date +%s.%N)
  for ((i = 0; i < workers; i++)); do
    # shellcheck disable=SC2046
    "$bin/fuzz_$t" "$work/corpus/$t" $(dict_args "$t") -artifact_prefix="$work/artifacts/$t/" \
      -print_final_stats=1 -timeout=25 -rss_limit_mb=2560 "$@" >"$work/$t.$i.log" 2>&1 &
    pids+=($!)
  done
  rc=0
  for i in "${!pids[@]}"; do
    local code=0
    wait "${pids[$i]}" || code=$?
    if [[ $rc -eq 0 && $code -ne 0 ]]; then rc=$code; fi
  done
  end=$(date +%s.%N)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
  execs=0
  rate=0
  for ((i = 0; i < workers; i++)); do
    execs=$((execs + $(stat_of "$work/$t.$i.log" number_of_executed_units | grep . || echo 0)))
    rate=$((rate + $(stat_of "$work/$t.$i.log" average_exec_per_sec | grep . || echo 0)))
  done
}

report_crash() {
  local t=$1 log
  echo "fuzz: $t: crash or sanitizer report (exit $rc); logs $work/$t.*.log, input(s):" >&2
  find "$work/artifacts/$t" -type f -printf '  %p\n' >&2
  for log in "$work/$t".*.log; do
    grep -m 1 -E 'ERROR: |runtime error|fuzz invariant failed|deadly signal' "$log" >&2 || true
  done
}

smoke() {
  local seconds=${1:-10} failed=0 t
  need_binaries
  work_dir
  echo "fuzz smoke: ${#targets[@]} targets, ${seconds} s each; work dir $work"
  replay || failed=1
  printf '%-15s %12s %10s %8s  %s\n' target executions exec/s corpus result
  for t in "${targets[@]}"; do
    fuzz_one 1 "$t" -max_total_time="$seconds"
    local corpus result=ok
    corpus=$(find "$work/corpus/$t" -type f | wc -l)
    if [[ $rc -ne 0 ]]; then result="CRASH (exit $rc)"; failed=1; fi
    printf '%-15s %12s %10s %8s  %s\n' "$t" "$execs" "$rate" "$corpus" "$result"
    [[ $rc -eq 0 ]] || report_crash "$t"
  done
  if [[ $failed -ne 0 ]]; then
    echo "fuzz smoke: FAILED (work dir kept: $work)" >&2
    return 1
  fi
  [[ -n ${FUZZ_WORK:-} ]] || rm -rf "$work"
  echo "fuzz smoke: ok"
}

# Replaces the target's row in the results table of docs/fuzzing.md (between the markers).
record_row() {
  local t=$1 row=$2 tmp
  tmp=$(mktemp)
  awk -v target="$t" -v row="$row" '
    /<!-- fuzz-results:end -->/ { if (!done) print row; done = 1; inside = 0 }
    inside && index($0, "| `" target "` |") == 1 { if (!done) print row; done = 1; next }
    { print }
    /<!-- fuzz-results:begin -->/ { inside = 1 }
  ' "$results_doc" >"$tmp"
  cat "$tmp" >"$results_doc"
  rm -f "$tmp"
}

long() {
  local runs=${1:-10000000} max_time=${FUZZ_MAX_TIME:-480} jobs=${FUZZ_JOBS:-$(nproc)} failed=0 t commit date
  need_binaries
  work_dir
  grep -q '<!-- fuzz-results:begin -->' "$results_doc" || { echo "fuzz: no results table in $results_doc" >&2; exit 2; }
  commit=$(git rev-parse --short=12 HEAD)
  # The results table this run writes into does not count as a change to what is fuzzed.
  [[ -z $(git status --porcelain --untracked-files=no -- . ':!docs/fuzzing.md') ]] || commit="$commit+changes"
  echo "fuzz long: ${#targets[@]} targets, $runs runs each over $jobs process(es) (at most $max_time s); work dir $work"
  for t in "${targets[@]}"; do
    fuzz_one "$jobs" "$t" -runs="$(((runs + jobs - 1) / jobs))" -max_total_time="$max_time"
    local corpus crashes=0 shown_execs
    corpus=$(find "$work/corpus/$t" -type f | wc -l)
    if [[ $rc -ne 0 ]]; then
      crashes=$(find "$work/artifacts/$t" -type f | wc -l)
      [[ $crashes -gt 0 ]] || crashes=1
      failed=1
      report_crash "$t"
    fi
    shown_execs=$(sed ':a; s/\B[0-9]\{3\}\>/,&/; ta' <<<"$execs")  # 1234567 -> 1,234,567
    if [[ $rc -eq 0 && $execs -lt $runs ]]; then shown_execs="$shown_execs (stopped at the ${max_time} s cap)"; fi
    date=$(date -u +%Y-%m-%d)
    record_row "$t" "| \`$t\` | $shown_execs | $jobs | $rate | $secs s | $crashes | $corpus | $date | $commit |"
    printf '%-15s %14s execs %8s exec/s %6s s  crashes %s  corpus %s\n' "$t" "$execs" "$rate" "$secs" "$crashes" "$corpus"
  done
  [[ $failed -eq 0 ]] || { echo "fuzz long: crashes found (work dir kept: $work)" >&2; return 1; }
  echo "fuzz long: done; results in docs/fuzzing.md (corpora in $work)"
}

corpus() {
  need_binaries
  rm -rf "$root/fuzz/corpus"
  "$bin/fuzz_make_corpus" "$root/fuzz/corpus" "$root"
  echo "fuzz: wrote $(find "$root/fuzz/corpus" -type f | wc -l) seeds into fuzz/corpus/"
}

case "${1:-}" in
  smoke) shift; smoke "$@" ;;
  long) shift; long "$@" ;;
  replay) need_binaries; work_dir; replay ;;
  corpus) corpus ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
