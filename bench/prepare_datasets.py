#!/usr/bin/python3
"""Turns the labelled epilepsy datasets in /work/shared/data into inputs for
`sensorgate-gateway evaluate`, and prints the evaluate command for each.

    /usr/bin/python3 bench/prepare_datasets.py OUT_DIR [--data DIR] [--seed N]
        [--gateway PATH] [--results DIR]

Per dataset, OUT_DIR/<name>/ gets
  reference.csv  normal data only, to fit the model;
  input.csv      normal and abnormal segments back to back, played as one stream;
  labels.csv     the abnormal segments' intervals in input.csv, in the simulator's labels
                 format (device_id,type,start_ns,end_ns,channels; ns relative to the
                 first input frame, frame k at round(k * 1e9 / rate) as the simulator maps
                 frames, end exclusive; device_id and channels empty: the sources label
                 time, for every device and channel);
  segments.csv   where each source segment went (to check the hold-out and the labels).
No segment of reference.csv appears in input.csv. The recordings are CSV with a
"# Sample Rate = N Hz" comment before the header row, which the reader takes as the rate
(docs/recordings.md), so evaluate needs neither --file-rate nor --channels.
"""

import argparse
import csv
import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Segment:
    source: str  # where the samples come from, for segments.csv
    samples: np.ndarray  # frames x channels
    abnormal: bool = False


@dataclass
class Dataset:
    name: str
    channel_names: list
    rate_hz: float
    reference: list  # of Segment, all normal
    input: list  # of Segment, in playback order
    note: str  # what the labels mean and how far to trust them


def read_numbers(path):
    """Whitespace-separated numbers as one column (Bonn: one per line, CRLF; Michigan: five
    per line with a shorter last line, which np.loadtxt rejects)."""
    return np.array(path.read_text().split(), dtype=np.float64).reshape(-1, 1)


def interleave(normal, abnormal, rng):
    """Puts each abnormal segment after a different, randomly chosen normal one (the normal
    ones keep their order; the callers shuffle them), so the stream starts normal and no
    two abnormal segments touch: each is its own event."""
    slot = dict(zip(rng.choice(len(normal), size=len(abnormal), replace=False).tolist(), abnormal))
    order = []
    for i, segment in enumerate(normal):
        order.append(segment)
        if i in slot:
            order.append(slot[i])
    return order


def split(normal, abnormal, n_reference, n_abnormal, rng):
    """Shuffles the normal segments, holds the first n_reference out as the reference and
    interleaves the rest with n_abnormal abnormal segments drawn at random: (reference, input)."""
    normal = [normal[i] for i in rng.permutation(len(normal))]
    abnormal = [abnormal[i] for i in rng.choice(len(abnormal), size=n_abnormal, replace=False)]
    return normal[:n_reference], interleave(normal[n_reference:], abnormal, rng)


def bonn(data, rng):
    """Set A (Z, healthy, scalp) is normal, set E (S, ictal) abnormal; 4097 samples each."""
    def segments(folder, abnormal):
        return [Segment(f"{folder}/{p.name}", read_numbers(p), abnormal)
                for p in sorted((data / "bonn-epilepsy" / folder).glob("*.txt"))]

    reference, stream = split(segments("A_Z", False), segments("E_S", True), 40, 20, rng)
    return Dataset(
        "bonn", ["EEG"], 173.61, reference=reference, input=stream,
        note="A (healthy, scalp, eyes open) vs E (seizure, intracranial): recording type and amplitude "
             "differ too, so this split is easy; 23.6 s segments spliced back to back")


def delhi(data, rng):
    """Interictal is normal, ictal abnormal; preictal is left out (neither clearly normal nor
    the seizure). Read from the DERIVED CSVs: source name, then 1024 samples per line."""
    def segments(name, abnormal):
        with open(data / "delhi-epilepsy-segments" / f"{name}.csv", newline="") as f:
            return [Segment(f"{name}/{row[0]}", np.array(row[1:], dtype=np.float64).reshape(-1, 1), abnormal)
                    for row in csv.reader(f)]

    reference, stream = split(segments("interictal", False), segments("ictal", True), 20, 15, rng)
    return Dataset(
        "delhi", ["EEG"], 200.0, reference=reference, input=stream,
        note="interictal vs ictal, 5.12 s segments from 10 patients and unstated electrodes spliced back "
             "to back; preictal unused")


def michigan(data, _rng):
    """One continuous 8-channel recording: samples [0, 16339) pre-seizure, the rest seizure
    (the uploader's half/half split; the true onset is not precisely known). Kept in time
    order rather than cut and shuffled: splicing would add discontinuities the detector
    could flag, and the seizure's evolution is part of what is detected. The reference is
    the first half of the pre-seizure part, the input the rest of the recording."""
    names = ["C3", "C4", "Cz", "P3", "P4", "T3", "T4", "T5"]
    samples = np.hstack([read_numbers(data / "michigan-seizure-8ch" / f"{n.lower()}.txt") for n in names])
    onset, split = 16339, 16339 // 2
    source = "michigan-seizure-8ch/{c3..t5}.txt"
    return Dataset(
        "michigan", names, 100.0,
        reference=[Segment(f"{source}[0:{split}]", samples[:split])],
        input=[Segment(f"{source}[{split}:{onset}]", samples[split:onset]),
               Segment(f"{source}[{onset}:]", samples[onset:], abnormal=True)],
        note="one seizure onset, placed by the uploader's half/half split (approximate): onset time and "
             "latency are uncertain; 'normal' is pre-seizure EEG of the same patient")


def write_recording(path, dataset, segments):
    with open(path, "w") as f:
        f.write(f"# Sample Rate = {dataset.rate_hz:g} Hz\n{','.join(dataset.channel_names)}\n")
        np.savetxt(f, np.vstack([s.samples for s in segments]), fmt="%.10g", delimiter=",")


def frame_ns(frame, rate_hz):
    return round(frame * 1e9 / rate_hz)


def write_dataset(out, dataset):
    """Writes the four files; returns (input frames, abnormal intervals as frame pairs)."""
    out.mkdir(parents=True, exist_ok=True)
    write_recording(out / "reference.csv", dataset, dataset.reference)
    write_recording(out / "input.csv", dataset, dataset.input)
    intervals, frame = [], 0
    with open(out / "segments.csv", "w", newline="") as f:
        rows = csv.writer(f)
        rows.writerow(["set", "source", "abnormal", "start_frame", "end_frame"])
        for s in dataset.reference:
            rows.writerow(["reference", s.source, 0, "", ""])
        for s in dataset.input:
            end = frame + len(s.samples)
            rows.writerow(["input", s.source, int(s.abnormal), frame, end])
            if s.abnormal:
                intervals.append((frame, end))
            frame = end
    with open(out / "labels.csv", "w", newline="") as f:
        rows = csv.writer(f)
        rows.writerow(["device_id", "type", "start_ns", "end_ns", "channels"])
        for start, end in intervals:
            rows.writerow(["", "seizure", frame_ns(start, dataset.rate_hz), frame_ns(end, dataset.rate_hz), ""])
    return frame, intervals


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="directory to write <dataset>/ into")
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"), help="the datasets' root")
    parser.add_argument("--seed", type=int, default=1, help="seed of the splits and the playback order")
    parser.add_argument("--gateway", default="build/gateway/sensorgate-gateway", help="for the printed commands")
    parser.add_argument("--results", type=Path, default=Path("bench-results/evaluation"),
                        help="parent of the --out directories in the printed commands")
    args = parser.parse_args()

    for make in (bonn, delhi, michigan):
        # One generator per dataset: its split and order do not depend on the others.
        dataset = make(args.data, np.random.default_rng(args.seed))
        out = args.out / dataset.name
        frames, intervals = write_dataset(out, dataset)
        ref_frames = sum(len(s.samples) for s in dataset.reference)
        abnormal_frames = sum(end - start for start, end in intervals)
        rate = dataset.rate_hz
        print(f"{dataset.name}: {len(dataset.channel_names)} ch at {rate:g} Hz; "
              f"reference {len(dataset.reference)} segment(s), {ref_frames / rate:.1f} s; "
              f"input {len(dataset.input)} segment(s), {frames / rate:.1f} s, "
              f"{len(intervals)} abnormal interval(s) totalling {abnormal_frames / rate:.1f} s")
        print(f"  labels: {dataset.note}")
        command = [args.gateway, "evaluate", "--reference", out / "reference.csv", "--input", out / "input.csv",
                   "--labels", out / "labels.csv", "--out", args.results / dataset.name]
        print("  " + shlex.join(str(c) for c in command))


if __name__ == "__main__":
    main()
