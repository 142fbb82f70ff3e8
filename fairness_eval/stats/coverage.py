"""When a small group's bootstrap interval can be read at its stated confidence.

A bootstrap interval of a mean is a large-sample approximation: for a group of a few
images whose per-image IoU piles up at exactly 0 (person missed) or 1 (perfect or both
empty), a "95 %" BCa interval of 5 images covers the true mean 72-90 % of the time
(benchmarks/small_group_coverage.py; scipy's intervals do the same). Verdicts read from
such an interval would be stated with more confidence than they have, so the criteria
mark them inconclusive instead.

The rule is Cochran's for a mean's normal approximation, n >= 25 G1^2, with G1 the
sample skewness (scipy.stats.skew, bias=False) of the per-image values, and never fewer
than 10 images. The criteria read G1 over every evaluated image of the run, each value
taken about its own group's mean: under the fairness null every group draws from that
pool, and a group far from the others does not skew it. Measured in that benchmark over
126 cells (n from 3 to 100, shares of exact 0s and 1s, two IoU shapes): with BCa intervals
the rule flags most groups of every cell that covers less than 93 %, and 27.5 % of the
groups of the cells that do cover; with percentile intervals it leaves 14 such cells.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

MIN_RELIABLE_N = 10
COCHRAN_FACTOR = 25.0

__all__ = ["COCHRAN_FACTOR", "MIN_RELIABLE_N", "reliable_size", "skewness"]


def skewness(values: np.ndarray) -> float:
    """Adjusted Fisher-Pearson skewness G1 of finite values; 0 where it is undefined (fewer
    than 3 values, or all equal)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size < 3 or np.ptp(finite) == 0.0:
        return 0.0
    return float(sps.skew(finite, bias=False))


def reliable_size(skew: float) -> int:
    """The fewest images a group needs for its interval to be read at face value."""
    return max(MIN_RELIABLE_N, math.ceil(COCHRAN_FACTOR * skew * skew - 1e-9))
