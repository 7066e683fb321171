#!/usr/bin/python3
"""Compares our anomaly scores with scikit-learn baselines on the same feature vectors.

    /usr/bin/python3 bench/sklearn_baseline.py DIR [DIR ...] [--markdown FILE]

Each DIR is a `sensorgate-gateway evaluate --out` directory. From its features.csv (the
z-scored vectors our model scores) LocalOutlierFactor(novelty=True, n_neighbors=20) and
IsolationForest(random_state=0) are fitted on the reference rows and score the input rows;
without reference rows, LOF scores the input rows by their own negative_outlier_factor_
and IsolationForest is fitted on them. ROC-AUC is taken against the input rows' labels for
ours (scores.csv), LOF and IsolationForest over exactly the same windows, and printed as a
markdown table with our event metrics from summary.json (when present).
"""

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor


class InputError(Exception):
    """A missing or malformed evaluate output; reported without a traceback."""


def read_csv(path, required):
    """Header and rows of `path`, checking that the header has every `required` column."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise InputError(f"{path}: empty file, expected a header row")
    header = rows[0]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (header: {','.join(header)})")
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InputError(f"{path}:{number}: {len(row)} fields, the header has {len(header)}")
    return header, rows[1:]


def number(path, line, text):
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{path}:{line}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{path}:{line}: {text!r} is not finite")
    return value


def baseline_scores(reference, inputs):
    """LOF and IsolationForest scores of the input vectors, higher = more anomalous."""
    X = np.array(inputs)
    if reference:
        R = np.array(reference)
        lof = -LocalOutlierFactor(novelty=True, n_neighbors=20).fit(R).score_samples(X)
        return lof, -IsolationForest(random_state=0).fit(R).score_samples(X)
    model = LocalOutlierFactor(n_neighbors=20)
    model.fit_predict(X)
    return -model.negative_outlier_factor_, -IsolationForest(random_state=0).fit(X).score_samples(X)


def evaluate_dir(directory):
    """One table row: the dataset's window counts, the three AUCs and our event metrics."""
    features_path, scores_path = directory / "features.csv", directory / "scores.csv"
    header, rows = read_csv(features_path, ["set", "device_id", "window_start_ns", "label"])
    col = {name: i for i, name in enumerate(header)}
    feature_cols = [i for i, name in enumerate(header) if name[:1] == "f" and name[1:].isdigit()]
    if not feature_cols:
        raise InputError(f"{features_path}: no feature columns f0, f1, ...")

    reference, inputs, keys, labels = [], [], [], []
    for line, row in enumerate(rows, start=2):
        vector = [number(features_path, line, row[i]) for i in feature_cols]
        if row[col["set"]] == "reference":
            reference.append(vector)
        elif row[col["set"]] == "input":
            inputs.append(vector)
            keys.append((row[col["device_id"]], row[col["window_start_ns"]]))
            labels.append(row[col["label"]])
        else:
            raise InputError(f"{features_path}:{line}: set {row[col['set']]!r} is neither reference nor input")
    if not inputs:
        raise InputError(f"{features_path}: no input rows")

    # Our score for each input window, matched by device and window start, so that all
    # three AUCs are over the same windows whatever order the files are in.
    header, rows = read_csv(scores_path, ["device_id", "window_start_ns", "score"])
    col = {name: i for i, name in enumerate(header)}
    ours_by_key = {(row[col["device_id"]], row[col["window_start_ns"]]): number(scores_path, line, row[col["score"]])
                   for line, row in enumerate(rows, start=2)}
    unscored = [k for k in keys if k not in ours_by_key]
    if unscored:
        raise InputError(f"{scores_path}: {len(unscored)} input window(s) of features.csv have no score, "
                         f"the first: device {unscored[0][0]!r}, window_start_ns {unscored[0][1]}")
    ours = np.array([ours_by_key[k] for k in keys])

    result = {"dataset": directory.resolve().name, "windows": len(inputs)}
    if all(label in ("0", "1") for label in labels):
        y = np.array([int(label) for label in labels])
        result["positives"] = int(y.sum())
        if 0 < y.sum() < len(y):  # AUC needs both classes
            lof, forest = baseline_scores(reference, inputs)
            result.update(auc_ours=roc_auc_score(y, ours), auc_lof=roc_auc_score(y, lof),
                          auc_if=roc_auc_score(y, forest))
    elif any(labels):
        raise InputError(f"{features_path}: input labels must be all 0/1 or all empty")

    summary_path = directory / "summary.json"
    if summary_path.is_file():
        try:
            summary = json.loads(summary_path.read_text())
        except json.JSONDecodeError as e:
            raise InputError(f"{summary_path}: not JSON ({e})") from None
        if not isinstance(summary, dict):
            raise InputError(f"{summary_path}: expected a JSON object")
        for key in ("event_recall", "false_alarms_per_hour", "detection_latency_s_median"):
            result[key] = summary.get(key)
    return result


COLUMNS = [("dataset", "dataset"), ("windows", "windows"), ("positives", "positives"),
           ("auc_ours", "AUC ours"), ("auc_lof", "AUC LOF"), ("auc_if", "AUC IF"),
           ("event_recall", "event recall"), ("false_alarms_per_hour", "false alarms/h"),
           ("detection_latency_s_median", "median latency (s)")]


def cell(key, value):
    if value is None:
        return "–"  # unknown labels, one class only, or not in summary.json
    if not isinstance(value, float):
        return str(value)
    # Four decimals for the AUCs, so "at least the best scikit-learn detector" can be read.
    return f"{value:.4f}" if key.startswith("auc") else f"{value:.3f}"


def markdown(results):
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(key, r.get(key)) for key, _ in COLUMNS) + " |" for r in results]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="+", type=Path, help="evaluate output directories")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    try:
        table = markdown([evaluate_dir(d) for d in args.dirs])
    except InputError as e:
        print(f"sklearn_baseline: {e}", file=sys.stderr)
        return 1
    print(table, end="")
    if args.markdown:
        args.markdown.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
