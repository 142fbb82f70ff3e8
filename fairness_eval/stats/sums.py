"""Bootstrap intervals of any statistic of per-sample column sums: stratified, paired, BCa.

Many figures are smooth functions of sums over independent samples: a group's mean IoU
before and after a perturbation (columns clean IoU, degraded IoU, of the same images), a
directly standardised mean (samples = group x stratum cells, columns value and 1), the
pooled IoU (columns I and U). `bootstrap_column_sums` resamples the rows of every sample
within the sample, B times, with one set of row indices per sample and resample applied
to all its columns (so the columns of one image stay paired), and hands the statistic
the (k samples, c columns, B) array of resampled sums.

Random streams are those of `bootstrap.stream`: sample j draws from `stream(seed,
keys[j])` whatever the other samples are, and a sample of the same size and key gets the
same row indices in every call (common random numbers across, e.g., severities).

Intervals are percentile or BCa as in `bootstrap.py` (scipy.stats.bootstrap's BCa with
several samples: acceleration from the jackknife over every sample's rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .bootstrap import (
    CI_METHODS,
    bca_interval,
    jackknife_acceleration,
    percentile_interval,
    resampled_sums,
    stream,
)

# statistic(sums) -> values: sums is (k, c, *trailing), the result (m, *trailing).
SumsStatistic = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class SumsBootstrap:
    """Estimates, bootstrap draws and intervals of the m values a statistic returns."""

    estimate: np.ndarray  # (m,)
    draws: np.ndarray  # (m, B)
    ci: np.ndarray  # (m, 2)
    bca_fallback: np.ndarray  # (m,) True where BCa was undefined and percentile is given
    seed: int
    resamples: int
    confidence: float
    method: str


def bootstrap_column_sums(
    samples: Sequence[np.ndarray],
    keys: Sequence[Sequence[str]],
    statistic: SumsStatistic,
    *,
    seed: int = 0,
    resamples: int = 10_000,
    confidence: float = 0.95,
    method: str = "bca",
) -> SumsBootstrap:
    """Intervals of `statistic` of the samples' column sums; samples[j] is (n_j, c)."""
    if method not in CI_METHODS:
        raise ValueError(f"method must be one of {CI_METHODS}, not {method!r}")
    if len(samples) != len(keys) or not samples:
        raise ValueError("need one key per sample and at least one sample")
    arrays = [np.asarray(sample, dtype=float) for sample in samples]
    if any(a.ndim != 2 or a.shape[1] != arrays[0].shape[1] for a in arrays):
        raise ValueError("every sample must be a 2-D array with the same columns")
    if any(a.shape[0] == 0 for a in arrays):
        raise ValueError("every sample needs at least one row")

    totals = np.stack([a.sum(axis=0) for a in arrays])  # (k, c)
    drawn = np.stack([
        np.stack(resampled_sums(list(a.T), stream(seed, key), resamples))
        for a, key in zip(arrays, keys, strict=True)
    ])  # (k, c, B)
    estimate = np.atleast_1d(np.asarray(statistic(totals), dtype=float))
    draws = np.asarray(statistic(drawn), dtype=float).reshape(estimate.shape[0], resamples)
    if method == "percentile":
        intervals = percentile_interval(draws, confidence)
    else:
        leave_one_out = list(_jackknife(arrays, totals, statistic))
        acceleration = (jackknife_acceleration(leave_one_out) if leave_one_out
                        else np.zeros(estimate.shape))
        intervals = bca_interval(estimate, draws, acceleration, confidence)
    return SumsBootstrap(
        estimate=estimate,
        draws=draws,
        ci=np.stack([intervals.low, intervals.high], axis=1),
        bca_fallback=intervals.bca_fallback,
        seed=seed,
        resamples=resamples,
        confidence=confidence,
        method=method,
    )


def _jackknife(arrays: list[np.ndarray], totals: np.ndarray, statistic: SumsStatistic):
    """For each sample of two or more rows, the statistic with each row left out in turn."""
    for j, rows in enumerate(arrays):
        n = rows.shape[0]
        if n < 2:
            continue
        sums = np.repeat(totals[:, :, None], n, axis=2)  # (k, c, n)
        sums[j] = totals[j][:, None] - rows.T
        yield np.asarray(statistic(sums), dtype=float)
