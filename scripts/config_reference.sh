#!/usr/bin/env bash
# Prints the key reference of docs/configuration.md: one Markdown table per program, made
# from the programs' own schema (`--print-config-schema`), so it cannot drift from the code.
#
#   scripts/config_reference.sh [BUILD_DIR]     # default BUILD_DIR: build
#
# Paste its output over the reference section of docs/configuration.md after changing a key.
set -euo pipefail

build_dir=${1:-build}
programs=(
  "sensorgate-gateway gateway/sensorgate-gateway config/gateway.toml"
  "sensorgate-collector uplink/sensorgate-collector config/collector.toml"
  "sensorgate-sim firmware_sim/sensorgate-sim config/sim.toml"
)

for entry in "${programs[@]}"; do
  read -r name binary example <<<"$entry"
  if [[ ! -x "$build_dir/$binary" ]]; then
    echo "config_reference.sh: $build_dir/$binary not found; build it first (or pass the build directory)" >&2
    exit 1
  fi
  printf '### %s\n\nExample with every key: [`%s`](../%s).\n\n' "$name" "$example" "$example"
  "$build_dir/$binary" --print-config-schema | python3 -c '
import json, sys

def number(x, as_toml):
    if isinstance(x, bool) or not isinstance(x, float):
        return str(x).lower() if isinstance(x, bool) else str(x)
    if abs(x) >= 1e7 and x.is_integer():
        return f"{x:g}"
    if x.is_integer():
        return f"{int(x)}.0" if as_toml else str(int(x))
    return repr(x)

def value(v):
    if isinstance(v, str):
        return "`" + json.dumps(v).replace("|", "\\|") + "`"
    if isinstance(v, list):
        return "`[" + ", ".join(number(x, True) for x in v) + "]`"
    return "`" + number(v, True) + "`"

def limits(key):
    if "choices" in key:
        return ", ".join("`" + c + "`" for c in key["choices"])
    if "min" not in key:
        return ""
    lo, hi = key["min"], key["max"]
    unbounded_lo = lo == -(2**63) or lo == float("-inf")
    unbounded_hi = hi == 2**63 - 1 or hi == float("inf")
    if unbounded_lo and unbounded_hi:
        return ""
    if unbounded_hi:
        return "≥ " + number(lo, False)
    if unbounded_lo:
        return "≤ " + number(hi, False)
    return number(lo, False) + " – " + number(hi, False)

def text(t):
    # Plain text in a table cell: no HTML tags, no column breaks.
    return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")

schema = json.load(sys.stdin)
print("| key | type | default | range / choices | description |")
print("| --- | --- | --- | --- | --- |")
for key in schema["keys"]:
    default = value(key["default"]) if key["default"] is not None else ""
    if key.get("default_note"):
        default = text(key["default_note"])
    doc = text(key["doc"])
    name, kind = key["key"], key["type"]
    print(f"| `{name}` | {kind} | {default} | {limits(key)} | {doc} |")
print()
'
done
