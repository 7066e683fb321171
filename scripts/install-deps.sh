#!/usr/bin/env bash
# Installs what sensorgate needs to build, test and run the demo on Debian 12 (bookworm),
# as root. Idempotent: packages already present are skipped, and it prints what it did.
#
#   scripts/install-deps.sh            # native build, tests, demo
#   scripts/install-deps.sh --cross    # ...plus the aarch64 cross toolchain and arm64 libraries
set -euo pipefail

NATIVE_PKGS=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git
  # the Debian packages (cpack -G DEB, test_packages): CPack finds the binaries with file(1)
  file
  # the libFuzzer targets (fuzz/, docs/fuzzing.md): Clang with its fuzzer and sanitizer runtimes
  clang-14 libclang-rt-14-dev
  # libraries (see docs/building.md for the CMake names)
  libboost-dev libboost-system-dev libpaho-mqttpp-dev libpaho-mqtt-dev libssl-dev
  libzmq3-dev cppzmq-dev libeigen3-dev libflatbuffers-dev flatbuffers-compiler
  libsqlite3-dev libpq-dev libpqxx-dev libcli11-dev libspdlog-dev libtomlplusplus-dev
  nlohmann-json3-dev libedf-dev libsodium-dev libgtest-dev libgmock-dev libbenchmark-dev libreaderwriterqueue-dev libatomic-queue-dev
  # services and tools the tests and the demo start on loopback
  mosquitto mosquitto-clients sqlite3 postgresql socat
  # the MQTT TLS tests generate their CA and certificates with the openssl CLI
  openssl
  # bench/evaluate.sh: dataset preparation and the scikit-learn baselines
  python3-numpy python3-sklearn
  # /metrics checks (promtool) and the dashboard's browser test (headless Chromium)
  prometheus chromium fonts-dejavu-core
)

cross=0
for arg in "$@"; do
  case "$arg" in
    --cross) cross=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "install-deps: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: must run as root (it calls apt-get)" >&2
  exit 1
fi

missing=()
for pkg in "${NATIVE_PKGS[@]}"; do
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    continue
  fi
  missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#NATIVE_PKGS[@]} native packages already present"
else
  echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: installed ${missing[*]}"
fi

# The dashboard is bundled at build time with npm (web/); machines that already have a
# Node.js (e.g. from NodeSource) keep it, others get Debian's.
if ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: installing nodejs and npm (the web dashboard's build)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# The Debian packages start services on install where systemd runs; the project starts
# its own throwaway instances on free loopback ports, so stop any default ones to keep
# port 1883/5432 free and the machine quiet. (No-op in containers without systemd.)
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
  systemctl stop mosquitto && echo "install-deps: stopped the default mosquitto service"
fi
# The prometheus package starts a server on :9090 where systemd runs; only promtool is used.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus && echo "install-deps: stopped the default prometheus service"
fi

if [[ $cross -eq 1 ]]; then
  "$(dirname "$0")/install-cross-deps.sh" aarch64
fi
