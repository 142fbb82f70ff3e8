"""Where 95 % bootstrap intervals of a group's mean IoU under-cover, and what fixes it.

Simulates groups of n per-image IoUs from a mixture: exactly 0 with probability p0 (person
missed), exactly 1 with probability p1 (both empty, or perfect), otherwise Beta(a, b).
Two Beta bases: Beta(8, 2) (mean 0.80, SD 0.12) and a method-of-moments fit to the
0 < IoU < 1 values of tests/golden/voc_per_image.csv (VOC 2012 person, the default model:
J-shaped, mean ~0.71, SD ~0.27). For every cell (base, n, p0, p1) it draws R groups and
measures how often each interval covers the true mean:

- bca, percentile: the project's own (`fairness_eval.stats`); the first replicates of every
  cell are checked to equal `bootstrap_value` exactly, so the figures are the tool's;
- boot-t: studentised bootstrap, t* = (mean* - mean) / (SD* / sqrt(n)); a resample with
  SD* = 0 gives t* = +-inf (0 when mean* = mean), a sample with SD = 0 the single value;
- t: mean +- t(n-1) SD / sqrt(n), clipped to [0, 1];
- pct-wide, bca-wide: the interval's arms times sqrt(n / (n - 1));
- pct-exp, bca-exp: the "expanded" intervals (Hesterberg 2015): the percentile or BCa
  interval at the level 1 - 2 Phi(-sqrt(n / (n - 1)) t(n-1, 0.975)), which makes a
  bootstrap quantile as wide as the t interval's for a normal sample.

Then it evaluates rules that flag a group (verdict inconclusive) from what is known about
the group: n, the images strictly between 0 and 1 ("interior"), distinct values,
n - max(#0, #1), and Cochran's rule for a mean's normal interval, n >= 25 G1^2, with G1
the skewness of the per-image IoU: of the group itself, or of the run's images (a pool of
300: the group and more images of the same mixture, as under the fairness null the
verdicts test). For each rule and interval method: the coverage of the unflagged groups
in every cell, the share of groups flagged, and the cells the rule gets wrong (a cell
under-covers when its coverage is below 93 %; the rule "flags" a cell when it flags more
than half of the cell's groups).

Then the same for the deviation interval of criterion (a), on the first 500 groups of each
cell (--deviation-replicates): the group beside one other group of 100 images (same base,
p0 = 0.05), reference "overall" (all images pooled), stratified resamples as
`stratified_bootstrap` draws them (checked equal to it on the first replicates).

Every draw is seeded (`fairness_eval.stats.streams.stream`): same seed, same table.

    .venv/bin/python benchmarks/small_group_coverage.py            # ~6 min, 1 core
    .venv/bin/python benchmarks/small_group_coverage.py --quick    # ~1 min
    .venv/bin/python benchmarks/small_group_coverage.py --workers 2 --deviation-replicates 0
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats as sps

from fairness_eval.stats.bootstrap import (
    bootstrap_value,
    make_sample,
    resampled_sums,
    stratified_bootstrap,
)
from fairness_eval.stats.intervals import (
    bca_interval,
    jackknife_acceleration,
    percentile_interval,
)
from fairness_eval.stats.streams import stream

CONFIDENCE = 0.95
TARGET_LOW = 0.93
TARGET_HIGH = 0.97
NS = (3, 5, 8, 10, 15, 20, 30, 50, 100)
TIES = ((0.0, 0.0), (0.05, 0.0), (0.1, 0.0), (0.2, 0.0), (0.0, 0.3), (0.1, 0.3), (0.3, 0.3))
METHODS = ("bca", "percentile", "boot-t", "t", "pct-wide", "bca-wide", "pct-exp", "bca-exp")
DEV_METHODS = ("bca", "percentile", "boot-t", "welch-t", "pct-exp", "bca-exp")
GOLDEN_PER_IMAGE = Path(__file__).resolve().parents[1] / "tests/golden/voc_per_image.csv"
FALLBACK_VOC_BETA = (1.33, 0.556)  # the fit below, if the golden file is absent
OTHER_GROUP_N = 100
POOL_N = 300  # images of the run whose skewness the skewness rules read (VOC's 300)
VERIFY_REPLICATES = 3
_SD_ZERO = 1e-12  # IoU fractions: an SD below this is rounding of equal values


def voc_beta(path: Path = GOLDEN_PER_IMAGE) -> tuple[float, float]:
    """Method-of-moments Beta of the per-image IoUs strictly between 0 and 1 in `path`."""
    if not path.is_file():
        return FALLBACK_VOC_BETA
    with path.open(newline="") as handle:
        values = np.array([float(row["iou"]) for row in csv.DictReader(handle)
                           if row.get("status", "ok") == "ok" and row["iou"] not in ("", "nan")])
    interior = values[(values > 0) & (values < 1)]
    mean, var = interior.mean(), interior.var(ddof=1)
    common = mean * (1 - mean) / var - 1
    return round(float(mean * common), 3), round(float((1 - mean) * common), 3)


@dataclass(frozen=True)
class Cell:
    base: str
    a: float
    b: float
    n: int
    p0: float
    p1: float

    @property
    def label(self) -> str:
        return f"{self.base}/n={self.n}/p0={self.p0}/p1={self.p1}"

    @property
    def mean(self) -> float:
        return self.p1 + (1 - self.p0 - self.p1) * self.a / (self.a + self.b)


def draw_groups(cell: Cell, replicates: int, n: int, seed: int, tag: str,
                p0: float | None = None, p1: float | None = None) -> np.ndarray:
    """(replicates, n) per-image IoUs of the cell's mixture (or p0, p1 given)."""
    p0 = cell.p0 if p0 is None else p0
    p1 = cell.p1 if p1 is None else p1
    rng = stream(seed, ("data", tag, cell.label))
    u = rng.random((replicates, n))
    interior = rng.beta(cell.a, cell.b, (replicates, n))
    return np.where(u < p0, 0.0, np.where(u < p0 + p1, 1.0, interior))


def expanded_confidence(n: int, confidence: float = CONFIDENCE) -> float:
    """Level whose normal quantile equals sqrt(n/(n-1)) times the t(n-1) quantile."""
    alpha = (1 - confidence) / 2
    return float(1 - 2 * sps.norm.cdf(-math.sqrt(n / (n - 1)) * sps.t.ppf(1 - alpha, n - 1)))


def studentised(theta_hat: np.ndarray, se_hat: np.ndarray, theta_b: np.ndarray,
                se_b: np.ndarray, confidence: float = CONFIDENCE) -> tuple[np.ndarray, ...]:
    """Bootstrap-t interval per row; rows with se_hat = 0 give the single value."""
    diff = theta_b - theta_hat[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_b = np.where(se_b > 0, diff / np.where(se_b > 0, se_b, 1.0),
                       np.sign(diff) * np.inf)
    t_b = np.where(np.isnan(t_b), 0.0, t_b)  # SD* = 0 and mean* = mean
    alpha = (1 - confidence) / 2
    q_low, q_high = np.quantile(t_b, [alpha, 1 - alpha], axis=1, method="inverted_cdf")
    with np.errstate(invalid="ignore"):
        low = np.where(se_hat > 0, theta_hat - q_high * se_hat, theta_hat)
        high = np.where(se_hat > 0, theta_hat - q_low * se_hat, theta_hat)
    return low, high


def widened(theta_hat: np.ndarray, low: np.ndarray, high: np.ndarray,
            factor: float) -> tuple[np.ndarray, np.ndarray]:
    return theta_hat + (low - theta_hat) * factor, theta_hat + (high - theta_hat) * factor


def sd_from_sums(s1: np.ndarray, s2: np.ndarray, n: int) -> np.ndarray:
    var = np.maximum(s2 - s1 * s1 / n, 0.0) / (n - 1)
    sd = np.sqrt(var)
    return np.where(sd < _SD_ZERO, 0.0, sd)


def skewness(values: np.ndarray) -> np.ndarray:
    """Adjusted Fisher-Pearson sample skewness per row (scipy's bias=False); 0 if SD = 0."""
    n = values.shape[1]
    if n < 3:
        return np.zeros(values.shape[0])
    centred = values - values.mean(axis=1, keepdims=True)
    m2 = (centred**2).mean(axis=1)
    m3 = (centred**3).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g1 = m3 / m2**1.5 * math.sqrt(n * (n - 1)) / (n - 2)
    return np.where(m2 > _SD_ZERO**2, g1, 0.0)


def simulate_cell(job: tuple[Cell, int, int, int, int]) -> dict:
    """Coverage flags, widths and per-group features of one cell (one process's job).

    The deviation interval is measured on the first `deviation` groups (0: not at all).
    """
    cell, replicates, resamples, seed, deviation = job
    n = cell.n
    x = draw_groups(cell, replicates, n, seed, "group")
    m_b = np.empty((replicates, resamples))
    sd_b = np.empty((replicates, resamples))
    keys = [("coverage", cell.label, str(r)) for r in range(replicates)]
    for r in range(replicates):
        s1, s2 = resampled_sums([x[r], x[r] * x[r]], stream(seed, keys[r]), resamples)
        m_b[r] = s1 / n  # as the tool computes it: ratio(sum, n)
        sd_b[r] = sd_from_sums(s1, s2, n)
    theta = x.sum(axis=1) / n
    sd = np.where(x.std(axis=1, ddof=1) < _SD_ZERO, 0.0, x.std(axis=1, ddof=1))
    se = sd / math.sqrt(n)
    jack = (x.sum(axis=1, keepdims=True) - x) / (n - 1)
    acc = jackknife_acceleration([jack])

    intervals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    bca = bca_interval(theta, m_b, acc, CONFIDENCE)
    pct = percentile_interval(m_b, CONFIDENCE)
    intervals["bca"] = (bca.low, bca.high)
    intervals["percentile"] = (pct.low, pct.high)
    intervals["boot-t"] = studentised(theta, se, m_b, sd_b / math.sqrt(n))
    half = sps.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * se
    intervals["t"] = (theta - half, theta + half)
    factor = math.sqrt(n / (n - 1))
    intervals["pct-wide"] = widened(theta, pct.low, pct.high, factor)
    intervals["bca-wide"] = widened(theta, bca.low, bca.high, factor)
    level = expanded_confidence(n)
    pct_e = percentile_interval(m_b, level)
    bca_e = bca_interval(theta, m_b, acc, level)
    intervals["pct-exp"] = (pct_e.low, pct_e.high)
    intervals["bca-exp"] = (bca_e.low, bca_e.high)

    # The simulated bca and percentile intervals are the tool's own, draw for draw.
    for r in range(min(VERIFY_REPLICATES, replicates)):
        sample = make_sample("mean", iou=x[r])
        for method in ("bca", "percentile"):
            _, (low, high), _ = bootstrap_value(sample, keys[r], seed=seed,
                                                resamples=resamples, method=method)
            ours = intervals[method]
            if not np.allclose([low, high], [ours[0][r], ours[1][r]], rtol=0, atol=1e-12):
                raise AssertionError(f"{cell.label} r={r} {method}: simulation differs "
                                     f"from bootstrap_value")

    truth = cell.mean
    out: dict = {"cell": cell, "covered": {}, "miss_low": {}, "miss_high": {}, "width": {}}
    for method, (low, high) in intervals.items():
        low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
        out["covered"][method] = (low <= truth) & (truth <= high)
        out["miss_low"][method] = truth < low  # interval wholly above the truth
        out["miss_high"][method] = truth > high
        out["width"][method] = high - low
    zeros, ones = (x == 0).sum(axis=1), (x == 1).sum(axis=1)
    # The run's other images: the group plus POOL_N - n more of the same mixture, as if
    # the attribute's groups were alike (the fairness null the verdicts test).
    extra = draw_groups(cell, replicates, max(POOL_N - n, 0), seed, "pool")
    out["features"] = {
        "n": np.full(replicates, n),
        "zeros": zeros,
        "ones": ones,
        "interior": n - zeros - ones,
        "distinct": np.array([np.unique(row).size for row in x]),
        "skew_group": skewness(x),
        "skew_pool": skewness(np.concatenate([x, extra], axis=1)),
    }
    if deviation:
        out["deviation"] = simulate_deviation(cell, x[:deviation], resamples, seed)
    return out


def simulate_deviation(cell: Cell, x: np.ndarray, resamples: int, seed: int) -> dict:
    """Coverage of the group's deviation from the overall mean of it and one other group."""
    replicates, n_a = x.shape
    n_b = OTHER_GROUP_N
    other = Cell(cell.base, cell.a, cell.b, n_b, 0.05, 0.0)
    y = draw_groups(cell, replicates, n_b, seed, "other", p0=other.p0, p1=other.p1)
    w = n_a / (n_a + n_b)
    truth = (1 - w) * (cell.mean - other.mean)

    def dev(sum_a, sum_b, count_a=n_a, count_b=n_b):
        # the tool's arithmetic: group ratio minus the pooled ratio
        return sum_a / count_a - (sum_a + sum_b) / (count_a + count_b)

    d_b = np.empty((replicates, resamples))
    se_b = np.empty((replicates, resamples))
    keys = [[("deviation", cell.label, str(r), "A"), ("deviation", cell.label, str(r), "B")]
            for r in range(replicates)]
    for r in range(replicates):
        a1, a2 = resampled_sums([x[r], x[r] ** 2], stream(seed, keys[r][0]), resamples)
        b1, b2 = resampled_sums([y[r], y[r] ** 2], stream(seed, keys[r][1]), resamples)
        d_b[r] = dev(a1, b1)
        se_b[r] = (1 - w) * np.sqrt(sd_from_sums(a1, a2, n_a) ** 2 / n_a
                                    + sd_from_sums(b1, b2, n_b) ** 2 / n_b)
    sum_a, sum_b = x.sum(axis=1), y.sum(axis=1)
    theta = dev(sum_a, sum_b)
    var_a, var_b = x.var(axis=1, ddof=1), y.var(axis=1, ddof=1)
    se = (1 - w) * np.sqrt(var_a / n_a + var_b / n_b)
    se = np.where(se < _SD_ZERO, 0.0, se)
    jack_a = dev(sum_a[:, None] - x, sum_b[:, None], n_a - 1, n_b)
    jack_b = dev(sum_a[:, None], sum_b[:, None] - y, n_a, n_b - 1)
    acc = jackknife_acceleration([jack_a, jack_b])

    intervals = {}
    bca = bca_interval(theta, d_b, acc, CONFIDENCE)
    pct = percentile_interval(d_b, CONFIDENCE)
    intervals["bca"] = (bca.low, bca.high)
    intervals["percentile"] = (pct.low, pct.high)
    intervals["boot-t"] = studentised(theta, se, d_b, se_b)
    # Welch-Satterthwaite degrees of freedom (the deviation is a scaled difference).
    va, vb = var_a / n_a, var_b / n_b
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    df = np.where(np.isfinite(df), df, n_a - 1)
    half = sps.t.ppf(0.5 + CONFIDENCE / 2, df) * se
    intervals["welch-t"] = (theta - half, theta + half)
    level = expanded_confidence(n_a)  # the small group dominates the deviation's error
    pct_e = percentile_interval(d_b, level)
    bca_e = bca_interval(theta, d_b, acc, level)
    intervals["pct-exp"] = (pct_e.low, pct_e.high)
    intervals["bca-exp"] = (bca_e.low, bca_e.high)

    for r in range(min(VERIFY_REPLICATES, replicates)):
        samples = [make_sample("mean", iou=x[r]), make_sample("mean", iou=y[r])]
        for method in ("bca", "percentile"):
            result = stratified_bootstrap(samples, keys[r], seed=seed, resamples=resamples,
                                          method=method, reference="overall")
            low, high = result.deviation_ci[0]
            ours = intervals[method]
            if not np.allclose([low, high], [ours[0][r], ours[1][r]], rtol=0, atol=1e-12):
                raise AssertionError(f"{cell.label} r={r} deviation {method}: simulation "
                                     f"differs from stratified_bootstrap")
    return {method: (low <= truth) & (truth <= high)
            for method, (low, high) in intervals.items()}


# ------------------------------------------------------------------------------ rules


@dataclass(frozen=True)
class Rule:
    """Flag (inconclusive) when the feature `kind` is below `limit`, or n < `also_n`.

    Skewness kinds compare n with `limit` x G1^2 (Cochran's rule, limit 25): "cochran-pool"
    reads G1 of the run's images (POOL_N), "cochran-group" the group's own.
    """

    name: str
    kind: str
    limit: float
    also_n: int = 0

    def flags(self, f: dict) -> np.ndarray:
        if self.kind.startswith("cochran"):
            g1 = f["skew_pool" if self.kind == "cochran-pool" else "skew_group"]
            flagged = f["n"] < self.limit * g1**2
        else:
            value = {"n": f["n"], "interior": f["interior"], "distinct": f["distinct"],
                     "n-maxtie": f["n"] - np.maximum(f["zeros"], f["ones"])}[self.kind]
            flagged = value < self.limit
        if self.also_n:
            flagged |= f["n"] < self.also_n
        return flagged


RECOMMENDED = Rule("n < 10 or n < 25 G1pool^2", "cochran-pool", 25, 10)


def candidate_rules() -> list[Rule]:
    rules = [Rule(f"n < {k}", "n", k) for k in (8, 10, 15, 20, 25, 30, 50)]
    rules += [Rule(f"interior < {k}", "interior", k) for k in (5, 8, 10, 15, 20)]
    rules += [Rule(f"distinct < {k}", "distinct", k) for k in (5, 10, 15)]
    rules += [Rule(f"n - max(#0,#1) < {k}", "n-maxtie", k) for k in (10, 15, 20)]
    rules += [Rule(f"n < {m} or interior < {k}", "interior", k, m)
              for m, k in itertools.product((10, 20), (10, 15))]
    for kind, label, floors, constants in (("cochran-group", "G1group", (0, 10), (25, 40)),
                                           ("cochran-pool", "G1pool", (0, 8, 10, 15),
                                            (15, 25, 40))):
        for m, c in itertools.product(floors, constants):
            name = (f"n < {m} or " if m else "") + f"n < {c} {label}^2"
            rules.append(Rule(name, kind, c, m))
    return rules


def evaluate_rule(rule: Rule, results: list[dict], method: str, min_left: int) -> dict:
    """Coverage of unflagged groups per cell, flagged shares and wrong cells."""
    worst, worst_cell, fn, fp = 1.0, "", [], []
    flagged_ok, total_ok = 0, 0
    for res in results:
        covered = res["covered"][method]
        flagged = rule.flags(res["features"])
        coverage = covered.mean()
        share = flagged.mean()
        kept = covered[~flagged]
        if kept.size >= min_left and kept.mean() < worst:
            worst, worst_cell = float(kept.mean()), res["cell"].label
        if coverage < TARGET_LOW and share <= 0.5:
            fn.append(res["cell"].label)
        if coverage >= TARGET_LOW:
            total_ok += flagged.size
            flagged_ok += int(flagged.sum())
            if share > 0.5:
                fp.append(res["cell"].label)
    return {"rule": rule.name, "worst_kept": worst, "worst_cell": worst_cell, "fn": fn,
            "fp": fp, "cost": flagged_ok / max(total_ok, 1)}


# ----------------------------------------------------------------------------- report


def coverage_table(results: list[dict], methods: tuple[str, ...], key: str = "covered") -> str:
    head = f"{'base':7} {'n':>4} {'p0':>5} {'p1':>5} " + " ".join(f"{m:>10}" for m in methods)
    lines = [head, "-" * len(head)]
    for res in results:
        c = res["cell"]
        row = res[key]
        values = []
        for m in methods:
            v = row[m].mean()
            mark = "*" if v < TARGET_LOW else ("+" if v > TARGET_HIGH else " ")
            values.append(f"{100 * v:9.1f}{mark}")
        lines.append(f"{c.base:7} {c.n:>4} {c.p0:>5} {c.p1:>5} " + " ".join(values))
    return "\n".join(lines)


def summary_table(results: list[dict], methods: tuple[str, ...], getter) -> str:
    head = f"{'method':10} {'mean':>6} {'median':>6} {'min':>6} {'<93':>4} {'93-97':>5} {'>97':>4}"
    lines = [head]
    for m in methods:
        cov = np.array([getter(res)[m].mean() for res in results])
        lines.append(f"{m:10} {100 * cov.mean():6.1f} {100 * np.median(cov):6.1f} "
                     f"{100 * cov.min():6.1f} {(cov < TARGET_LOW).sum():4d} "
                     f"{((cov >= TARGET_LOW) & (cov <= TARGET_HIGH)).sum():5d} "
                     f"{(cov > TARGET_HIGH).sum():4d}")
    return "\n".join(lines)


def width_table(results: list[dict], methods: tuple[str, ...]) -> str:
    ns = sorted({res["cell"].n for res in results})
    head = f"{'n':>4} " + " ".join(f"{m:>10}" for m in methods)
    lines = [head]
    for n in ns:
        cells = [res for res in results if res["cell"].n == n]
        widths = [np.mean([np.median(res["width"][m]) for res in cells]) for m in methods]
        lines.append(f"{n:>4} " + " ".join(f"{100 * w:10.1f}" for w in widths))
    return "\n".join(lines)


def miss_sides(results: list[dict], method: str) -> str:
    lines = [f"{'base':7} {'n':>4} {'p0':>5} {'p1':>5} {'cover':>6} {'above':>6} {'below':>6}"]
    for res in results:
        c = res["cell"]
        if res["covered"][method].mean() < TARGET_LOW:
            lines.append(f"{c.base:7} {c.n:>4} {c.p0:>5} {c.p1:>5} "
                         f"{100 * res['covered'][method].mean():6.1f} "
                         f"{100 * res['miss_low'][method].mean():6.1f} "
                         f"{100 * res['miss_high'][method].mean():6.1f}")
    return "\n".join(lines)


def rule_by_cell(results: list[dict], rule: Rule, methods: tuple[str, ...]) -> str:
    """Per cell: share flagged, then per method coverage of all and of unflagged groups."""
    head = (f"{'base':7} {'n':>4} {'p0':>5} {'p1':>5} {'flag%':>6} "
            + " ".join(f"{m + ' all/kept':>18}" for m in methods))
    lines = [head]
    for res in results:
        c = res["cell"]
        flagged = rule.flags(res["features"])
        parts = []
        for m in methods:
            covered = res["covered"][m]
            kept = covered[~flagged]
            shown = f"{100 * kept.mean():5.1f}" if kept.size else "    -"
            mark = "*" if kept.size >= 20 and kept.mean() < TARGET_LOW else " "
            parts.append(f"{100 * covered.mean():11.1f}/{shown}{mark}")
        lines.append(f"{c.base:7} {c.n:>4} {c.p0:>5} {c.p1:>5} {100 * flagged.mean():6.1f} "
                     + " ".join(parts))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicates", type=int, default=2000, help="groups per cell")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples B")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="voc base, n = 5, 10, 20, 50, B = 1,000 (~1 min)")
    parser.add_argument("--deviation-replicates", type=int, default=500,
                        help="groups per cell whose deviation interval is measured (0: none)")
    parser.add_argument("--bases", default="beta82,voc")
    parser.add_argument("--ns", default=",".join(map(str, NS)))
    parser.add_argument("--rule-methods", default="bca,percentile,bca-exp")
    args = parser.parse_args()
    if args.quick:
        args.replicates, args.resamples, args.deviation_replicates = 1000, 1000, 300
        args.ns = "5,10,20,50"
        args.bases = "voc"

    voc = voc_beta()
    bases = {"beta82": (8.0, 2.0), "voc": voc}
    cells = [Cell(base, *bases[base], n, p0, p1)
             for base in args.bases.split(",")
             for n in (int(v) for v in args.ns.split(","))
             for p0, p1 in TIES]
    deviation = min(args.deviation_replicates, args.replicates)
    jobs = [(cell, args.replicates, args.resamples, args.seed, deviation)
            for cell in cells]
    start = time.perf_counter()
    if args.workers > 1:
        with multiprocessing.Pool(args.workers) as pool:
            results = pool.map(simulate_cell, jobs, chunksize=1)
    else:
        results = [simulate_cell(job) for job in jobs]
    elapsed = time.perf_counter() - start

    se = 100 * math.sqrt(0.95 * 0.05 / args.replicates)
    print(f"Coverage of 95 % intervals of a group's mean IoU: {args.replicates} groups per "
          f"cell, B = {args.resamples}, seed {args.seed}; Monte Carlo SE at 95 %: "
          f"{se:.1f} pt. Bases: beta82 = Beta(8, 2); voc = Beta{voc} (fit to 0 < IoU < 1 "
          f"of tests/golden/voc_per_image.csv). bca/percentile equal bootstrap_value's "
          f"on the first {VERIFY_REPLICATES} groups of every cell. "
          f"* below {100 * TARGET_LOW:.0f} %, + above {100 * TARGET_HIGH:.0f} %.\n")
    print(coverage_table(results, METHODS))
    print("\nAcross cells (coverage %, number of cells):")
    print(summary_table(results, METHODS, lambda res: res["covered"]))
    print("\nMedian width (pt of IoU), averaged over the cells of each n:")
    print(width_table(results, METHODS))
    print("\nbca's under-covering cells, by side (% of groups: interval wholly above / "
          "below the true mean):")
    print(miss_sides(results, "bca"))

    min_left = max(20, args.replicates // 20)
    for method in args.rule_methods.split(","):
        evaluated = [evaluate_rule(rule, results, method, min_left) for rule in candidate_rules()]
        print(f"\nRules on {method}: worst coverage of unflagged groups in any cell (cells "
              f"with >= {min_left} unflagged), share of groups flagged in cells that "
              f"cover >= 93 % (cost), cells under 93 % not flagged (FN) and cells >= 93 % "
              f"flagged (FP) by majority:")
        print(f"{'rule':28} {'worst':>6} {'cost':>6} {'FN':>3} {'FP':>3}  worst cell")
        for e in evaluated:
            print(f"{e['rule']:28} {100 * e['worst_kept']:6.1f} {100 * e['cost']:6.1f} "
                  f"{len(e['fn']):3d} {len(e['fp']):3d}  {e['worst_cell']}")
            if e["fn"] and len(e["fn"]) <= 4:
                print(f"{'':28} FN: {', '.join(e['fn'])}")

    print(f"\nRecommended rule '{RECOMMENDED.name}' (G1: skewness of {POOL_N} images of the "
          f"run, the group among them) per cell: % of groups flagged; coverage of all "
          f"groups / of the unflagged ones (* unflagged coverage below 93 %):")
    print(rule_by_cell(results, RECOMMENDED, ("bca", "percentile", "bca-exp")))

    if deviation:
        print(f"\nDeviation interval (group vs overall mean with one other group of "
              f"{OTHER_GROUP_N} images, p0 = 0.05), coverage of the true deviation, "
              f"{deviation} groups per cell:")
        print(coverage_table(results, DEV_METHODS, key="deviation"))
        print("\nAcross cells:")
        print(summary_table(results, DEV_METHODS, lambda res: res["deviation"]))
        dev_results = [dict(res, covered=res["deviation"],
                            features={k: v[:deviation] for k, v in res["features"].items()})
                       for res in results]
        print(f"\nRecommended rule '{RECOMMENDED.name}' on the deviation interval:")
        print(rule_by_cell(dev_results, RECOMMENDED, ("bca", "percentile", "bca-exp")))
        for method in ("bca", "percentile", "bca-exp"):
            evaluated = [evaluate_rule(rule, dev_results, method, min_left)
                         for rule in candidate_rules()]
            print(f"\nRules on the deviation interval, {method}:")
            print(f"{'rule':28} {'worst':>6} {'cost':>6} {'FN':>3} {'FP':>3}  worst cell")
            for e in evaluated:
                print(f"{e['rule']:28} {100 * e['worst_kept']:6.1f} {100 * e['cost']:6.1f} "
                      f"{len(e['fn']):3d} {len(e['fp']):3d}  {e['worst_cell']}")
    print(f"\n{len(cells)} cells in {elapsed:.0f} s with {args.workers} worker(s).")


if __name__ == "__main__":
    main()
