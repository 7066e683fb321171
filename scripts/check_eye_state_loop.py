#!/usr/bin/python3
"""Checks the JSON that scripts/eye_state_loop.sh prints (read from stdin): every live test
window was classified by the pushed model, and the gateway's live accuracy is within the
given number of points of scikit-learn's on the same windows. Exit 1 with the reason."""
import json
import sys

points = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
result = json.load(sys.stdin)
print(json.dumps(result, indent=2))
problems = []
if result["test_windows"] < 100:
    problems.append(f"only {result['test_windows']} test windows")
if result["test_windows_classified_live"] != result["test_windows"]:
    problems.append(f"{result['test_windows_classified_live']} of {result['test_windows']} windows classified live")
if result["difference_points"] is None or abs(result["difference_points"]) > points:
    problems.append(f"live accuracy {result['gateway_live_accuracy']} vs scikit-learn {result['sklearn_accuracy']}: "
                    f"more than {points} points apart")
if problems:
    sys.exit("eye-state loop: " + "; ".join(problems))
