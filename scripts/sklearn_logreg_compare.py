#!/usr/bin/python3
"""Fits scikit-learn on the features `sensorgate-collector train --export-features CSV`
wrote, so its test metrics can be compared with sensorgate's own logistic regression.

Same pipeline as sensorgate: StandardScaler fitted on the train rows, then
LogisticRegression(C=1.0) (scikit-learn's default objective) on the scaled train rows;
metrics on the test rows. Prints one JSON object to stdout.

Usage: /usr/bin/python3 scripts/sklearn_logreg_compare.py features.csv [--c 1.0]
(Debian's /usr/bin/python3 with python3-sklearn; no other dependencies.)
"""

import argparse
import csv
import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.preprocessing import StandardScaler


def load(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header[:2] != ["device_id", "window_start_ns"] or header[-2:] != ["label", "split"]:
            sys.exit(f"{path}: not a sensorgate features CSV (header {header[:2]} ... {header[-2:]})")
        features = len(header) - 4
        x = {"train": [], "test": []}
        y = {"train": [], "test": []}
        for line_no, row in enumerate(reader, start=2):
            if len(row) != len(header):
                sys.exit(f"{path}:{line_no}: {len(row)} fields, expected {len(header)}")
            split = row[-1]
            if row[-2] == "":
                sys.exit(f"{path}:{line_no}: unlabelled row; export from a logistic or linear training run")
            x[split].append([float(v) for v in row[2:2 + features]])
            y[split].append(int(float(row[-2])))
    return ({k: np.array(v, dtype=float).reshape(-1, features) for k, v in x.items()},
            {k: np.array(v, dtype=int) for k, v in y.items()})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength (as train --c)")
    args = parser.parse_args()
    x, y = load(args.csv)
    if len(y["train"]) == 0:
        sys.exit(f"{args.csv}: no train rows")
    scaler = StandardScaler().fit(x["train"])
    # A tight tolerance: the default (1e-4) stops lbfgs before the optimum sensorgate's
    # Newton solver reaches, which would show up as differences that are only the solver's.
    model = LogisticRegression(C=args.c, tol=1e-10, max_iter=100000).fit(scaler.transform(x["train"]), y["train"])
    out = {"train_rows": int(len(y["train"])), "test_rows": int(len(y["test"])),
           "train_accuracy": float(accuracy_score(y["train"], model.predict(scaler.transform(x["train"]))))}
    if len(y["test"]) > 0:
        xt = scaler.transform(x["test"])
        predicted = model.predict(xt)
        out["test_accuracy"] = float(accuracy_score(y["test"], predicted))
        out["test_f1"] = float(f1_score(y["test"], predicted, zero_division=0))
        if len(set(y["test"])) == 2:
            out["test_roc_auc"] = float(roc_auc_score(y["test"], model.predict_proba(xt)[:, 1]))
    out["intercept"] = float(model.intercept_[0])
    out["coef"] = [float(v) for v in model.coef_[0]]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
