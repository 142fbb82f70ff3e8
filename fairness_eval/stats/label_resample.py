"""Group intervals that carry the labels' uncertainty (`--labels resample`).

Each bootstrap resample redraws the images and then each drawn image's label from its
annotators' votes: an image voted 2, 2, 3 lands in group "2" with probability 2/3 and in
"3" with 1/3, independently in every resample and for every copy of it a resample holds
(a copy stands for another image with the same votes). The vote shares are taken as the
probability of each label: annotators are treated as exchangeable and equally reliable,
which is the assumption of a majority vote too; annotators who confuse values in one
direction more than the other bias the shares as they bias the majority. Where annotators
are mostly right, the shares overstate the doubt (a 2-to-1 image's majority label is right
more often than 2 times in 3), so the groups mix more than the truth does:
`benchmarks/label_noise.py` measures this policy's group means further from the truth than
majority's (bin 8-10: +0.31 against +0.08 pt at moderate neighbour-tone confusion, +0.78
against +0.52 pt at heavy), with intervals no wider; it is the honest choice only where the
vote shares are calibrated. The statistic is the per-image mean (the "mean" statistic).

Stratification, kept honest. The stratified bootstrap (`bootstrap.py`) resamples each
group within itself; here an image's group is what is drawn, so it cannot define the
stratum: a stratum chosen by the draw would make the resample's composition depend on the
labels it draws. The stratum of an image is therefore fixed by the observed votes alone,
its majority label (`(disputed)` on a tie, `data/label_policies.py`), and images are
resampled within their stratum; the label is drawn after. Every resample so holds as many
images of each vote pattern's stratum as the dataset, as under the majority policy, while
the number of images each group receives varies with the draws: that variation is part of
the labels' uncertainty and is kept. A stratum's index draws come from the stream of
(attribute, stratum), the same as the stratified bootstrap's for the group of that name,
and the label draws from a separate stream; so with unanimous votes every label is its
stratum, and the groups' values and intervals equal the stratified bootstrap's under the
majority policy (percentile intervals, "overall" reference of every image).

The estimate of a group's mean weights every image by its vote share for the group (the
expected group mean over label draws). Intervals are percentile intervals (BCa's jackknife
has no meaning over random labels). A group that some resamples leave empty (a value only
a few minority votes name) takes its interval over the resamples that hold it, and the
share that do not is reported (`empty_share`). The reference is the mean of every image
with a label, and each group's deviation from it and, given a factor, its margin
|deviation| - factor x SD of the counted groups' means are recomputed in every resample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .bootstrap import _DRAWS_PER_CHUNK, group_sd, ratio
from .intervals import percentile_interval
from .streams import stream


@dataclass(frozen=True)
class ResampledGroups:
    """One attribute's groups under label resampling (arrays indexed like `groups`)."""

    groups: tuple[str, ...]
    images: np.ndarray  # expected images per group (sum of vote shares)
    value: np.ndarray  # vote-share-weighted group mean
    ci: np.ndarray  # (k, 2)
    reference: float
    deviation: np.ndarray
    deviation_ci: np.ndarray  # (k, 2)
    empty_share: np.ndarray  # share of resamples in which the group held no image
    margin: np.ndarray | None = None
    margin_ci: np.ndarray | None = None


def _interval(rows: np.ndarray, confidence: float) -> np.ndarray:
    """Percentile intervals of each row, over its defined (non-NaN) resamples."""
    bounds = np.full((rows.shape[0], 2), np.nan)
    complete = ~np.isnan(rows).any(axis=1)
    if complete.any():
        found = percentile_interval(rows[complete], confidence)
        bounds[complete] = np.stack([found.low, found.high], axis=1)
    tail = (1.0 - confidence) / 2.0
    for i in np.flatnonzero(~complete):
        defined = rows[i][~np.isnan(rows[i])]
        if defined.size:
            bounds[i] = np.quantile(defined, [tail, 1.0 - tail])
    return bounds


def resample_labels(
    values: Sequence[float] | np.ndarray,
    counts: np.ndarray,
    scale: Sequence[str],
    strata: Sequence[str],
    *,
    attribute: str,
    seed: int = 0,
    resamples: int = 10_000,
    confidence: float = 0.95,
    counted: Sequence[str] | None = None,
    sd_factor: float | None = None,
) -> ResampledGroups:
    """Group intervals with every image's label drawn from its votes in every resample.

    `values` are the images' figures (IoU), `counts` their votes (images x len(scale)), in
    the order of `scale`; `strata` each image's stratum (its majority label). Groups are
    the values of `scale` some vote names, in the scale's order. `counted` names the groups
    whose means enter the SD for the margin (default: all).
    """
    x = np.asarray(values, dtype=float)
    counts = np.asarray(counts, dtype=float)
    if counts.shape != (x.shape[0], len(scale)) or len(strata) != x.shape[0]:
        raise ValueError("need one row of votes and one stratum per value")
    totals = counts.sum(axis=1)
    if (totals <= 0).any():
        raise ValueError("every image needs at least one vote")
    shares = counts / totals[:, None]
    present = np.flatnonzero(shares.sum(axis=0) > 0)
    groups = tuple(scale[j] for j in present)
    k = len(groups)
    # A label's index among the scale's values -> its group's row (every drawn label is one).
    group_row = np.full(len(scale), -1)
    group_row[present] = np.arange(k)
    # Cumulative shares of all but the last value: label = how many the draw u reaches.
    thresholds = np.cumsum(shares, axis=1)[:, :-1]

    num_b = np.zeros((k, resamples))
    den_b = np.zeros((k, resamples))
    num = np.zeros(k)
    den = np.zeros(k)
    strata_array = np.asarray(strata, dtype=object)
    for stratum in dict.fromkeys(strata):
        members = np.flatnonzero(strata_array == stratum)
        n = members.size
        xs, cum = x[members], thresholds[members]
        weight = shares[members][:, present]
        for g in range(k):
            # A 1-D sum, as a group's own sum is taken: unanimous votes give its exact value.
            num[g] += (xs * weight[:, g]).sum()
            den[g] += weight[:, g].sum()
        draws = stream(seed, [attribute, stratum])
        labels = stream(seed, [attribute, stratum, "labels"])
        # The same chunks and index type as bootstrap.resampled_sums: the same draws.
        rows = max(1, _DRAWS_PER_CHUNK // max(n, 1))
        dtype = np.uint16 if n <= 1 << 16 else np.int64
        for start in range(0, resamples, rows):
            stop = min(resamples, start + rows)
            index = draws.integers(0, n, size=(stop - start, n), dtype=dtype)
            u = labels.random((stop - start, n))
            drawn = np.zeros(index.shape, dtype=np.int64)
            for column in range(cum.shape[1]):
                drawn += u >= cum[index, column]
            row = group_row[drawn]
            picked = xs[index]
            for g in range(k):
                mine = row == g
                num_b[g, start:stop] += np.where(mine, picked, 0.0).sum(axis=1)
                den_b[g, start:stop] += mine.sum(axis=1)

    value = ratio(num, den)
    reference = float(ratio(num.sum(), den.sum()))
    with np.errstate(invalid="ignore", divide="ignore"):
        value_b = np.where(den_b > 0, num_b / np.where(den_b > 0, den_b, 1.0), np.nan)
    reference_b = ratio(num_b.sum(axis=0), den_b.sum(axis=0))
    deviation_b = value_b - reference_b
    margin = margin_ci = None
    if sd_factor is not None:
        counted_rows = np.array([g in (counted or groups) for g in groups])
        sd = group_sd(value[counted_rows])
        sd_b = group_sd(value_b[counted_rows])
        margin = np.abs(value - reference) - sd_factor * sd
        margin_ci = _interval(np.abs(deviation_b) - sd_factor * sd_b, confidence)
    return ResampledGroups(
        groups=groups, images=den, value=value, ci=_interval(value_b, confidence),
        reference=reference, deviation=value - reference,
        deviation_ci=_interval(deviation_b, confidence),
        empty_share=(den_b == 0).mean(axis=1), margin=margin, margin_ci=margin_ci)


__all__ = ["ResampledGroups", "resample_labels"]
