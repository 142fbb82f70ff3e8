"""The gate's operating characteristics, by simulation: how often it fails a fair model, and
how often it flags a group that truly violates criterion (b).

Each simulated evaluation set has k groups of n images; an image's IoU is drawn from a
Beta distribution with its group's true mean and SD 0.12 (seeded: every replicate's
draws come from `SeedSequence([seed, setting, replicate])`). The statistics stage that
`run` uses (`fairness.assess.evaluate`) judges it with the card's criteria: factor 3,
inter-annotator IoU 0.9874 (criterion (b)'s threshold 2.52 pt), minimum group size 20, and
`--bootstrap` resamples. The gate fails a run when any check it reads (`familywise.
gated_checks`: gated groups x the criteria that can be judged) is a statistical violation,
as `run --gate` without --strict does.

Per setting (k, n, reference, interval method, family-wise method) it prints

- fair: the share of runs in which the gate fails a fair model, every group's true mean
  equal (target <= 5 % per run);
- power: the share of runs in which it flags, on criterion (b), the one group whose true
  deviation from the reference is the threshold plus three standard errors of its
  estimated deviation, the other groups equal (target >= 80 %);

and a case built on the VOC MobileNetV3 run that failed a fair model: two groups of 20 and
32 images whose true means are equal, with a small ungated group of 2 images far below
them pulling the overall reference away.

Every figure is a share of `--replicates` runs (`--power-replicates` for power) with its
binomial standard error. `python benchmarks/gate_calibration.py` takes about 15 minutes
on one core; `--quick` about one.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fairness_eval.config.settings import StatisticsSettings  # noqa: E402
from fairness_eval.fairness.assess import evaluate  # noqa: E402
from fairness_eval.fairness.familywise import gated_checks  # noqa: E402
from fairness_eval.results.names import VIOLATION  # noqa: E402

MEAN_IOU = 0.85
IMAGE_SD = 0.12
INTER_ANNOTATOR_IOU = 0.9874
THRESHOLD_B = 2.0 * (1.0 - INTER_ANNOTATOR_IOU)
MIN_GROUP_SIZE = 20


@dataclass(frozen=True)
class Setting:
    """One row of the table: the groups and how they are judged."""

    k: int
    n: int
    reference: str
    method: str
    familywise: str
    case: str = "grid"  # "grid", or "voc" (two equal groups and a small low one)

    def label(self) -> str:
        groups = "20+32 (+2 low)" if self.case == "voc" else f"{self.k} x {self.n}"
        return (f"{groups:>16}  {self.reference:<10}  {self.method:<10}  "
                f"{self.familywise:<5}")


def beta_draws(rng: np.random.Generator, mean: float, size: int) -> np.ndarray:
    """IoU of `size` images from a Beta with this mean and SD IMAGE_SD."""
    common = mean * (1.0 - mean) / IMAGE_SD**2 - 1.0
    return rng.beta(mean * common, (1.0 - mean) * common, size)


def group_means(setting: Setting, shift: float) -> tuple[list[float], list[int]]:
    """True means and sizes; `shift` lowers the first group (the power scenario)."""
    if setting.case == "voc":
        return [MEAN_IOU - shift, MEAN_IOU, 0.45], [20, 32, 2]
    means = [MEAN_IOU] * setting.k
    means[0] -= shift
    return means, [setting.n] * setting.k


def power_shift(setting: Setting) -> float:
    """How far the first group's true mean lies below the others so that its true
    deviation from the reference is criterion (b)'s threshold + 3 standard errors."""
    k, n = setting.k, setting.n
    # Equal groups: the deviation is (1 - 1/k) x the shift under either reference, and its
    # SE is SD / sqrt(n) x sqrt(1 - 1/k).
    standard_error = IMAGE_SD / math.sqrt(n) * math.sqrt(1.0 - 1.0 / k)
    return (THRESHOLD_B + 3.0 * standard_error) / (1.0 - 1.0 / k)


def simulate(task: tuple[Setting, int, str, int, int, int]) -> tuple[Setting, str, bool, bool]:
    """One replicate: (setting, scenario, gate failed, first group flagged on (b))."""
    setting, index, scenario, replicate, seed, resamples = task
    rng = np.random.default_rng(np.random.SeedSequence([seed, index, replicate,
                                                        int(scenario == "power")]))
    shift = power_shift(setting) if scenario == "power" else 0.0
    means, sizes = group_means(setting, shift)
    iou = np.concatenate([beta_draws(rng, m, s) for m, s in zip(means, sizes, strict=True)])
    groups = np.repeat([f"g{i:02d}" for i in range(len(sizes))], sizes)
    table = pd.DataFrame({"image": [f"i{i}" for i in range(len(iou))], "status": "ok",
                          "iou": iou, "intersection": iou, "union": 1.0, "group": groups})
    settings = StatisticsSettings(
        bootstrap=resamples, seed=replicate, ci_method=setting.method,
        reference=setting.reference, familywise=setting.familywise,
        inter_annotator_iou=INTER_ANNOTATOR_IOU, min_group_size=MIN_GROUP_SIZE)
    result = evaluate(table, ["group"], settings)
    blocks = result["attributes"]
    checks = gated_checks(blocks, settings.gated_criteria_for)
    failed = any(blocks[a]["groups"][g]["verdicts"][c]["statistical"] == VIOLATION
                 for a, g, c in checks)
    first = blocks["group"]["groups"]["g00"]["verdicts"]["b"].get("statistical")
    return setting, scenario, failed, first == VIOLATION


def settings_grid(quick: bool) -> list[Setting]:
    ks, ns = ((2, 11, 17), (20, 200)) if quick else ((2, 5, 11, 17), (20, 60, 200))
    grid = [Setting(k, n, reference, method, familywise)
            for k, n, reference, method, familywise in itertools.product(
                ks, ns, ("overall", "group-mean"), ("bca", "percentile"), ("holm", "none"))]
    grid += [Setting(3, 0, reference, method, familywise, case="voc")
             for reference, method, familywise in itertools.product(
                 ("overall", "group-mean"), ("bca", "percentile"), ("holm", "none"))]
    return grid


def share(hits: int, total: int) -> str:
    if total == 0:
        return "-"
    p = hits / total
    return f"{100 * p:5.1f} % +/- {100 * math.sqrt(p * (1 - p) / total):3.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicates", type=int, default=200,
                        help="runs per setting for the fair-model rate")
    parser.add_argument("--power-replicates", type=int, default=100)
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples per run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="a smaller grid, 40 + 20 runs per setting")
    args = parser.parse_args(argv)
    if args.quick:
        args.replicates, args.power_replicates = 40, 20
    grid = settings_grid(args.quick)
    tasks = [(s, i, "fair", r, args.seed, args.bootstrap) for i, s in enumerate(grid)
             for r in range(args.replicates)]
    tasks += [(s, i, "power", r, args.seed, args.bootstrap) for i, s in enumerate(grid)
              if s.case == "grid" for r in range(args.power_replicates)]
    started = time.perf_counter()
    failed: dict[Setting, list[bool]] = {s: [] for s in grid}
    flagged: dict[Setting, list[bool]] = {s: [] for s in grid}
    with ProcessPoolExecutor(args.workers) as pool:
        for setting, scenario, gate_failed, first_flagged in pool.map(simulate, tasks,
                                                                     chunksize=16):
            (failed if scenario == "fair" else flagged)[setting].append(
                gate_failed if scenario == "fair" else first_flagged)
    print(f"# gate calibration: {args.replicates} fair runs and {args.power_replicates} "
          f"power runs per setting, {args.bootstrap} resamples each, seed {args.seed}; "
          f"criterion (b) threshold {100 * THRESHOLD_B:.2f} pt, factor 3, min group size "
          f"{MIN_GROUP_SIZE}, image IoU SD {IMAGE_SD}")
    print(f"{'groups':>16}  {'reference':<10}  {'interval':<10}  {'fw':<5}  "
          f"{'fair model fails (<= 5 %)':<26}  {'power on (b) (>= 80 %)':<24}")
    for setting in grid:
        fair = failed[setting]
        power = flagged[setting]
        print(f"{setting.label()}  {share(sum(fair), len(fair)):<26}  "
              f"{share(sum(power), len(power)):<24}")
    print(f"# {time.perf_counter() - started:.0f} s on {args.workers} worker(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
