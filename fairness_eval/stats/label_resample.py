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
majority's, with intervals no wider; it is the honest choice where the vote shares are
calibrated, and a second opinion otherwise.

Stratification, kept honest. The stratified bootstrap (`bootstrap.py`) resamples each
group within itself; here an image's group is what is drawn, so it cannot define the
stratum: a stratum chosen by the draw would make the resample's composition depend on the
labels it draws. The stratum of an image is therefore fixed by the observed votes alone,
its majority label (`(disputed)` on a tie, `data/label_policies.py`), and images are
resampled within their stratum; the label is drawn after. Every resample so holds as many
images of each stratum as the dataset, while the number of images each group receives
varies with the draws: that variation is part of the labels' uncertainty and is kept. A
stratum's index draws come from the stream of (attribute, stratum), the same as the
stratified bootstrap's for the group of that name, and the label draws from the stream of
(attribute, stratum, "labels"). An image whose label is certain (unanimous votes, or an
image without votes in the not-annotated group) has a weight of 1 on one group.

Estimates and intervals. A group's estimate weights every image by its vote share for the
group (the expected sums over label draws: sum of w x / sum of w). Its intervals, the
reference, deviations, SD and margins come from `bootstrap.bootstrap_from_sums`, as the
stratified bootstrap's do; BCa's acceleration is the jackknife of that estimate, each
image's weighted terms left out in turn within its stratum. So with unanimous votes every
figure equals the stratified bootstrap's under the majority policy, bit for bit. A
resample in which a gated group received no image has no value for it and is discarded
(counted in `discarded`); a group too small to gate that some resamples leave empty takes
its intervals over the resamples that hold it (`empty_share`), and is no part of the
reference in those that do not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .bootstrap import (
    _DRAWS_PER_CHUNK,
    GroupBootstrap,
    Sample,
    bootstrap_from_sums,
    per_image_spread,
)
from .streams import stream


@dataclass(frozen=True)
class LabelBootstrap:
    """One attribute's groups with labels drawn from the votes (arrays indexed by group)."""

    figures: GroupBootstrap  # n: images whose stratum (majority label) is the group
    expected: np.ndarray  # expected images per group: its members' weights summed
    # share of the resamples kept (those in which every gated group holds an image) that
    # drew no image into the group
    empty_share: np.ndarray
    discarded: int  # resamples dropped because a gated group received no image


def label_bootstrap(
    numerator: Sequence[float] | np.ndarray,
    denominator: Sequence[float] | np.ndarray,
    weights: np.ndarray,
    strata: Sequence[str],
    groups: Sequence[str],
    *,
    attribute: str,
    unit_denominator: bool = True,
    counted: Sequence[bool] | None = None,
    annotated: Sequence[bool] | None = None,
    seed: int = 0,
    resamples: int = 10_000,
    confidence: float = 0.95,
    method: str = "bca",
    reference: str = "overall",
    sd_ddof: int = 0,
    sd_factor: float | None = None,
) -> LabelBootstrap:
    """Group figures with every image's label drawn from `weights` in every resample.

    `numerator`/`denominator` are the images' terms of the ratio statistic (IoU and 1 for
    the mean; I and U for the pooled IoU), `weights` (images x groups) each image's
    probability of each group (rows sum to 1), `strata` each image's stratum, `groups` the
    group names. `counted`, `annotated` and the rest mean what they mean to
    `bootstrap.stratified_bootstrap`.
    """
    x = np.asarray(numerator, dtype=float)
    d = np.asarray(denominator, dtype=float)
    w = np.asarray(weights, dtype=float)
    k = len(groups)
    if w.shape != (x.shape[0], k) or d.shape != x.shape or len(strata) != x.shape[0]:
        raise ValueError("need one row of weights, one denominator and one stratum per image")
    if not np.allclose(w.sum(axis=1), 1.0):
        raise ValueError("every image's weights must sum to 1")
    counted_mask = np.ones(k, bool) if counted is None else np.asarray(counted, bool)
    strata_array = np.asarray(strata, dtype=object)
    # Strata in the groups' order, then the others (the disputed): the jackknife's order.
    order = stratum_order(strata, groups)

    numerators = np.zeros(k)
    denominators = np.zeros(k)
    for g in range(k):
        # Only the images that can land in the group, in table order: with weights of 1
        # these are exactly the sums the stratified bootstrap takes.
        mine = w[:, g] > 0
        numerators[g] = (x[mine] * w[mine, g]).sum()
        denominators[g] = (d[mine] * w[mine, g]).sum()
    numerators_b = np.zeros((k, resamples))
    denominators_b = np.zeros((k, resamples))
    held_b = np.zeros((k, resamples))
    for stratum in order:
        members = np.flatnonzero(strata_array == stratum)
        _add_stratum(x[members], d[members], w[members], (attribute, stratum), seed,
                     resamples, numerators_b, denominators_b, held_b)
    empty = held_b == 0
    keep = ~empty[counted_mask].any(axis=0)
    discarded = int(resamples - keep.sum())
    if not keep.any():
        raise ValueError("every resample left a gated group without an image")

    def jackknife() -> Iterable[tuple[np.ndarray, np.ndarray]]:
        for stratum in order:
            members = np.flatnonzero(strata_array == stratum)
            if members.size < 2:
                continue
            # Row-major, as the stratified jackknife's: numpy sums each layout in its own
            # order, and the acceleration must not differ in its last bits.
            yield (np.ascontiguousarray(numerators[:, None] - (w[members] * x[members, None]).T),
                   np.ascontiguousarray(
                       denominators[:, None] - (w[members] * d[members, None]).T))

    n = np.array([int((strata_array == g).sum()) for g in groups])
    figures = bootstrap_from_sums(
        numerators, denominators, numerators_b[:, keep], denominators_b[:, keep],
        jackknife=jackknife, n=n, spread=_spreads(x, d, w, unit_denominator),
        sizes=(w > 0).sum(axis=0),
        counted=counted_mask, annotated=annotated, confidence=confidence, method=method,
        reference=reference, sd_ddof=sd_ddof, sd_factor=sd_factor, empty=empty[:, keep])
    return LabelBootstrap(figures=figures, expected=w.sum(axis=0),
                          empty_share=empty[:, keep].mean(axis=1), discarded=discarded)


def stratum_order(strata: Sequence[str], groups: Sequence[str]) -> list[str]:
    """The strata, those that are groups in the groups' order, then the others (the
    disputed) as they first appear: the order their sums and jackknife are taken in."""
    present, named = set(strata), set(groups)
    return ([g for g in groups if g in present]
            + [s for s in dict.fromkeys(strata) if s not in named])


def _add_stratum(x: np.ndarray, d: np.ndarray, w: np.ndarray, key: tuple[str, str],
                 seed: int, resamples: int, numerators_b: np.ndarray,
                 denominators_b: np.ndarray, held_b: np.ndarray) -> None:
    """Adds one stratum's resampled sums to every group's, its labels drawn from `w`."""
    n = x.shape[0]
    draws = stream(seed, key)
    own = w.argmax(axis=1)
    certain = bool((w.max(axis=1) == 1.0).all())
    labels = None if certain else stream(seed, [*key, "labels"])
    fixed = int(own[0]) if certain and (own == own[0]).all() else None
    # Cumulative weights of all but the last group: a label is how many the draw u reaches;
    # capped at the image's last group with a weight, should rounding leave the sum short.
    thresholds = np.cumsum(w, axis=1)[:, :-1]
    last = w.shape[1] - 1 - np.argmax(w[:, ::-1] > 0, axis=1)
    # The same chunks and index type as bootstrap.resampled_sums: the same index draws.
    rows = max(1, _DRAWS_PER_CHUNK // max(n, 1))
    dtype = np.uint16 if n <= 1 << 16 else np.int64
    for start in range(0, resamples, rows):
        stop = min(resamples, start + rows)
        index = draws.integers(0, n, size=(stop - start, n), dtype=dtype)
        picked_x, picked_d = x[index], d[index]
        if fixed is not None:  # one group takes every image: the stratified sums exactly
            numerators_b[fixed, start:stop] += picked_x.sum(axis=1)
            denominators_b[fixed, start:stop] += picked_d.sum(axis=1)
            held_b[fixed, start:stop] += n
            continue
        if labels is None:
            drawn = own[index]
        else:
            u = labels.random((stop - start, n))
            drawn = np.zeros(index.shape, dtype=np.int64)
            for column in range(thresholds.shape[1]):
                drawn += u >= thresholds[index, column]
            drawn = np.minimum(drawn, last[index])
        # One pass over the draws: (resample, group) pairs as bins of one bincount.
        k = numerators_b.shape[0]
        bins = (np.arange(stop - start)[:, None] * k + drawn).ravel()
        size = (stop - start) * k
        for target, terms in ((numerators_b, picked_x), (denominators_b, picked_d),
                              (held_b, None)):
            found = np.bincount(bins, weights=None if terms is None else terms.ravel(),
                                minlength=size)
            target[:, start:stop] += found.reshape(stop - start, k).T


def _spreads(x: np.ndarray, d: np.ndarray, w: np.ndarray, unit_denominator: bool
             ) -> np.ndarray:
    """Each group's per-image spread (`bootstrap.per_image_spread`), its images weighted."""
    spreads = np.full(w.shape[1], np.nan)
    for g in range(w.shape[1]):
        mine = w[:, g] > 0
        weight = w[mine, g]
        if (weight == 1.0).all():
            if mine.sum() >= 1:
                sample = Sample(x[mine], d[mine], unit_denominator)
                spreads[g] = per_image_spread(sample)
            continue
        total = weight.sum()
        if total <= 1:
            continue
        mean_d = (weight * d[mine]).sum() / total
        if mean_d == 0:
            spreads[g] = 0.0
            continue
        value = (weight * x[mine]).sum() / (weight * d[mine]).sum()
        residual = (x[mine] - value * d[mine]) / mean_d
        spreads[g] = float(np.sqrt((weight * residual**2).sum() / (total - 1)))
    return spreads


__all__ = ["LabelBootstrap", "label_bootstrap", "stratum_order"]
