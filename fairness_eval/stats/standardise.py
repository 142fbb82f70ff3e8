"""Direct standardisation: each group's figure as if it had the whole set's mix of strata.

A gap between groups can come from a confounder: one group's photos are mostly small
people far from the camera, the other's close-ups. Adjusting for a categorical stratum
(e.g. the derived `person_share`) compares the groups on equal terms:

    adjusted_g = sum over s in S_g of w_s * mean_{g,s}  /  sum over s in S_g of w_s

where w_s is stratum s's share of the whole set's images (the standard population) and
mean_{g,s} the mean value of group g's images in stratum s. Strata a group lacks are not
imputed: they are left out of its sum and the weights of the strata it has are
renormalised to 1 (`coverage` is the share of the set those strata hold, 1.0 when the
group has every stratum). The strata it lacks are reported (`missing_strata`); a group
with coverage below 1 is compared on its strata's terms only, which the card must say.

The reference is the whole set's mean (which equals its own standardised figure), and a
group's adjusted deviation is adjusted_g minus that mean. Rows whose stratum is missing
(None, NaN or "") have no stratum to be weighted by: they are left out of everything and
counted (`unstratified`).

Interval: a bootstrap that resamples each group's images within each of its strata (the
group x stratum cells, `sums.bootstrap_column_sums`, stream key (*key, group, stratum)),
the weights w_s held fixed as the standard population they are. The adjusted figures,
the reference and the deviations come from the same resamples; `draws` holds each
group's adjusted bootstrap values so any contrast between groups can be judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .bootstrap import percentile_interval
from .sums import bootstrap_column_sums


@dataclass(frozen=True)
class Standardised:
    """Raw and directly standardised figures of the groups of one attribute."""

    groups: list[str]
    strata: list[str]
    weights: dict[str, float]  # stratum -> share of the standard population
    n: np.ndarray  # images per group
    raw: np.ndarray  # each group's plain mean
    adjusted: np.ndarray
    adjusted_ci: np.ndarray  # (k, 2)
    overall: float  # the whole set's mean: the reference
    deviation: np.ndarray  # adjusted - overall
    deviation_ci: np.ndarray  # (k, 2)
    coverage: np.ndarray  # share of the set in the strata each group has
    missing_strata: list[list[str]]
    cell_counts: dict[tuple[str, str], int]  # (group, stratum) -> images
    unstratified: int  # rows without a stratum, left out
    draws: np.ndarray  # (k, B) bootstrap values of `adjusted`
    seed: int
    resamples: int
    confidence: float
    method: str


def _missing(values: pd.Series) -> np.ndarray:
    return (values.isna() | (values.astype(str).str.strip() == "")).to_numpy()


def standardise(
    table: pd.DataFrame,
    group: str,
    stratum: str,
    value: str = "iou",
    *,
    key: Sequence[str] = (),
    seed: int = 0,
    resamples: int = 10_000,
    confidence: float = 0.95,
    method: str = "bca",
) -> Standardised:
    """Directly standardised means of `value` per `group`, adjusted for `stratum`.

    `table` has one row per image; `group` holds each image's group label, `stratum` its
    stratum label. `key` prefixes the random streams' names (e.g. (attribute, stratum)).
    """
    for column in (group, stratum, value):
        if column not in table.columns:
            raise ValueError(f"no column {column!r} in the table")
    stratified = ~_missing(table[stratum])
    rows = table.loc[stratified]
    if rows.empty:
        raise ValueError(f"no row has a value for {stratum!r}")
    values = rows[value].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise ValueError(f"column {value!r} has missing or infinite values")
    group_labels = rows[group].astype(str).to_numpy()
    stratum_labels = rows[stratum].astype(str).to_numpy()
    groups = sorted(set(group_labels))
    strata = sorted(set(stratum_labels))
    total = len(rows)
    weight = {s: float(np.count_nonzero(stratum_labels == s)) / total for s in strata}

    cells: list[tuple[int, int]] = []
    samples: list[np.ndarray] = []
    keys: list[tuple[str, ...]] = []
    for g, name in enumerate(groups):
        for s, level in enumerate(strata):
            chosen = values[(group_labels == name) & (stratum_labels == level)]
            if chosen.size:
                cells.append((g, s))
                samples.append(np.column_stack([chosen, np.ones_like(chosen)]))
                keys.append((*map(str, key), name, level))
    cell_group = np.array([g for g, _ in cells])
    cell_weight = np.array([weight[strata[s]] for _, s in cells])
    k = len(groups)
    coverage = np.array([cell_weight[cell_group == g].sum() for g in range(k)])

    def statistic(sums: np.ndarray) -> np.ndarray:
        means = sums[:, 0] / sums[:, 1]  # (cells, ...): every cell has >= 1 image
        weighted = cell_weight.reshape((-1,) + (1,) * (means.ndim - 1)) * means
        adjusted = np.stack([weighted[cell_group == g].sum(axis=0) for g in range(k)])
        adjusted = adjusted / coverage.reshape((-1,) + (1,) * (adjusted.ndim - 1))
        overall = sums[:, 0].sum(axis=0) / sums[:, 1].sum(axis=0)
        return np.concatenate([adjusted, adjusted - overall, overall[None]], axis=0)

    result = bootstrap_column_sums(samples, keys, statistic, seed=seed, resamples=resamples,
                                   confidence=confidence, method=method)
    n = np.array([np.count_nonzero(group_labels == name) for name in groups])
    raw = np.array([values[group_labels == name].mean() for name in groups])
    present = {(groups[g], strata[s]) for g, s in cells}
    return Standardised(
        groups=groups,
        strata=strata,
        weights=weight,
        n=n,
        raw=raw,
        adjusted=result.estimate[:k],
        adjusted_ci=result.ci[:k],
        overall=float(result.estimate[2 * k]),
        deviation=result.estimate[k : 2 * k],
        deviation_ci=result.ci[k : 2 * k],
        coverage=coverage,
        missing_strata=[[s for s in strata if (name, s) not in present] for name in groups],
        cell_counts={(groups[g], strata[s]): int(samples[i].shape[0])
                     for i, (g, s) in enumerate(cells)},
        unstratified=int(np.count_nonzero(~stratified)),
        draws=result.draws[:k],
        seed=seed,
        resamples=resamples,
        confidence=confidence,
        method=method,
    )


def difference_interval(result: Standardised, first: str, second: str
                        ) -> tuple[float, tuple[float, float]]:
    """adjusted[first] - adjusted[second] with its percentile interval from the same draws."""
    a, b = result.groups.index(first), result.groups.index(second)
    interval = percentile_interval(result.draws[a] - result.draws[b], result.confidence)
    return (float(result.adjusted[a] - result.adjusted[b]),
            (float(interval.low[0]), float(interval.high[0])))
