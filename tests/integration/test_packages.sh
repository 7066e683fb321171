#!/usr/bin/env bash
# The Debian packages (cmake/Packaging.cmake, docs/deployment.md), checked without
# installing them on the machine: `cpack -G DEB` from a built tree into a scratch dir, then
# per package its control fields, contents, conffiles and maintainer scripts; the packages
# extracted together into a scratch root, whose executables must run (--version,
# --check-config of the packaged configs); the systemd units' hardening options.
#
#   tests/integration/test_packages.sh BUILD_DIR
#   SENSORGATE_EMULATOR=qemu-aarch64 tests/integration/test_packages.sh build-aarch64   # arm64
#
# Prints one line per check (ok/FAIL) and exits 1 if any failed. CTest runs it as
# test_packages (label integration) after the build.
set -uo pipefail

build=$(cd "${1:?usage: test_packages.sh BUILD_DIR}" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/sensorgate-test-packages.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

failures=0
checks=0
ok() { checks=$((checks + 1)); echo "ok   $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $*"; }
check() {  # check DESCRIPTION COMMAND...: ok when the command succeeds
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi
}
finish() {
  echo "test_packages: $((checks - failures))/$checks checks passed"
  [ "$failures" -eq 0 ]
  exit $?
}

cpack=${CPACK:-cpack}
for tool in "$cpack" dpkg-deb; do
  command -v "$tool" >/dev/null || { fail "$tool is installed"; finish; }
done
[ -f "$build/CPackConfig.cmake" ] || { fail "$build/CPackConfig.cmake exists (configure first)"; finish; }

# What the build dir's configuration promises.
cpack_var() { sed -n "s/^set($1 \"\\(.*\\)\")\$/\\1/p" "$build/CPackConfig.cmake" | tail -1; }
version="$(cpack_var CPACK_PACKAGE_VERSION)-$(cpack_var CPACK_DEBIAN_PACKAGE_RELEASE)"
components=$(cpack_var CPACK_COMPONENTS_ALL | tr ';' ' ')
arch=$(cpack_var CPACK_DEBIAN_PACKAGE_ARCHITECTURE)
[ -n "$arch" ] || arch=$(dpkg --print-architecture)
echo "test_packages: components '$components', version $version, architecture $arch"

# ---- build the packages into the scratch dir ----------------------------------------------------
out=$scratch/out
start=$SECONDS
if (cd "$build" && "$cpack" -G DEB -B "$out" >"$scratch/cpack.log" 2>&1); then
  ok "cpack -G DEB ($((SECONDS - start)) s)"
else
  fail "cpack -G DEB:"
  tail -20 "$scratch/cpack.log"
  finish
fi

deb_of() { echo "$out/sensorgate-$1_${version}_$2.deb"; }
root=$scratch/root
mkdir -p "$root"
: >"$scratch/all-files"

for comp in $components; do
  pkg=sensorgate-$comp
  a=$arch
  [ "$comp" = web ] && a=all
  deb=$(deb_of "$comp" "$a")
  if [ ! -f "$deb" ]; then
    fail "$pkg: $(basename "$deb") built (have: $(cd "$out" && ls -- *.deb 2>/dev/null | tr '\n' ' '))"
    continue
  fi
  ok "$pkg: $(basename "$deb") built, $(du -k "$deb" | cut -f1) KiB"

  info=$(dpkg-deb --info "$deb")
  field() { dpkg-deb --field "$deb" "$1"; }
  [ "$(field Package)" = "$pkg" ] && ok "$pkg: Package: $pkg" || fail "$pkg: Package is '$(field Package)'"
  [ "$(field Version)" = "$version" ] && ok "$pkg: Version: $version" || fail "$pkg: Version is '$(field Version)'"
  [ "$(field Architecture)" = "$a" ] && ok "$pkg: Architecture: $a" || fail "$pkg: Architecture is '$(field Architecture)'"
  desc=$(field Description | head -1)
  [ -n "$desc" ] && ok "$pkg: Description: $desc" || fail "$pkg: has a Description"
  [ -n "$(field Maintainer)" ] && ok "$pkg: has a Maintainer" || fail "$pkg: has a Maintainer"

  contents=$(dpkg-deb --contents "$deb" | awk '{print $6}')
  has() { grep -qx -- "$1" <<<"$contents"; }
  # Every regular file, to find any shipped by two packages.
  dpkg-deb --contents "$deb" | awk -v p="$pkg" '$1 !~ /^d/ {print $6, p}' >>"$scratch/all-files"

  ctrl=$scratch/control-$comp
  dpkg-deb --control "$deb" "$ctrl"

  case $comp in
    gateway | collector | sim)
      depends=$(field Depends)
      for lib in libc6 libstdc++6 libspdlog1.10 libtomlplusplus3; do
        grep -q "$lib" <<<"$depends" && ok "$pkg: Depends on $lib" || fail "$pkg: Depends on $lib (Depends: $depends)"
      done
      case $comp in
        gateway) libs="libzmq5 libsodium23 libpaho-mqttpp3-1 libpaho-mqtt1.3 adduser" ;;
        collector) libs="libzmq5 libsodium23 libsqlite3-0 adduser" ;;
        sim) libs="libpaho-mqttpp3-1 libpaho-mqtt1.3" ;;
      esac
      for lib in $libs; do
        grep -q "$lib" <<<"$depends" && ok "$pkg: Depends on $lib" || fail "$pkg: Depends on $lib (Depends: $depends)"
      done
      has "./usr/bin/sensorgate-$comp" && ok "$pkg: ships /usr/bin/sensorgate-$comp" ||
        fail "$pkg: ships /usr/bin/sensorgate-$comp"
      has "./etc/sensorgate/$comp.toml" && ok "$pkg: ships /etc/sensorgate/$comp.toml" ||
        fail "$pkg: ships /etc/sensorgate/$comp.toml"
      has "./usr/share/doc/$pkg/README.md" && ok "$pkg: ships /usr/share/doc/$pkg/README.md" ||
        fail "$pkg: ships /usr/share/doc/$pkg/README.md"
      grep -qx "/etc/sensorgate/$comp.toml" "$ctrl/conffiles" 2>/dev/null &&
        ok "$pkg: /etc/sensorgate/$comp.toml is a conffile" || fail "$pkg: /etc/sensorgate/$comp.toml is a conffile"
      if [ "$(grep -c . "$ctrl/conffiles" 2>/dev/null)" = 1 ]; then ok "$pkg: conffiles lists nothing else"; else
        fail "$pkg: conffiles lists nothing else: $(tr '\n' ' ' <"$ctrl/conffiles" 2>/dev/null)"
      fi
      if has ./usr/lib/debug || grep -q "not stripped" <<<"$(dpkg-deb --fsys-tarfile "$deb" |
        tar -xO "./usr/bin/sensorgate-$comp" | file -)"; then
        fail "$pkg: the binary is stripped"
      else
        ok "$pkg: the binary is stripped"
      fi
      ;;
  esac

  case $comp in
    gateway | collector)
      unit=sensorgate-$comp.service
      has "./lib/systemd/system/$unit" && ok "$pkg: ships /lib/systemd/system/$unit" ||
        fail "$pkg: ships /lib/systemd/system/$unit"
      grep -q "sensorgate-web (= $version)" <<<"$(field Recommends)" && ok "$pkg: Recommends sensorgate-web (= $version)" ||
        fail "$pkg: Recommends sensorgate-web (= $version) (Recommends: $(field Recommends))"
      for script in postinst prerm postrm; do
        if [ -x "$ctrl/$script" ] && sh -n "$ctrl/$script"; then ok "$pkg: $script is an executable sh script"; else
          fail "$pkg: $script is an executable sh script"
        fi
      done
      grep -q "adduser --system --group --home /var/lib/sensorgate" "$ctrl/postinst" &&
        ok "$pkg: postinst creates the system user sensorgate" || fail "$pkg: postinst creates the system user sensorgate"
      # Run the maintainer scripts with every command that would change this machine replaced
      # by a stub that logs its arguments: they must succeed, with or without systemd.
      shims=$scratch/shims-$comp
      mkdir -p "$shims"
      for cmd in adduser install systemctl rm; do
        printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n' "$cmd" "$shims" >"$shims/$cmd"
        chmod +x "$shims/$cmd"
      done
      printf '#!/bin/sh\nexit 2\n' >"$shims/getent"  # the user does not exist yet
      chmod +x "$shims/getent"
      scripts_ok=1
      PATH=$shims:$PATH sh "$ctrl/postinst" configure "" || scripts_ok=0
      PATH=$shims:$PATH sh "$ctrl/postinst" configure "0.0.1-1" || scripts_ok=0
      PATH=$shims:$PATH sh "$ctrl/prerm" remove || scripts_ok=0
      PATH=$shims:$PATH sh "$ctrl/postrm" remove || scripts_ok=0
      PATH=$shims:$PATH sh "$ctrl/postrm" purge || scripts_ok=0
      [ $scripts_ok = 1 ] && ok "$pkg: postinst configure, prerm remove, postrm remove/purge exit 0" ||
        fail "$pkg: postinst configure, prerm remove, postrm remove/purge exit 0"
      calls=$(cat "$shims/calls" 2>/dev/null)
      grep -q "^adduser --system --group --home /var/lib/sensorgate .*sensorgate$" <<<"$calls" &&
        ok "$pkg: postinst ran adduser" || fail "$pkg: postinst ran adduser (calls: $calls)"
      grep -q "^install -d -o sensorgate -g sensorgate -m 0750 /var/lib/sensorgate/$comp$" <<<"$calls" &&
        ok "$pkg: postinst created /var/lib/sensorgate/$comp owned by sensorgate" ||
        fail "$pkg: postinst created /var/lib/sensorgate/$comp (calls: $calls)"
      if [ -d /run/systemd/system ]; then
        grep -q "^systemctl enable $unit" <<<"$calls" && grep -q "^systemctl try-restart $unit" <<<"$calls" &&
          grep -q "^systemctl stop $unit sensorgate-$comp@\*.service" <<<"$calls" &&
          ok "$pkg: systemd runs: enable on install, try-restart on upgrade, stop on remove" ||
          fail "$pkg: systemctl calls with systemd running: $calls"
      else
        grep -q "^systemctl" <<<"$calls" && fail "$pkg: no systemctl call without systemd (calls: $calls)" ||
          ok "$pkg: no systemd here: no systemctl call"
      fi
      ;;
    sim)
      [ ! -e "$ctrl/postinst" ] && ok "$pkg: no maintainer scripts (a command, not a service)" ||
        fail "$pkg: no maintainer scripts"
      has ./lib/systemd/system/ && fail "$pkg: ships no unit" || ok "$pkg: ships no unit"
      ;;
  esac
  case $comp in
    gateway)
      has "./lib/systemd/system/sensorgate-gateway@.service" &&
        ok "$pkg: ships /lib/systemd/system/sensorgate-gateway@.service (several gateways)" ||
        fail "$pkg: ships /lib/systemd/system/sensorgate-gateway@.service"
      has "./usr/share/doc/$pkg/examples/cuda.conf" && ok "$pkg: ships the CUDA drop-in example" ||
        fail "$pkg: ships /usr/share/doc/$pkg/examples/cuda.conf"
      ;;
    web)
      has ./usr/share/sensorgate/web/index.html && ok "$pkg: ships /usr/share/sensorgate/web/index.html" ||
        fail "$pkg: ships /usr/share/sensorgate/web/index.html"
      n=$(grep -c '^\./usr/share/sensorgate/web/.*[^/]$' <<<"$contents")
      [ "$n" -ge 2 ] && ok "$pkg: ships $n dashboard files" || fail "$pkg: ships the dashboard files ($n)"
      [ -z "$(field Depends)" ] && ok "$pkg: no Depends (static files)" || fail "$pkg: Depends: $(field Depends)"
      ;;
  esac
  dpkg-deb -x "$deb" "$root" || fail "$pkg: dpkg-deb -x"
done

dups=$(awk '{print $1}' "$scratch/all-files" | sort | uniq -d)
[ -z "$dups" ] && ok "no file is shipped by two packages" || fail "files shipped by two packages: $dups"

# ---- the extracted tree runs ------------------------------------------------------------------
# A cross build's executables run under its CMAKE_CROSSCOMPILING_EMULATOR (qemu-aarch64).
run=()
[ -n "${SENSORGATE_EMULATOR:-}" ] && run=("$SENSORGATE_EMULATOR")
for comp in gateway collector sim; do
  exe=$root/usr/bin/sensorgate-$comp
  [ -x "$exe" ] || continue
  if v=$("${run[@]}" "$exe" --version 2>&1) && grep -q "${version%-*}" <<<"$v"; then
    ok "sensorgate-$comp --version from the scratch root: $v"
  else
    fail "sensorgate-$comp --version from the scratch root: $v"
  fi
  # The packaged config as the service reads it (relative paths below the state dir).
  mkdir -p "$scratch/state-$comp"
  if c=$(cd "$scratch/state-$comp" && "${run[@]}" "$exe" --config "$root/etc/sensorgate/$comp.toml" --check-config 2>&1); then
    ok "sensorgate-$comp --check-config of the packaged /etc/sensorgate/$comp.toml"
  else
    fail "sensorgate-$comp --check-config of the packaged /etc/sensorgate/$comp.toml: $c"
  fi
done
if [ -x "$root/usr/bin/sensorgate-gateway" ] && [[ " $components " == *" web "* ]]; then
  # The servers look for the dashboard at <exe dir>/../share/sensorgate/web.
  check "the dashboard is where /usr/bin/sensorgate-gateway looks (../share/sensorgate/web)" \
    test -f "$root/usr/bin/../share/sensorgate/web/index.html"
fi

# ---- the systemd units --------------------------------------------------------------------------
hardening="NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes ProtectKernelTunables=yes
  ProtectKernelModules=yes ProtectControlGroups=yes LockPersonality=yes SystemCallFilter=@system-service
  CapabilityBoundingSet= ReadWritePaths=/var/lib/sensorgate User=sensorgate Group=sensorgate Restart=on-failure
  RestartSec=2 RestartPreventExitStatus=2 StartLimitIntervalSec=0 TimeoutStopSec=30 MemoryDenyWriteExecute=yes"
for comp in gateway collector; do
  unit=$root/lib/systemd/system/sensorgate-$comp.service
  [ -f "$unit" ] || continue
  missing=""
  for opt in $hardening "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
    "StateDirectory=sensorgate/$comp" "WorkingDirectory=/var/lib/sensorgate/$comp" \
    "ExecStart=/usr/bin/sensorgate-$comp --config /etc/sensorgate/$comp.toml"; do
    grep -qx -- "$opt" "$unit" || missing+=" '$opt'"
  done
  [ -z "$missing" ] && ok "sensorgate-$comp.service: has every hardening and service option" ||
    fail "sensorgate-$comp.service lacks:$missing"
  if [ "$comp" = gateway ]; then
    # The template differs from the plain unit only where the instance name goes.
    template=$root/lib/systemd/system/sensorgate-gateway@.service
    if [ -f "$template" ] && diff <(grep -v '^#' "$unit") <(grep -v '^#' "$template" |
      sed 's/gateway-%i\.toml/gateway.toml/; s/gateway-%i$/gateway/; s/edge gateway %i /edge gateway /') >/dev/null; then
      ok "sensorgate-gateway@.service: same settings as sensorgate-gateway.service, per instance name"
    else
      fail "sensorgate-gateway@.service: same settings as sensorgate-gateway.service, per instance name"
    fi
    grep -qx "DeviceAllow=char-ttyUSB rw" "$unit" && grep -qx "SupplementaryGroups=dialout" "$unit" &&
      grep -qx "PrivateDevices=no" "$unit" && ok "sensorgate-gateway.service: serial ports allowed (ttyUSB, dialout)" ||
      fail "sensorgate-gateway.service: serial ports allowed (ttyUSB, dialout)"
  else
    grep -qx "PrivateDevices=yes" "$unit" && ok "sensorgate-collector.service: PrivateDevices=yes" ||
      fail "sensorgate-collector.service: PrivateDevices=yes"
  fi
  if command -v systemd-analyze >/dev/null; then
    # A copy whose ExecStart points into the scratch root (verify checks that the command
    # exists; --root would need a whole systemd tree there). Any warning fails, e.g. an
    # option this systemd does not know.
    mkdir -p "$scratch/verify"
    sed "s|^ExecStart=/usr/bin/|ExecStart=$root/usr/bin/|" "$unit" >"$scratch/verify/sensorgate-$comp.service"
    units=("$scratch/verify/sensorgate-$comp.service")
    if [ "$comp" = gateway ]; then  # an instance of the template
      sed "s|^ExecStart=/usr/bin/|ExecStart=$root/usr/bin/|" "$template" >"$scratch/verify/sensorgate-gateway@.service"
      cp "$scratch/verify/sensorgate-gateway@.service" "$scratch/verify/sensorgate-gateway@test.service"
      units+=("$scratch/verify/sensorgate-gateway@test.service")
    fi
    if v=$(systemd-analyze verify --man=no "${units[@]}" 2>&1) && [ -z "$v" ]; then
      ok "sensorgate-$comp.service: systemd-analyze verify is clean"
    else
      fail "sensorgate-$comp.service: systemd-analyze verify: $v"
    fi
  else
    echo "skip sensorgate-$comp.service: systemd-analyze verify (systemd-analyze not installed)"
  fi
done

finish
