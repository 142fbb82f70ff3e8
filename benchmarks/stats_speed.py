"""Time the statistics stage against scipy.stats.bootstrap and fairlearn's MetricFrame bootstrap.

Rows run interleaved (one call of each per round) and the median over rounds is printed,
with its ratio to fairness-eval's.

Synthetic data shaped like the MediaPipe card: 1,700 images, region (17 groups of 100),
Fitzpatrick skin tone (6 groups, the card's shares) and gender (2 groups); per-image IoU
1 - Beta(1.5, 40). Rows:

- fairness-eval: `fairness.evaluate` for the three attributes at 10,000 resamples, BCa:
  overall interval, every group's interval, every deviation and standardised-deviation
  interval (stratified, jointly), IAA-free criteria, JSON-ready output;
  and the same for the 17 regions alone;
- scipy.stats.bootstrap: BCa, 9,999 resamples, one call per group (25 groups; and the 17
  regions alone), group intervals only (no deviations, no overall interval);
- fairlearn MetricFrame: mean IoU per group with n_boot=1000 (its bootstrap, unstratified),
  one MetricFrame per attribute. fairlearn is not a dependency of fairness-eval: this row is
  skipped with a message when it cannot be imported.

Run: .venv/bin/python benchmarks/stats_speed.py [--repeats 7] [--fairlearn-repeats 3]
With fairlearn installed elsewhere: PYTHONPATH=. /path/to/venv/bin/python benchmarks/...
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from fairness_eval.config.settings import StatisticsSettings
from fairness_eval.fairness import assess as fairness

SKIN_TONE_SHARES = [0.0502, 0.1581, 0.3356, 0.2723, 0.1330, 0.0508]
ATTRIBUTES = ["region", "skin_tone", "gender"]


def synthetic_table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 1_700
    iou = 1.0 - rng.beta(1.5, 40.0, n)
    union = rng.integers(5_000, 60_000, n).astype(float)
    return pd.DataFrame({
        "image": [f"img{i:04d}" for i in range(n)],
        "status": "ok",
        "iou": iou,
        "intersection": iou * union,
        "union": union,
        "region": np.repeat([f"region{i:02d}" for i in range(17)], 100),
        "skin_tone": rng.choice([str(t) for t in range(1, 7)], n, p=SKIN_TONE_SHARES),
        "gender": rng.choice(["female", "male"], n, p=[0.4755, 0.5245]),
    })


def seconds(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def ours(table: pd.DataFrame, attributes: list[str] = ATTRIBUTES) -> None:
    fairness.evaluate(table, attributes, StatisticsSettings(bootstrap=10_000, ci_method="bca",
                                                            seed=0))


def scipy_per_group(table: pd.DataFrame, attributes: list[str]) -> None:
    rng = np.random.default_rng(0)
    for attribute in attributes:
        for _, group in table.groupby(attribute):
            scipy_stats.bootstrap(
                (group["iou"].to_numpy(),), np.mean, method="BCa", n_resamples=9_999,
                vectorized=True, rng=rng,
            )


def fairlearn_metricframe(table: pd.DataFrame) -> None:
    from fairlearn.metrics import MetricFrame

    def mean_iou(y_true, y_pred):
        return float(np.mean(y_true))

    for attribute in ATTRIBUTES:
        MetricFrame(
            metrics=mean_iou, y_true=table["iou"].to_numpy(), y_pred=table["iou"].to_numpy(),
            sensitive_features=table[attribute], n_boot=1_000, ci_quantiles=[0.025, 0.975],
            random_state=0,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="rounds (median taken)")
    parser.add_argument("--fairlearn-repeats", type=int, default=3,
                        help="rounds that include fairlearn (slow: tens of seconds each)")
    args = parser.parse_args()
    table = synthetic_table()
    ours(table)  # warm-up: imports, first-call allocations

    # (name, resamples, function, rounds); the rows run interleaved, one call each per
    # round, so that load from other processes falls on all of them alike.
    rows: list[tuple[str, str, Callable[[], object] | None, int]] = [
        ("fairness-eval evaluate (BCa)", "10,000, 25 groups + deviations",
         lambda: ours(table), args.repeats),
        ("fairness-eval evaluate (BCa)", "10,000, 17 regions + deviations",
         lambda: ours(table, ["region"]), args.repeats),
        ("scipy.stats.bootstrap (BCa)", "9,999 per group, 25 groups",
         lambda: scipy_per_group(table, ATTRIBUTES), args.repeats),
        ("scipy.stats.bootstrap (BCa)", "9,999 per group, 17 regions",
         lambda: scipy_per_group(table, ["region"]), args.repeats),
    ]
    try:
        import fairlearn  # noqa: F401
    except ImportError:
        rows.append(("fairlearn MetricFrame", "n_boot=1000, 3 attributes", None, 0))
    else:
        rows.append(("fairlearn MetricFrame", "n_boot=1000, 3 attributes",
                     lambda: fairlearn_metricframe(table), args.fairlearn_repeats))
    times: list[list[float]] = [[] for _ in rows]
    for round_ in range(max(rounds for *_, rounds in rows)):
        for i, (*_, run, rounds) in enumerate(rows):
            if run is not None and round_ < rounds:
                times[i].append(seconds(run))

    base = statistics.median(times[0])
    print("1,700 synthetic images, attributes with 17 + 6 + 2 groups; median seconds over "
          "interleaved rounds")
    print(f"{'tool':<30} {'resamples':<32} {'rounds':>6} {'seconds':>8} {'x ours':>8}")
    for (name, resamples, run, _), measured in zip(rows, times, strict=True):
        if run is None:
            print(f"{name:<30} {resamples:<32} {'-':>6} {'-':>8} {'-':>8}  skipped: fairlearn "
                  "is not importable (not a dependency; install it in a separate venv)")
            continue
        median = statistics.median(measured)
        print(f"{name:<30} {resamples:<32} {len(measured):>6} {median:>8.3f} "
              f"{median / base:>8.2f}")


if __name__ == "__main__":
    main()
