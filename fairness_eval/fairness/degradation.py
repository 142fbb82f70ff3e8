"""Disparate degradation: does a group lose more IoU under a capture condition than the rest?

For every condition and severity, each group's images are paired with themselves clean
and degraded. Per group:

- the degraded figure, with its interval;
- the change from clean, degraded - clean (negative: worse), with a paired interval: the
  group's images are resampled once per bootstrap resample and the same indices are used
  for both columns (the change on the same photographs);
- the excess drop, (group drop) - (reference drop), where drop = clean - degraded and the
  reference is the pool of the reference groups' images (the attribute's annotated
  groups: the population a group is compared with), recomputed in every resample.

Verdicts against criterion (b)'s threshold t, one-sided since only a larger drop harms a
group: statistical "violation" when the interval of the excess drop lies wholly above t,
"pass" when it lies wholly at or below t, "inconclusive" otherwise; the point verdict is
"violation" when the estimate exceeds t. Without a threshold both are "not evaluated".

Statistic: "mean" (mean per-image IoU) or "pooled" (sum I / sum U), as in `stats.bootstrap`.
Random streams: group g of attribute a draws from `stream(seed, (*key, "degradation", g))`
for every condition and severity, so the severities of one condition are judged on the
same resampled images whenever the same images are paired (common random numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..stats.bootstrap import ratio
from ..stats.sums import bootstrap_column_sums

# The reference pool's row is told apart by its `reference` flag; its name is for reading only
# (a group in the data may take the same name).
REFERENCE = "(reference)"
_ROUNDING = 1e-12  # "more than the threshold" ignores float rounding, as assess.py does


@dataclass(frozen=True)
class Degradation:
    """One group (or the reference) under one condition and severity."""

    condition: str
    severity: float
    group: str
    n: int  # paired images
    clean: float
    degraded: float
    degraded_ci: tuple[float, float]
    change: float  # degraded - clean
    change_ci: tuple[float, float]
    excess_drop: float | None  # group drop - reference drop; None for the reference row
    excess_drop_ci: tuple[float, float] | None
    point: str  # pass / violation / not evaluated
    statistical: str  # pass / violation / inconclusive / not evaluated
    reference: bool = False  # the reference pool's row, not a group's


@dataclass(frozen=True)
class DegradationResult:
    """Every group's rows for one attribute, with what the intervals were drawn with."""

    rows: list[Degradation]  # per condition and severity: the groups, then the reference
    threshold: float | None
    statistic: str
    reference_groups: list[str] | None  # None: every group
    seed: int
    resamples: int
    confidence: float
    method: str


def excess_verdict(interval: tuple[float, float] | None, threshold: float | None) -> str:
    """One-sided verdict of the excess drop's interval against the threshold."""
    if interval is None or threshold is None:
        return "not evaluated"
    low, high = interval
    if low > threshold + _ROUNDING:
        return "violation"
    if high <= threshold + _ROUNDING:
        return "pass"
    return "inconclusive"


def excess_point_verdict(value: float | None, threshold: float | None) -> str:
    if value is None or threshold is None:
        return "not evaluated"
    return "violation" if value > threshold + _ROUNDING else "pass"


def _columns(rows: pd.DataFrame, statistic: str) -> np.ndarray:
    """Per image: clean numerator, denominator, degraded numerator, denominator."""
    if statistic == "mean":
        ones = np.ones(len(rows))
        return np.column_stack([rows["iou_clean"], ones, rows["iou_degraded"], ones])
    if statistic == "pooled":
        return np.column_stack([rows["intersection_clean"], rows["union_clean"],
                                rows["intersection_degraded"], rows["union_degraded"]])
    raise ValueError(f"statistic must be 'mean' or 'pooled', not {statistic!r}")


def degradation_for(
    paired: pd.DataFrame,
    group: str,
    condition: str,
    severity: float,
    *,
    threshold: float | None,
    statistic: str = "mean",
    reference_groups: Sequence[str] | None = None,
    key: Sequence[str] = (),
    seed: int = 0,
    resamples: int = 10_000,
    confidence: float = 0.95,
    method: str = "bca",
) -> list[Degradation]:
    """Rows for one condition and severity of a paired table (see `pair_tables`)."""
    labels = paired[group].astype(str).to_numpy()
    groups = sorted(set(labels))
    reference = set(groups if reference_groups is None else map(str, reference_groups))
    in_reference = np.array([g in reference for g in groups])
    if not in_reference.any():
        raise ValueError("no reference group has paired images")
    samples = [_columns(paired.loc[labels == g], statistic) for g in groups]
    keys = [(*map(str, key), "degradation", g) for g in groups]
    k = len(groups)

    def values(sums: np.ndarray) -> np.ndarray:
        clean, degraded = ratio(sums[:, 0], sums[:, 1]), ratio(sums[:, 2], sums[:, 3])
        pooled = sums[in_reference].sum(axis=0)
        ref_clean, ref_degraded = ratio(pooled[0], pooled[1]), ratio(pooled[2], pooled[3])
        change, ref_change = degraded - clean, ref_degraded - ref_clean
        return np.concatenate([degraded, change, ref_change - change, ref_degraded[None],
                               ref_change[None], clean, ref_clean[None]])

    result = bootstrap_column_sums(samples, keys, values, seed=seed, resamples=resamples,
                                   confidence=confidence, method=method)
    est, ci = result.estimate, [tuple(map(float, bounds)) for bounds in result.ci]
    rows = []
    for g, name in enumerate(groups):
        excess, excess_ci = float(est[2 * k + g]), ci[2 * k + g]
        rows.append(Degradation(
            condition, severity, name, len(samples[g]), float(est[3 * k + 2 + g]),
            float(est[g]), ci[g], float(est[k + g]), ci[k + g], excess, excess_ci,
            excess_point_verdict(excess, threshold), excess_verdict(excess_ci, threshold)))
    reference_n = sum(len(samples[g]) for g in range(k) if in_reference[g])
    rows.append(Degradation(
        condition, severity, REFERENCE, reference_n, float(est[4 * k + 2]), float(est[3 * k]),
        ci[3 * k], float(est[3 * k + 1]), ci[3 * k + 1], None, None, "not evaluated",
        "not evaluated", reference=True))
    return rows


def pair_tables(clean: pd.DataFrame, conditions: pd.DataFrame) -> pd.DataFrame:
    """Degraded rows joined to their image's clean row (suffixes _clean and _degraded).

    `clean` is the per-image table (image, the group columns, iou, intersection, union);
    `conditions` has a row per image, condition and severity (conditions.csv). Images
    missing from either side are not paired.
    """
    metrics = [c for c in ("iou", "intersection", "union") if c in conditions.columns]
    degraded = conditions[["image", "condition", "severity", *metrics]].rename(
        columns={m: f"{m}_degraded" for m in metrics})
    base = clean.rename(columns={m: f"{m}_clean" for m in metrics})
    return degraded.merge(base, on="image", how="inner", validate="many_to_one")


def disparate_degradation(
    clean: pd.DataFrame,
    conditions: pd.DataFrame,
    group: str,
    *,
    threshold: float | None,
    statistic: str = "mean",
    reference_groups: Sequence[str] | None = None,
    key: Sequence[str] = (),
    seed: int = 0,
    resamples: int = 10_000,
    confidence: float = 0.95,
    method: str = "bca",
) -> DegradationResult:
    """Every group's degradation under every condition and severity, in table order.

    `group` is the column of `clean` with each image's group label under the attribute;
    `reference_groups` the groups pooled as the reference (default: all).
    """
    paired = pair_tables(clean, conditions)
    rows: list[Degradation] = []
    for (condition, severity), part in paired.groupby(["condition", "severity"], sort=False):
        rows.extend(degradation_for(
            part, group, str(condition), float(severity), threshold=threshold,
            statistic=statistic, reference_groups=reference_groups, key=key, seed=seed,
            resamples=resamples, confidence=confidence, method=method))
    return DegradationResult(
        rows=rows, threshold=threshold, statistic=statistic,
        reference_groups=None if reference_groups is None else [str(g) for g in reference_groups],
        seed=seed, resamples=resamples, confidence=confidence, method=method)
