#!/usr/bin/env bash
# Quick start, first command: installs what is missing (Debian 12, as root), builds, and
# runs the whole pipeline on this machine:
#
#   mosquitto (free loopback port) <- sensorgate-sim (4 headsets, 16 ch x 256 Hz, real time)
#        -> sensorgate-gateway (1 s event-time windows) -> ZeroMQ -> sensorgate-collector -> SQLite
#
# Both serve their dashboard and /metrics on loopback while it runs (the URLs are printed).
#
# It prints where the data lands and a live line of throughput, and stops cleanly on
# Ctrl-C or after --duration seconds.
#
#   scripts/demo.sh [--devices N] [--duration SECONDS (0 = until Ctrl-C)] [--speed max|FACTOR] [--dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

devices=4
duration=20
speed=1
dir=$repo/demo-data
while [[ $# -gt 0 ]]; do
  case "$1" in
    --devices) devices=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --speed) speed=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "demo: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target sensorgate-sim sensorgate-gateway sensorgate-collector sensorgate_web

# A port nobody listens on right now (connecting to it fails).
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

mkdir -p "$dir"
db=$dir/windows.sqlite
rm -f "$db" "$db-wal" "$db-shm"
mqtt_port=$(free_port)
uplink_port=$(free_port)
gateway_http=$(free_port)
collector_http=$(free_port)
sed "s/^listener 1883 /listener $mqtt_port /" config/mosquitto.conf >"$dir/mosquitto.conf"

pids=()
cleanup() {
  local pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

mosquitto -c "$dir/mosquitto.conf" >"$dir/mosquitto.log" 2>&1 &
pids+=($!)
build/uplink/sensorgate-collector --config config/collector.toml --bind "tcp://127.0.0.1:$uplink_port" \
  --db "$db" --http-port "$collector_http" >"$dir/collector.log" 2>&1 &
collector_pid=$!
pids+=("$collector_pid")
sleep 0.3
build/gateway/sensorgate-gateway --config config/gateway.toml --mqtt "tcp://127.0.0.1:$mqtt_port" \
  --uplink "tcp://127.0.0.1:$uplink_port" --gateway-id demo-gw --http-port "$gateway_http" >"$dir/gateway.log" 2>&1 &
gateway_pid=$!
pids+=("$gateway_pid")
for _ in $(seq 100); do
  grep -q "subscribed to" "$dir/gateway.log" && break
  sleep 0.1
done
build/firmware_sim/sensorgate-sim --config config/sim.toml --mqtt "tcp://127.0.0.1:$mqtt_port" \
  --devices "$devices" --duration "$duration" --speed "$speed" >"$dir/sim.log" 2>&1 &
sim_pid=$!

cat <<INFO
sensorgate demo: $devices simulated headsets (16 ch x 256 Hz) -> MQTT 127.0.0.1:$mqtt_port -> gateway
  -> ZeroMQ 127.0.0.1:$uplink_port -> collector -> SQLite $db
logs: $dir/{sim,gateway,collector,mosquitto}.log
dashboard: http://127.0.0.1:$gateway_http/ (live, stages)  fleet: http://127.0.0.1:$collector_http/fleet.html
metrics:   http://127.0.0.1:$gateway_http/metrics  http://127.0.0.1:$collector_http/metrics
$( [[ $duration == 0 ]] && echo "running until Ctrl-C" || echo "running for $duration s of signal (Ctrl-C stops early)")
INFO

rows() { sqlite3 "$db" "select count(*) from windows" 2>/dev/null || echo 0; }
samples() { sqlite3 "$db" "select coalesce(sum(count), 0) from windows" 2>/dev/null || echo 0; }
# On a terminal the live line rewrites itself; in a log it is one line per second.
if [[ -t 1 ]]; then eol='\r'; else eol='\n'; fi
interrupted=0
trap 'interrupted=1' INT
start=$SECONDS
last_samples=0
while kill -0 "$sim_pid" 2>/dev/null && [[ $interrupted == 0 ]]; do
  sleep 1
  now_samples=$(samples)
  printf "[%4ds] stored: %7d window rows, %9d samples summarized (+%d samples/s)   $eol" \
    $((SECONDS - start)) "$(rows)" "$now_samples" $((now_samples - last_samples))
  last_samples=$now_samples
done
echo
if [[ $interrupted == 1 ]]; then
  echo "Ctrl-C: stopping the simulator, then the gateway (it flushes its open windows)"
  kill -INT "$sim_pid" 2>/dev/null || true
fi
wait "$sim_pid" || true
grep -E "published" "$dir/sim.log" | sed 's/^.*sim: /sim: /' || true
# The gateway closes each device's last window after its idle timeout, or at shutdown.
kill -TERM "$gateway_pid"
wait "$gateway_pid" || echo "gateway exited with status $?"
grep -E "frames/s|stopped cleanly|not acknowledged" "$dir/gateway.log" | tail -2 | sed 's/^.*gateway: /gateway: /'
kill -TERM "$collector_pid"
wait "$collector_pid" || true
trap - EXIT
cleanup

echo
echo "SQLite file: $db"
echo "  windows rows:      $(rows)  (devices x 16 channels x seconds = $devices x 16 x ${duration} = $((devices * 16 * duration)) for a full run)"
echo "  per device:"
sqlite3 -column -header "$db" "select device_id, count(distinct window_start_ns) as windows, min(count) as min_samples,
  max(count) as max_samples from windows group by device_id"
echo "  a few rows (channel 0 of the first device):"
sqlite3 -column -header "$db" "select device_id, channel, window_start_ns, count, round(min,2) as min,
  round(max,2) as max, round(mean,3) as mean, round(variance,2) as variance from windows
  where channel = 0 order by device_id, window_start_ns limit 5"
