#!/usr/bin/env bash
# Install what the sensorgate cross build needs on a Debian 12 (bookworm) amd64 host,
# using Debian multiarch (no sysroot):
#   - host tools: the cross g++, qemu-user (runs the target binaries for ctest),
#     ccache, cmake, flatc (the host flatc generates code for the cross build too);
#   - target: pkgconf:<arch> (provides <triplet>-pkg-config) and the <arch> -dev packages.
#
# Usage (as root):  scripts/install-cross-deps.sh aarch64   # verified
#                   scripts/install-cross-deps.sh armhf     # same logic, NOT verified:
#     on the mirror used so far the bookworm-security armhf index fails to download (size
#     mismatch), apt-get update then exits non-zero and this script stops; without that
#     index the armhf Multi-Arch: same packages cannot match the amd64 versions. Fallback:
#     an mmdebstrap sysroot (/work/shared/ENVIRONMENT.md, "Cross builds").
#
# Idempotent: packages already installed are reported as "already present" and skipped;
# when nothing is missing no apt-get update is done, so a second run takes a second or so.
# Set FORCE_UPDATE=1 to run apt-get update anyway.
#
# Not installed for the target on purpose: libpq-dev / libpqxx-dev. libpq-dev:arm64 cannot
# be co-installed with libpq-dev:amd64 (which the native build needs), so PostgreSQL
# support is built natively only.
set -euo pipefail

usage() { echo "usage: $0 aarch64|armhf" >&2; exit 2; }
[[ $# -eq 1 ]] || usage

case "$1" in
  aarch64|arm64) ARCH=arm64; TRIPLET=aarch64-linux-gnu ;;
  armhf|arm)     ARCH=armhf; TRIPLET=arm-linux-gnueabihf ;;
  *) usage ;;
esac

if [[ $(id -u) -ne 0 ]]; then
  echo "error: must run as root (dpkg --add-architecture / apt-get install)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# Host (amd64) packages. qemu-user gives /usr/bin/qemu-aarch64 / qemu-arm; we do not want
# its Recommends (qemu-user-binfmt), CMake calls the emulator explicitly.
HOST_PKGS=(
  "g++-${TRIPLET}"
  qemu-user
  ccache
  cmake
  flatbuffers-compiler   # host flatc; libflatbuffers-dev:<arch> accepts it (Multi-Arch: foreign)
)

# Target packages. Arch-dependent ones are installed as name:$ARCH, Architecture: all ones
# (libeigen3-dev, libcli11-dev) plainly -- the one copy serves both architectures.
# All the arch-dependent ones are Multi-Arch: same, i.e. co-installable with the amd64 ones
# as long as both have the same version (same mirror snapshot).
TARGET_PKGS=(
  pkgconf                # <triplet>-pkg-config wrapper + personality file
  libboost-dev
  libboost-system-dev
  libpaho-mqttpp-dev
  libpaho-mqtt-dev
  libssl-dev             # Paho C++'s CMake config needs OpenSSL
  libzmq3-dev
  cppzmq-dev
  libeigen3-dev
  libflatbuffers-dev
  libsqlite3-dev
  libcli11-dev
  libspdlog-dev
  libfmt-dev
  libtomlplusplus-dev
  libgtest-dev
  libgmock-dev
  libsodium-dev
  libedf-dev             # EDFlib: the simulator's EDF/EDF+ recording reader
)

is_installed() {  # $1 = package spec (name or name:arch)
  [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == "ii " ]]
}

# Architecture of a package as apt knows it ("all" or "any"-built); empty if unknown.
pkg_arch() {
  apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n 's/^Architecture: //p' | head -n1
}

added_arch=0
if [[ $(dpkg --print-architecture) != "$ARCH" ]] &&
   ! dpkg --print-foreign-architectures | grep -qx "$ARCH"; then
  echo "+ dpkg --add-architecture $ARCH"
  dpkg --add-architecture "$ARCH"
  added_arch=1
fi

# Builds the list of missing package specs into MISSING; with $1=verbose also prints
# "already present" for each installed one.
collect_missing() {
  MISSING=()
  local say=: p spec
  [[ ${1:-} == verbose ]] && say="echo"
  for p in "${HOST_PKGS[@]}"; do
    if is_installed "$p"; then $say "already present: $p"; else MISSING+=("$p"); fi
  done
  for p in "${TARGET_PKGS[@]}"; do
    if is_installed "$p:$ARCH"; then
      $say "already present: $p:$ARCH"; continue
    fi
    # Architecture: all package installed (dpkg knows it as $p:all)?  Cheap check first,
    # apt-cache only for what is not installed.
    if is_installed "$p:all"; then
      $say "already present: $p (Architecture: all)"; continue
    fi
    if [[ $(pkg_arch "$p") == all ]]; then spec=$p; else spec=$p:$ARCH; fi
    MISSING+=("$spec")
  done
}

collect_missing verbose
if [[ ${#MISSING[@]} -eq 0 && $added_arch -eq 0 && ${FORCE_UPDATE:-0} != 1 ]]; then
  echo "nothing to install for $ARCH"
  exit 0
fi

# Fetch the $ARCH package indexes. apt-get update only warns (exit 0) about unreachable
# third-party repositories, but fails on a broken index (seen for armhf).
echo "+ apt-get update"
if ! apt-get update -q; then
  echo "error: apt-get update failed (see above). An inconsistent $ARCH index on the" >&2
  echo "mirror makes multiarch unusable; use an mmdebstrap sysroot instead." >&2
  # Leaving the architecture added would make every later apt-get update fail too.
  if [[ $added_arch -eq 1 ]]; then
    echo "+ dpkg --remove-architecture $ARCH" >&2
    dpkg --remove-architecture "$ARCH" || true
  fi
  exit 1
fi
# Re-check: pkg_arch needs the indexes just fetched (e.g. arch all vs. any).
collect_missing
if [[ ${#MISSING[@]} -eq 0 ]]; then
  echo "nothing to install for $ARCH"
  exit 0
fi

echo "to install: ${MISSING[*]}"
# Snapshot of installed packages with versions, to print afterwards what apt really
# added or upgraded (dependencies included).
installed_list() {
  dpkg-query -W -f='${db:Status-Abbrev} ${Package}:${Architecture} ${Version}\n' |
    awk '$1=="ii" {print $2" "$3}' | LC_ALL=C sort
}
before=$(mktemp); trap 'rm -f "$before"' EXIT
installed_list >"$before"

# Dry run first: with -y apt-get would silently remove packages to resolve a conflict
# (e.g. an amd64 -dev package the native build needs). Refuse instead.
sim=$(apt-get install -s --no-install-recommends "${MISSING[@]}")
if grep -q '^Remv ' <<<"$sim"; then
  echo "error: installing would remove these packages; not doing it:" >&2
  grep '^Remv ' <<<"$sim" >&2
  exit 1
fi

apt-get install -y -q --no-install-recommends "${MISSING[@]}"

# Multi-Arch: same packages must have the same version for every architecture, so apt
# may also upgrade amd64 packages (seen: liblzma5, xz-utils, linux-libc-dev) -- those
# show up here too.
echo "installed or upgraded (with dependencies):"
installed_list | LC_ALL=C comm -13 "$before" - | sed 's/^/  /'
