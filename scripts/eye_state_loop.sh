#!/usr/bin/env bash
# The seed's loop end to end on real data (UCI "EEG Eye State", 14 channels at 128 Hz,
# ../shared/data/uci-eeg-eye-state/): replay the first 70 % with its labels through
# sim -> mosquitto -> gateway -> collector, train a logistic regression on the stored
# windows, sign it and push it to the gateway, replay the remaining 30 % (the same device
# resuming), and report the live accuracy the gateway achieved next to scikit-learn's on
# the same windows (scripts/eye_state_compare.py). Everything runs on loopback, on free
# ports, in a temporary directory, and is stopped at exit.
#
# Usage: scripts/eye_state_loop.sh [--build-dir DIR] [--keep DIR]
#   --build-dir  where sensorgate-sim/-gateway/-collector were built (default: build)
#   --keep       keep the run's files (logs, database, model) in DIR instead of a temp dir
# Prints one JSON object (the comparison) on stdout; progress goes to stderr.
set -euo pipefail

build=build
keep=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "eye_state_loop: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/../shared/data/uci-eeg-eye-state/EEG Eye State.arff"
sim="$build/firmware_sim/sensorgate-sim"
gateway="$build/gateway/sensorgate-gateway"
collector="$build/uplink/sensorgate-collector"
for f in "$sim" "$gateway" "$collector"; do
  [[ -x $f ]] || { echo "eye_state_loop: $f not found; build first (cmake --build $build)" >&2; exit 2; }
done
[[ -f $data ]] || { echo "eye_state_loop: $data not found" >&2; exit 2; }

if [[ -n $keep ]]; then
  dir=$(mkdir -p "$keep" && cd "$keep" && pwd)
else
  dir=$(mktemp -d)
fi
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n $keep ]] || rm -rf "$dir"
}
trap cleanup EXIT
log() { echo "eye_state_loop: $*" >&2; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits until a command succeeds, up to $1 seconds.
wait_for() {
  local seconds=$1; shift
  for _ in $(seq $((seconds * 10))); do "$@" && return 0; sleep 0.1; done
  return 1
}
stat_of() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))' "$dir/stats.json" "$1" 2>/dev/null || echo 0; }

mqtt_port=$(free_port)
uplink_port=$(free_port)
cat > "$dir/mosquitto.conf" <<EOF
listener $mqtt_port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_inflight_messages 0
EOF
mosquitto -c "$dir/mosquitto.conf" > "$dir/mosquitto.log" 2>&1 &
pids+=($!)

"$collector" keygen --out "$dir/keys" > /dev/null
db="$dir/collector.sqlite"
"$collector" --bind "tcp://127.0.0.1:$uplink_port" --db "$db" > "$dir/collector.log" 2>&1 &
pids+=($!)

# Sliding 1 s windows every 250 ms: about 470 labelled windows from the 117 s recording.
cat > "$dir/gateway.toml" <<EOF
[windows]
length_ms = 1000
slide_ms = 250
allowed_lateness_ms = 0
[model]
verify_key = "$dir/keys/model-signing.pub"
[log]
stats_interval_s = 1
EOF
"$gateway" --config "$dir/gateway.toml" --mqtt "tcp://127.0.0.1:$mqtt_port" --uplink "tcp://127.0.0.1:$uplink_port" \
  --gateway-id gw-eye --idle-timeout-ms 1000 --stats-json "$dir/stats.json" > "$dir/gateway.log" 2>&1 &
pids+=($!)
wait_for 20 grep -q "subscribed to" "$dir/gateway.log" || { log "gateway did not start:"; cat "$dir/gateway.log" >&2; exit 1; }

# The recording's frames: 70 % train (by time), the rest is classified live.
frames=$(grep -c '^[0-9-]' "$data")
rate=128
start_ns=1700000000000000000
train_frames=$((frames * 7 / 10))
train_s=$(/usr/bin/python3 -c "print($train_frames / $rate)")
split_ns=$((start_ns + train_frames * 1000000000 / rate))
replay=(--mqtt "tcp://127.0.0.1:$mqtt_port" --replay "$data" --file-rate $rate --devices 1 --device-id uci-eye
        --publish-labels --speed max --start-time-ns $start_ns)

log "replaying the first $train_frames of $frames frames with labels"
"$sim" "${replay[@]}" --duration "$train_s" > "$dir/sim-train.log" 2>&1
windows_stored() { [[ $(sqlite3 "$db" "SELECT count(DISTINCT window_start_ns) FROM windows WHERE window_end_ns <= $split_ns") -ge $1 ]]; }
train_windows=$(( (train_frames * 4 / rate) - 3 ))
wait_for 60 windows_stored $train_windows || { log "only $(sqlite3 "$db" 'SELECT count(DISTINCT window_start_ns) FROM windows') windows stored"; exit 1; }

log "training a logistic regression on the windows before the split"
"$collector" train --db "$db" --kind logistic --to $split_ns --test-fraction 0 \
  --signing-key "$dir/keys/model-signing.key" --push gw-eye > "$dir/train.txt" 2>"$dir/train.log"
cat "$dir/train.txt" >&2
model_live() { [[ $(stat_of model_version) -ge 1 ]]; }
wait_for 10 model_live || { log "the gateway did not put the model live:"; tail -5 "$dir/gateway.log" >&2; exit 1; }

log "replaying the remaining $((frames - train_frames)) frames; the gateway classifies them live"
"$sim" "${replay[@]}" --replay-skip "$train_s" > "$dir/sim-live.log" 2>&1
live_windows=$(( ((frames - train_frames) * 4 / rate) - 3 ))
classified() { [[ $(sqlite3 "$db" "SELECT count(DISTINCT window_start_ns) FROM windows WHERE model_version > 0") -ge $1 ]]; }
wait_for 60 classified $live_windows || { log "only $(stat_of windows_classified) windows classified"; exit 1; }
sleep 2  # the last windows close at the idle timeout

"$collector" models --db "$db" >&2
/usr/bin/python3 "$root/scripts/eye_state_compare.py" --db "$db" --split-ns $split_ns
