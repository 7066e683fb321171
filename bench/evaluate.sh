#!/usr/bin/env bash
# Anomaly-detection evaluation (issue #4 item 5): runs `sensorgate-gateway evaluate` on
# synthetic EEG with injected anomalies and on the epilepsy datasets in /work/shared/data
# (bench/prepare_datasets.py turns them into recordings and labels), then compares our AUC
# with scikit-learn's LOF and IsolationForest on the same features (bench/sklearn_baseline.py).
# Needs a built gateway and python3-numpy python3-sklearn (scripts/install-deps.sh).
#
#   bench/evaluate.sh [BUILD_DIR [OUT_DIR]]   (defaults: build, bench-results/evaluation)
#
# OUT_DIR gets data/<dataset>/ (prepared inputs), one evaluate output directory per
# dataset and method (synthetic-kmeans, bonn-lof, ...) and table.md, the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build}
out=${2:-bench-results/evaluation}
gateway=$build/gateway/sensorgate-gateway
# Debian's interpreter, where apt installs numpy and scikit-learn (not a venv's python3).
python=/usr/bin/python3

if [[ ! -x $gateway ]]; then
  echo "evaluate: $gateway not found; build the project first (docs/building.md)" >&2
  exit 1
fi

mkdir -p "$out"
"$python" bench/prepare_datasets.py "$out/data" --gateway "$gateway" --results "$out"

# Each of our three scores; the model is fitted on the reference and then frozen, the
# protocol of scikit-learn's novelty detectors it is compared with.
results=()
for method in kmeans knn lof; do
  echo "evaluate: synthetic ($method)"
  "$gateway" evaluate --method "$method" --reference synthetic:600 --input synthetic:3600 \
    --out "$out/synthetic-$method" >/dev/null
  results+=("$out/synthetic-$method")
  for dataset in bonn delhi michigan; do
    echo "evaluate: $dataset ($method)"
    "$gateway" evaluate --method "$method" --reference "$out/data/$dataset/reference.csv" \
      --input "$out/data/$dataset/input.csv" --labels "$out/data/$dataset/labels.csv" \
      --out "$out/$dataset-$method" >/dev/null
    results+=("$out/$dataset-$method")
  done
done

"$python" bench/sklearn_baseline.py "${results[@]}" --markdown "$out/table.md"
echo "evaluate: table in $out/table.md"
