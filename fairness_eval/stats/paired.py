"""The paired bootstrap of a change: candidate - baseline over the same images.

Two runs (two models, two thresholds) scored the same photographs; resampling the images
with one set of indices for both runs gives an interval for the change that reflects the
change on those photographs, not the spread between two independent samples. Streams,
BCa and percentile intervals are those of bootstrap.py, so a paired interval is drawn
exactly as every other interval of fairness-eval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import bootstrap as stats


@dataclass(frozen=True)
class PairedChange:
    """Change of a statistic between two runs over the same images, with its interval."""

    n: int
    baseline: float
    candidate: float
    change: float
    ci: tuple[float, float]
    note: str | None = None


def paired_change(
    baseline: stats.Sample,
    candidate: stats.Sample,
    key: tuple[str, ...],
    *,
    seed: int = 0,
    resamples: int = 10_000,
    confidence: float = 0.95,
    method: str = "bca",
) -> PairedChange:
    """Paired bootstrap interval of candidate - baseline for one group's images.

    Both samples hold the same images in the same order; each resample draws one set of
    image indices and applies it to both, from the stream of `key` (bootstrap.stream).
    """
    if method not in stats.CI_METHODS:
        raise ValueError(f"method must be one of {stats.CI_METHODS}, not {method!r}")
    n = baseline.n
    if candidate.n != n or n == 0:
        raise ValueError("paired samples need the same, non-zero number of images")
    b_value, c_value = baseline.value, candidate.value
    change = c_value - b_value
    base_num, base_den, cand_num, cand_den = stats.resampled_sums(
        [baseline.numerator, baseline.denominator, candidate.numerator, candidate.denominator],
        stats.stream(seed, key), resamples)
    theta_b = stats.ratio(cand_num, cand_den) - stats.ratio(base_num, base_den)
    notes = []
    if method == "percentile" or n < 2:
        intervals = stats.percentile_interval(theta_b[None, :], confidence)
    else:
        jackknife = (
            stats.ratio(candidate.numerator.sum() - candidate.numerator,
                        candidate.denominator.sum() - candidate.denominator)
            - stats.ratio(baseline.numerator.sum() - baseline.numerator,
                          baseline.denominator.sum() - baseline.denominator)
        )
        acceleration = stats.jackknife_acceleration([jackknife[None, :]])
        intervals = stats.bca_interval(np.array([change]), theta_b[None, :], acceleration,
                                       confidence)
        if intervals.bca_fallback[0]:
            notes.append("BCa undefined: percentile interval used")
    if n == 1:
        notes.insert(0, "n = 1: the interval is the single change")
    elif theta_b.min() == theta_b.max():
        notes.insert(0, "every resample gives the same change: zero-width interval")
    return PairedChange(
        n=n, baseline=float(b_value), candidate=float(c_value), change=float(change),
        ci=(float(intervals.low[0]), float(intervals.high[0])), note="; ".join(notes) or None,
    )
