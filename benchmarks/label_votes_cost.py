"""What annotators' votes cost the statistics stage, and how far drawing labels moves it.

A run given votes runs the statistics stage twice (its label policy's judgement, and the
other policy's beside it, `fairness/label_verdicts.py`), and under `--labels resample`
one of the two draws every image's label in every resample (`stats/label_resample.py`).
This script times `fairness.stage.compute_statistics` on one synthetic table without
votes, with votes under `--labels majority` and with votes under `--labels resample`,
interleaved (one call of each per round), and prints each row's median with its ratio to
the row without votes; then each group's interval width under both policies.

Synthetic data: `--images` images (default 1,500) with a true Fitzpatrick tone (1-6,
uniform), three votes each; every vote names a neighbouring tone with probability 0.2;
per-image IoU ~ Normal(0.85, 0.10) clipped to [0, 1], the same for every tone (so that a
moved label moves no mean). 10,000 resamples, BCa, seed 0, like `run`'s defaults.

Run: .venv/bin/python benchmarks/label_votes_cost.py [--images 1500] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fairness_eval.config.settings import Settings  # noqa: E402
from fairness_eval.data.label_policies import majority_label  # noqa: E402
from fairness_eval.data.votes import AttributeVotes, ImageVotes  # noqa: E402
from fairness_eval.fairness.stage import compute_statistics  # noqa: E402

SCALE = ("1", "2", "3", "4", "5", "6")


def synthetic(images: int, seed: int = 0) -> tuple[pd.DataFrame, AttributeVotes]:
    """The per-image table (majority labels in its column) and the votes."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 7, images)
    voted = {}
    for i, tone in enumerate(truth):
        chosen = [str(int(np.clip(tone + (rng.random() < 0.2) * rng.choice([-1, 1]), 1, 6)))
                  for _ in range(3)]
        counts: dict[str, int] = {}
        for value in chosen:
            counts[value] = counts.get(value, 0) + 1
        voted[f"i{i}"] = ImageVotes(counts=counts, annotators={
            f"r{j}": value for j, value in enumerate(chosen)})
    votes = AttributeVotes("skin_tone", SCALE, True, voted, True)
    table = pd.DataFrame({
        "image": list(voted), "status": "ok",
        "iou": np.clip(rng.normal(0.85, 0.10, images), 0, 1),
        "intersection": 8, "union": 10,
        "skin_tone": [majority_label(v.counts) for v in voted.values()]})
    return table, votes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    table, votes = synthetic(args.images)
    rows = {
        "no votes": (Settings(inter_annotator_iou=0.95), None),
        "votes, --labels majority": (Settings(inter_annotator_iou=0.95), votes),
        "votes, --labels resample": (Settings(inter_annotator_iou=0.95, labels="resample"),
                                     votes),
    }
    times: dict[str, list[float]] = {name: [] for name in rows}
    results = {}
    for _ in range(args.repeats):
        for name, (settings, given) in rows.items():
            start = time.perf_counter()
            results[name] = compute_statistics(
                table, ["skin_tone"], settings,
                votes=None if given is None else {"skin_tone": given})
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["no votes"])
    print(f"# statistics stage, {args.images} images, 10,000 resamples, BCa; median of "
          f"{args.repeats}")
    for name, found in times.items():
        median = statistics.median(found)
        print(f"{name:<28} {median:6.2f} s   x{median / base:4.2f}")
    groups = results["votes, --labels resample"]["attributes"]["skin_tone"]["groups"]
    print("# interval width (pt) per group: resample / majority; n (majority) and expected")
    for label, group in groups.items():
        other = group.get("label_majority")
        if other is None:
            continue
        width = 100 * (group["ci"][1] - group["ci"][0])
        theirs = 100 * (other["ci"][1] - other["ci"][0])
        print(f"{label:<6} {width:5.2f} / {theirs:5.2f}  (x{width / theirs:.2f})  "
              f"n {group['n']}, expected {group['expected_images']:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
