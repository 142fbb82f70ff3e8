"""Confidence intervals from bootstrap distributions: percentile and BCa, row by row.

"percentile" takes the alpha/2 and 1 - alpha/2 quantiles of the bootstrap distribution
(linear interpolation, as numpy and scipy do). "bca" follows scipy.stats.bootstrap (Efron
& Tibshirani 14.3, 15.4): bias correction from the share of resamples below the
estimate, acceleration from the jackknife. Where BCa is undefined (the estimate lies
outside the bootstrap distribution) the percentile interval is used and flagged
(`bca_fallback`); a distribution that is a single value gives [value, value], never NaN.
Every function takes many statistics at once, one per row of a (m, B) array, and a
confidence that may differ by row (family-wise control judges some statistics at a higher
confidence than others). `Distributions` keeps sorted bootstrap distributions so that the
interval of any row can be read again at another confidence without resampling.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri


@dataclass(frozen=True)
class Intervals:
    """Interval bounds for several statistics at once (one per row)."""

    low: np.ndarray
    high: np.ndarray
    bca_fallback: np.ndarray  # True where BCa was undefined and the percentile one is given


def _quantiles_of_sorted(sorted_rows: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per-row quantile of row-sorted data, linear interpolation (numpy's default method)."""
    resamples = sorted_rows.shape[1]
    position = np.clip(probabilities, 0.0, 1.0) * (resamples - 1)
    below = np.floor(position).astype(int)
    above = np.minimum(below + 1, resamples - 1)
    fraction = position - below
    rows = np.arange(sorted_rows.shape[0])
    low, high = sorted_rows[rows, below], sorted_rows[rows, above]
    # A zero step keeps infinite or equal neighbours exact instead of producing NaN.
    step = np.where(high == low, 0.0, high - low)
    return np.where(fraction == 0, low, low + fraction * step)


def _tail(confidence: float | np.ndarray, rows: int) -> np.ndarray:
    """Each row's tail probability, (1 - confidence) / 2, as an array of `rows`."""
    return np.broadcast_to((1.0 - np.asarray(confidence, dtype=float)) / 2.0, (rows,))


def percentile_interval(theta_b: np.ndarray, confidence: float | np.ndarray) -> Intervals:
    """Percentile intervals of each row of the bootstrap distributions `theta_b` (m, B)."""
    return percentile_of_sorted(np.sort(np.atleast_2d(theta_b), axis=1), confidence)


def percentile_of_sorted(ordered: np.ndarray, confidence: float | np.ndarray) -> Intervals:
    """`percentile_interval` of distributions already sorted along each row."""
    m = ordered.shape[0]
    alpha = _tail(confidence, m)
    return Intervals(
        low=_quantiles_of_sorted(ordered, alpha),
        high=_quantiles_of_sorted(ordered, 1.0 - alpha),
        bca_fallback=np.zeros(m, dtype=bool),
    )


def jackknife_acceleration(jackknife_values: Iterable[np.ndarray]) -> np.ndarray:
    """BCa acceleration from leave-one-out values, as scipy.stats.bootstrap computes it.

    `jackknife_values` holds, for each sample j, an array (m, n_j): the m statistics with
    each of sample j's n_j observations left out in turn. Samples with fewer than two
    observations carry no jackknife information and are skipped. Zero spread gives 0.
    """
    numerator = denominator = None
    for values in jackknife_values:
        values = np.atleast_2d(values)
        n = values.shape[1]
        if n < 2:
            continue
        # A standardised deviation whose leave-one-out SD reaches 0 is astronomically large:
        # its acceleration is then NaN (inf / inf), which bca_of_sorted reads as 0.
        with np.errstate(over="ignore", invalid="ignore"):
            influence = (n - 1) * (values.mean(axis=1, keepdims=True) - values)
            cubes = (influence**3).sum(axis=1) / n**3
            squares = (influence**2).sum(axis=1) / n**2
        numerator = cubes if numerator is None else numerator + cubes
        denominator = squares if denominator is None else denominator + squares
    if numerator is None:
        raise ValueError("no sample has two or more observations")
    with np.errstate(divide="ignore", invalid="ignore"):
        acceleration = numerator / (6.0 * denominator**1.5)
    return np.where(denominator > 0, acceleration, 0.0)


def bca_interval(
    theta_hat: np.ndarray, theta_b: np.ndarray, acceleration: np.ndarray,
    confidence: float | np.ndarray,
) -> Intervals:
    """BCa intervals for each row of `theta_b` (m, B) around the estimates `theta_hat` (m,)."""
    ordered = np.sort(np.atleast_2d(theta_b), axis=1)
    return bca_of_sorted(theta_hat, ordered, acceleration, confidence)


def bca_of_sorted(
    theta_hat: np.ndarray, ordered: np.ndarray, acceleration: np.ndarray,
    confidence: float | np.ndarray,
) -> Intervals:
    """`bca_interval` of distributions already sorted along each row."""
    theta_hat = np.atleast_1d(np.asarray(theta_hat, dtype=float))
    alpha = _tail(confidence, ordered.shape[0])
    resamples = ordered.shape[1]
    below = (ordered < theta_hat[:, None]).sum(axis=1)
    at_or_below = (ordered <= theta_hat[:, None]).sum(axis=1)
    # scipy's percentile of score ("mean" kind): ties count half.
    z0 = ndtri((below + at_or_below) / (2.0 * resamples))
    a_hat = np.nan_to_num(np.asarray(acceleration, dtype=float), nan=0.0)
    z_alpha = ndtri(alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower_term = z0 + z_alpha
        upper_term = z0 - z_alpha
        alpha_low = ndtr(z0 + lower_term / (1.0 - a_hat * lower_term))
        alpha_high = ndtr(z0 + upper_term / (1.0 - a_hat * upper_term))
    constant = ordered[:, 0] == ordered[:, -1]
    defined = np.isfinite(z0) & np.isfinite(alpha_low) & np.isfinite(alpha_high)
    defined |= constant  # any quantile of a constant distribution is that constant
    alpha_low = np.where(defined, alpha_low, alpha)
    alpha_high = np.where(defined, alpha_high, 1.0 - alpha)
    return Intervals(
        low=_quantiles_of_sorted(ordered, np.nan_to_num(alpha_low, nan=alpha)),
        high=_quantiles_of_sorted(ordered, np.nan_to_num(alpha_high, nan=1.0 - alpha)),
        bca_fallback=~defined,
    )


@dataclass(frozen=True)
class Distributions:
    """Bootstrap distributions of m statistics, sorted, and how to read their intervals.

    `interval(rows, confidence)` gives the percentile or BCa interval of the chosen rows at
    a confidence per row; at the run's confidence it equals the interval first computed.
    """

    estimate: np.ndarray  # (m,)
    ordered: np.ndarray  # (m, B), each row sorted
    acceleration: np.ndarray | None  # (m,) for BCa; None for percentile intervals
    percentile_rows: np.ndarray | None = None  # (m,) rows given percentile intervals anyway

    def interval(self, rows: np.ndarray | list[int],
                 confidence: float | np.ndarray) -> Intervals:
        rows = np.asarray(rows, dtype=int)
        percentile = percentile_of_sorted(self.ordered[rows], confidence)
        if self.acceleration is None:
            return percentile
        bca = bca_of_sorted(self.estimate[rows], self.ordered[rows],
                            self.acceleration[rows], confidence)
        if self.percentile_rows is None:
            return bca
        keep = self.percentile_rows[rows]
        return Intervals(low=np.where(keep, percentile.low, bca.low),
                         high=np.where(keep, percentile.high, bca.high),
                         bca_fallback=np.where(keep, False, bca.bca_fallback))


__all__ = ["Distributions", "Intervals", "bca_interval", "bca_of_sorted",
           "jackknife_acceleration", "percentile_interval", "percentile_of_sorted"]
