#!/usr/bin/python3
"""scikit-learn baseline for the eye-state loop (scripts/eye_state_loop.sh).

Reads the collector's SQLite store, rebuilds each window's summary features independently
of the C++ code (per channel: log variance, log range, log of the five band powers, each
of value + 1e-6), trains sklearn's LogisticRegression (C=1, on StandardScaler output) on
the windows that end at or before the split and tests on the rest, with the labels the
windows carried. It also reads what the gateway did live on the same test windows (its
prediction and model version per window) and prints both accuracies as one JSON object.
"""
import argparse
import json
import sqlite3
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

FLOOR = 1e-6


def load(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute(
        "SELECT device_id, window_start_ns, window_end_ns, channel, variance, min, max, band_delta, band_theta, "
        "band_alpha, band_beta, band_gamma, label, prediction, model_version FROM windows "
        "ORDER BY window_start_ns, device_id, channel").fetchall()
    windows = {}
    for (device, start, end, _channel, var, lo, hi, *rest) in rows:
        bands, label, prediction, version = rest[:5], rest[5], rest[6], rest[7]
        w = windows.setdefault((device, start), {"end": end, "features": [], "label": label,
                                                 "prediction": prediction, "version": version})
        if any(b is None for b in bands):
            w["features"] = None
            continue
        if w["features"] is not None:
            w["features"] += [np.log(var + FLOOR), np.log(hi - lo + FLOOR)] + [np.log(b + FLOOR) for b in bands]
    return [w | {"start": key[1]} for key, w in sorted(windows.items()) if w["features"] is not None]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="collector SQLite file")
    parser.add_argument("--split-ns", type=int, required=True,
                        help="windows ending at or before this device time train, the rest test")
    args = parser.parse_args()
    windows = [w for w in load(args.db) if w["label"] is not None]
    train = [w for w in windows if w["end"] <= args.split_ns]
    test = [w for w in windows if w["end"] > args.split_ns]
    if not train or not test:
        sys.exit(f"need labelled windows on both sides of the split (train {len(train)}, test {len(test)})")
    x_train = np.array([w["features"] for w in train])
    y_train = np.array([w["label"] for w in train])
    x_test = np.array([w["features"] for w in test])
    y_test = np.array([w["label"] for w in test])
    scaler = StandardScaler().fit(x_train)
    model = LogisticRegression(C=1.0, max_iter=10000).fit(scaler.transform(x_train), y_train)
    sklearn_accuracy = float((model.predict(scaler.transform(x_test)) == y_test).mean())
    live = [w for w in test if w["version"] is not None and w["prediction"] is not None]
    live_accuracy = float(np.mean([(w["prediction"] >= 0.5) == (w["label"] == 1) for w in live])) if live else None
    print(json.dumps({
        "train_windows": len(train),
        "test_windows": len(test),
        "test_windows_classified_live": len(live),
        "test_class_balance": float(y_test.mean()),
        "sklearn_accuracy": sklearn_accuracy,
        "gateway_live_accuracy": live_accuracy,
        "difference_points": None if live_accuracy is None else 100.0 * (live_accuracy - sklearn_accuracy),
    }, indent=2))


if __name__ == "__main__":
    main()
