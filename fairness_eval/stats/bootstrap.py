"""Bootstrap confidence intervals for per-group IoU: seeded, stratified and vectorised.

A group's images form one `Sample`. Its statistic is a ratio of sums, which covers both
statistics the tool offers:

- "mean":   sum of per-image IoU / number of images (the model card's figure),
- "pooled": sum of intersections / sum of unions, each image's I and U resampled together.

A ratio whose denominator is 0 (only images whose ground truth and prediction are both
empty) is 1, the same convention as a single such image's IoU.

Stratified bootstrap. The images of every group of one attribute are resampled within the
group, B times; each resample gives every group's statistic, the reference (the overall
image-level statistic of the resample, or the unweighted mean of the counted groups'
statistics), each group's deviation from that reference, its standardised deviation
(deviation / SD of the counted groups' statistics in the same resample) and, given a
factor, its margin |deviation| - factor x SD. Intervals of the deviations and margins are
therefore computed jointly from the same resamples as the group intervals. The margin is
what criterion (a) is judged on: unlike the standardised deviation it divides by nothing,
so its interval stays finite when the SD of a few close groups comes near 0 in some
resamples (a ratio's BCa interval then reached 3 to 392,546 SDs for two groups 0.45 pt
apart). The margin's interval is always the percentile one: where the group values are
close, |deviation| and the SD sit at their kink at 0, the estimate lies above nearly all
of its resamples, and BCa's bias correction, which assumes a smooth statistic, moves the
interval to the extreme top of the distribution (a margin of +1.6 pt with the SD at 0.05
pt got [1.54, 1.67] pt, a violation; the percentile interval straddles 0).

Random streams. Every group draws from its own stream,
`SeedSequence(entropy=seed, spawn_key=blake2b(json([attribute, group])) as 4 x uint32)`.
This is what `SeedSequence(seed).spawn()` builds, with a stable hash of the group's name
in place of its position, so adding, removing or reordering groups or attributes never
changes another group's draws: a group's interval depends only on its own images, the
seed, B and its name. (Its deviation interval depends on the other groups, through the
reference, as it must.)

Intervals are percentile or BCa (`intervals.py`); for a statistic of several groups the
BCa acceleration comes from the jackknife over all of their samples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# Defined in choices.py (importable without scipy), used and re-exported here.
from .choices import CI_METHODS, REFERENCES, STATISTICS

# The interval functions are used here and imported from here by other stats modules.
from .intervals import (
    Distributions,
    Intervals,
    bca_interval,
    jackknife_acceleration,
    percentile_interval,
)

# Defined in streams.py (numpy only), used and re-exported here.
from .streams import stream

# Index draws per chunk: bounds memory (~50 MB per group) whatever B and n are. The chunk
# rows depend on n only, so the draws of a group are the same on every run and machine.
# Index draws held in memory at once: enough to vectorise, small enough that peak memory
# does not grow with the dataset (benchmarks/memory.py).
_DRAWS_PER_CHUNK = 1_000_000
_TINY = np.finfo(float).tiny
_SD_ROUNDING = 1e-12  # values are IoU fractions in [0, 1]


@dataclass(frozen=True)
class Sample:
    """One group's images as the numerator and denominator terms of its ratio statistic."""

    numerator: np.ndarray  # per-image IoU ("mean") or intersection ("pooled")
    denominator: np.ndarray  # ones ("mean") or union ("pooled")
    unit_denominator: bool  # True for "mean": the resampled denominator is always n

    @property
    def n(self) -> int:
        return int(self.numerator.shape[0])

    @property
    def value(self) -> float:
        return float(ratio(self.numerator.sum(), self.denominator.sum()))


def make_sample(
    statistic: str,
    *,
    iou: Sequence[float] | np.ndarray | None = None,
    intersection: Sequence[float] | np.ndarray | None = None,
    union: Sequence[float] | np.ndarray | None = None,
) -> Sample:
    """A `Sample` for `statistic`: "mean" needs `iou`, "pooled" needs `intersection`, `union`."""
    if statistic == "mean":
        values = np.asarray(iou, dtype=float)
        return Sample(values, np.ones_like(values), unit_denominator=True)
    if statistic == "pooled":
        inter = np.asarray(intersection, dtype=float)
        uni = np.asarray(union, dtype=float)
        if inter.shape != uni.shape:
            raise ValueError("intersection and union differ in length")
        return Sample(inter, uni, unit_denominator=False)
    raise ValueError(f"statistic must be one of {STATISTICS}, not {statistic!r}")


def ratio(numerator: np.ndarray | float, denominator: np.ndarray | float) -> np.ndarray:
    """numerator / denominator, elementwise, with 0 / 0 := 1 (empty truth and prediction)."""
    num = np.asarray(numerator, dtype=float)
    den = np.asarray(denominator, dtype=float)
    safe = np.where(den == 0, 1.0, den)
    return np.where(den == 0, 1.0, num / safe)


def resampled_sums(columns: Sequence[np.ndarray], rng: np.random.Generator,
                   resamples: int) -> list[np.ndarray]:
    """Sums of each column over `resamples` bootstrap resamples of their common rows.

    Every resample draws one set of row indices and applies it to all columns, so columns
    of the same images (I and U; a baseline and a candidate) stay paired.
    """
    n = len(columns[0])
    sums = [np.empty(resamples) for _ in columns]
    rows = max(1, _DRAWS_PER_CHUNK // max(n, 1))
    # 16-bit indices are drawn about twice as fast as 64-bit ones (the dominant cost).
    dtype = np.uint16 if n <= 1 << 16 else np.int64
    for start in range(0, resamples, rows):
        stop = min(resamples, start + rows)
        index = rng.integers(0, n, size=(stop - start, n), dtype=dtype)
        for column, total in zip(columns, sums, strict=True):
            total[start:stop] = column[index].sum(axis=1)
    return sums


def resample_sums(
    sample: Sample, rng: np.random.Generator, resamples: int
) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator sums of `resamples` bootstrap resamples of `sample`."""
    if sample.unit_denominator:
        (numerators,) = resampled_sums([sample.numerator], rng, resamples)
        return numerators, np.full(resamples, float(sample.n))
    numerators, denominators = resampled_sums([sample.numerator, sample.denominator], rng,
                                              resamples)
    return numerators, denominators


def group_sd(values: np.ndarray, ddof: int = 0) -> np.ndarray:
    """SD of group statistics along axis 0 (groups); NaN with < 2 groups or k <= ddof."""
    values = np.asarray(values, dtype=float)
    k = values.shape[0]
    if k < 2 or k - ddof <= 0:
        return np.full(values.shape[1:], np.nan)
    centred = values - values.mean(axis=0)
    sd = np.sqrt((centred**2).sum(axis=0) / (k - ddof))
    # Equal group values differ by rounding (sums of 0.8 over 5 images are not exactly 4);
    # an SD at that level is 0, or criterion (a) would see astronomically many SDs.
    return np.where(sd < _SD_ROUNDING, 0.0, sd)


def per_image_spread(sample: Sample) -> float:
    """SD of one image's contribution to the statistic (sample SD, ddof 1); NaN if n < 2.

    For "mean" the SD of per-image IoU; for "pooled" the delta-method SD of the ratio,
    SD of (I - R U) / mean(U). Half-width of a normal interval at n images: z * spread / sqrt(n).
    """
    if sample.n < 2:
        return float("nan")
    if sample.unit_denominator:
        return float(np.std(sample.numerator, ddof=1))
    mean_denominator = sample.denominator.mean()
    if mean_denominator == 0:
        return 0.0
    residual = (sample.numerator - sample.value * sample.denominator) / mean_denominator
    return float(np.std(residual, ddof=1))


# ---------------------------------------------------------------------------- groups


@dataclass(frozen=True)
class GroupBootstrap:
    """Estimates and intervals for the groups of one attribute (arrays indexed by group)."""

    n: np.ndarray
    value: np.ndarray
    ci: np.ndarray  # (k, 2)
    reference: float
    deviation: np.ndarray
    deviation_ci: np.ndarray  # (k, 2)
    sd: float  # SD of the counted groups' statistics; NaN when undefined
    z: np.ndarray | None  # deviation / sd; None when sd is NaN or 0
    z_ci: np.ndarray | None  # (k, 2)
    spread: np.ndarray  # per-image spread of each group (see per_image_spread)
    notes: list[str | None]
    margin: np.ndarray | None = None  # |deviation| - factor x sd; None as z, or no factor
    margin_ci: np.ndarray | None = None  # (k, 2)
    # The counted groups' deviation and margin distributions, to read their intervals at
    # another confidence (family-wise control); `rows[(statistic, group index)]` is the row.
    distributions: Distributions | None = None
    rows: dict[tuple[str, int], int] | None = None

    def interval_at(self, statistic: str, group: int, confidence: float) -> tuple[float, float]:
        """A counted group's "deviation" or "margin" interval at another confidence."""
        if self.distributions is None or self.rows is None:
            raise ValueError("no distributions kept for this attribute")
        found = self.distributions.interval([self.rows[(statistic, group)]], confidence)
        return float(found.low[0]), float(found.high[0])


def _derived(
    numerators: np.ndarray,
    denominators: np.ndarray,
    counted: np.ndarray,
    reference: str,
    sd_ddof: int,
    annotated: np.ndarray | None = None,
    sd_factor: float | None = None,
    empty: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Group values, reference, deviations, SD, standardised deviations and margins.

    Inputs are (k, ...) group sums; every output keeps the trailing shape, so the same code
    serves the estimate (), the bootstrap (B,) and the jackknife (n_j,). The "overall"
    reference pools the images of the annotated groups (all groups when none is marked);
    the "group-mean" reference averages the counted groups, or all groups when none is.
    `empty` marks groups that hold no image (in a resample): no value, and no part of a
    reference.
    """
    value = ratio(numerators, denominators)
    if empty is not None and empty.any():
        value = np.where(empty, np.nan, value)
    if reference == "overall":
        pooled = annotated if annotated is not None and annotated.any() else slice(None)
        ref = ratio(numerators[pooled].sum(axis=0), denominators[pooled].sum(axis=0))
    elif empty is not None and empty.any():
        with np.errstate(all="ignore"):
            ref = np.nanmean(value[counted if counted.any() else slice(None)], axis=0)
    else:
        ref = value[counted if counted.any() else slice(None)].mean(axis=0)
    deviation = value - ref
    sd = group_sd(value[counted], sd_ddof)
    with np.errstate(invalid="ignore"):
        z = deviation / np.maximum(sd, _TINY)
    margin = None if sd_factor is None else np.abs(deviation) - sd_factor * sd
    return value, ref, deviation, sd, z, margin


def stratified_bootstrap(
    samples: Sequence[Sample],
    keys: Sequence[Sequence[str]],
    *,
    counted: Sequence[bool] | None = None,
    annotated: Sequence[bool] | None = None,
    seed: int = 0,
    resamples: int = 10_000,
    confidence: float = 0.95,
    method: str = "bca",
    reference: str = "overall",
    sd_ddof: int = 0,
    sd_factor: float | None = None,
) -> GroupBootstrap:
    """Group intervals plus deviation, standardised-deviation and margin intervals.

    `samples` are the groups (together: all images), `keys` their stream names (e.g.
    (attribute, group)). `counted` marks the groups that enter the SD and the "group-mean"
    reference (default: all; if none is marked, all are used for the reference).
    `annotated` marks the groups whose images make up the "overall" reference (default:
    all): images without a value for the attribute are a different population, not part of
    the average a group is compared with. With `sd_factor`, each group's margin
    |deviation| - sd_factor x SD gets its interval too, and the counted groups' deviation
    and margin distributions are kept (`GroupBootstrap.interval_at`).
    """
    if method not in CI_METHODS:
        raise ValueError(f"method must be one of {CI_METHODS}, not {method!r}")
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {REFERENCES}, not {reference!r}")
    if len(samples) != len(keys) or not samples:
        raise ValueError("need one key per sample and at least one sample")
    if any(sample.n == 0 for sample in samples):
        raise ValueError("every group needs at least one image")
    numerators = np.array([sample.numerator.sum() for sample in samples])
    denominators = np.array([sample.denominator.sum() for sample in samples])
    numerators_b = np.empty((len(samples), resamples))
    denominators_b = np.empty((len(samples), resamples))
    for i, (sample, key) in enumerate(zip(samples, keys, strict=True)):
        numerators_b[i], denominators_b[i] = resample_sums(sample, stream(seed, key), resamples)
    return bootstrap_from_sums(
        numerators, denominators, numerators_b, denominators_b,
        jackknife=lambda: _jackknife(samples, numerators, denominators),
        n=np.array([sample.n for sample in samples]),
        spread=np.array([per_image_spread(sample) for sample in samples]),
        counted=counted, annotated=annotated, confidence=confidence, method=method,
        reference=reference, sd_ddof=sd_ddof, sd_factor=sd_factor)


def bootstrap_from_sums(
    numerators: np.ndarray,
    denominators: np.ndarray,
    numerators_b: np.ndarray,
    denominators_b: np.ndarray,
    *,
    jackknife: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]],
    n: np.ndarray,
    spread: np.ndarray,
    sizes: np.ndarray | None = None,
    counted: Sequence[bool] | None = None,
    annotated: Sequence[bool] | None = None,
    confidence: float = 0.95,
    method: str = "bca",
    reference: str = "overall",
    sd_ddof: int = 0,
    sd_factor: float | None = None,
    empty: np.ndarray | None = None,
) -> GroupBootstrap:
    """`stratified_bootstrap`'s figures from the groups' sums, however they were drawn.

    `numerators`/`denominators` are the k groups' sums over the data, `..._b` over each of
    B resamples (k, B); `jackknife()` yields leave-one-out sums (k, m) in blocks. `empty`
    (k, B) marks resamples in which a group held no image (labels drawn from votes can
    leave one empty): its statistic is undefined there, it is no part of the reference, and
    its intervals are the percentile ones over the resamples that define it. `sizes`: how
    many images each group can hold, for its notes (default `n`). A counted group is never empty in
    the resamples given (the caller discards those), so the SD, the reference and every
    gated group's distributions are always defined.
    """
    k = len(numerators)
    counted_mask = np.ones(k, dtype=bool) if counted is None else np.asarray(counted, bool)
    annotated_mask = None if annotated is None else np.asarray(annotated, bool)

    def derive(num: np.ndarray, den: np.ndarray) -> tuple[np.ndarray, ...]:
        return _derived(num, den, counted_mask, reference, sd_ddof, annotated_mask, sd_factor)

    value, ref, deviation, sd, z, margin = derive(numerators, denominators)
    value_b, _, deviation_b, _, z_b, margin_b = _derived(
        numerators_b, denominators_b, counted_mask, reference, sd_ddof, annotated_mask,
        sd_factor, empty)
    has_z = bool(np.isfinite(sd) and sd > 0)
    has_margin = has_z and margin is not None

    estimates = [value, deviation] + ([z] if has_z else []) + ([margin] if has_margin else [])
    boots = [value_b, deviation_b] + ([z_b] if has_z else []) + (
        [margin_b] if has_margin else [])
    theta_hat = np.concatenate(estimates)
    theta_b = np.concatenate(boots, axis=0)
    undefined = np.isnan(theta_b).any(axis=1)
    if undefined.any():  # read over the resamples that define them, below
        theta_b = np.where(np.isnan(theta_b), theta_hat[:, None], theta_b)
    margin_start = (3 if has_z else 2) * k
    percentile_rows = np.zeros(theta_hat.shape[0], dtype=bool)
    percentile_rows[margin_start:] = True  # the margins: percentile whatever the method
    acceleration = None
    if method == "percentile":
        intervals = percentile_interval(theta_b, confidence)
    else:
        def stacked() -> Iterable[np.ndarray]:
            for num, den in jackknife():
                value_j, _, deviation_j, _, z_j, _ = derive(num, den)
                yield np.concatenate([value_j, deviation_j] + ([z_j] if has_z else []),
                                     axis=0)

        found = list(stacked())
        smooth = jackknife_acceleration(found) if found else np.zeros(margin_start)
        acceleration = np.concatenate([smooth, np.zeros(theta_hat.shape[0] - margin_start)])
        bca = bca_interval(theta_hat[:margin_start], theta_b[:margin_start], smooth,
                           confidence)
        margins = percentile_interval(theta_b[margin_start:], confidence)
        intervals = Intervals(low=np.concatenate([bca.low, margins.low]),
                              high=np.concatenate([bca.high, margins.high]),
                              bca_fallback=np.concatenate([bca.bca_fallback,
                                                           margins.bca_fallback]))
    bounds = np.stack([intervals.low, intervals.high], axis=1)
    if undefined.any():
        rows = np.concatenate(boots, axis=0)[undefined]
        tail = (1.0 - confidence) / 2.0
        with np.errstate(all="ignore"):
            bounds[undefined] = np.nanquantile(rows, [tail, 1.0 - tail], axis=1).T

    notes = _group_notes(n if sizes is None else sizes, value_b,
                         intervals.bca_fallback.reshape(-1, k), has_z, empty)
    kept = _kept_rows(counted_mask, k, margin_start if has_margin else None)
    rows = list(kept.values())
    distributions = Distributions(
        estimate=theta_hat[rows],
        ordered=np.sort(theta_b[rows], axis=1),
        acceleration=None if acceleration is None else acceleration[rows],
        percentile_rows=percentile_rows[rows],
    )
    return GroupBootstrap(
        n=np.asarray(n),
        value=value,
        ci=bounds[:k],
        reference=float(ref),
        deviation=deviation,
        deviation_ci=bounds[k : 2 * k],
        sd=float(sd),
        z=z if has_z else None,
        z_ci=bounds[2 * k :] if has_z else None,
        spread=np.asarray(spread, dtype=float),
        notes=notes,
        margin=margin if has_margin else None,
        margin_ci=bounds[margin_start : margin_start + k] if has_margin else None,
        distributions=distributions,
        rows={key: row for row, key in enumerate(kept)},
    )


def _kept_rows(counted: np.ndarray, k: int,
               margin_start: int | None) -> dict[tuple[str, int], int]:
    """(statistic, group) -> row of theta for the counted groups' deviations and margins."""
    kept: dict[tuple[str, int], int] = {}
    for i in np.flatnonzero(counted):
        kept[("deviation", int(i))] = k + int(i)
        if margin_start is not None:
            kept[("margin", int(i))] = margin_start + int(i)
    return kept


def _jackknife(samples, numerators, denominators) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    """For each group, the groups' sums with each of its images left out in turn."""
    for h, sample in enumerate(samples):
        if sample.n < 2:
            continue
        num = np.repeat(numerators[:, None], sample.n, axis=1)
        den = np.repeat(denominators[:, None], sample.n, axis=1)
        num[h] = numerators[h] - sample.numerator
        den[h] = denominators[h] - sample.denominator
        yield num, den


def _group_notes(n, value_b, fallback, has_z, empty=None) -> list[str | None]:
    names = ["interval", "deviation interval", "standardised deviation interval",
             "margin interval"]
    notes: list[str | None] = []
    for i, size in enumerate(n):
        parts = []
        defined = value_b[i][~np.isnan(value_b[i])]
        if size == 1 and (empty is None or not empty[i].any()):
            parts.append("n = 1: the interval is the single value")
        elif defined.size and defined.min() == defined.max():
            parts.append(f"all {size} images give the same value: zero-width interval")
        if empty is not None and empty[i].any():
            parts.append(f"no image drawn into it in {100 * empty[i].mean():.1f} % of the "
                         "resamples: its intervals are the percentile ones over the others")
        fell_back = [names[row] for row in range(fallback.shape[0]) if fallback[row, i]]
        if fell_back:
            parts.append(f"BCa undefined for the {', '.join(fell_back)}: percentile used")
        notes.append("; ".join(parts) or None)
    return notes


def bootstrap_value(
    sample: Sample,
    key: Sequence[str],
    *,
    seed: int = 0,
    resamples: int = 10_000,
    confidence: float = 0.95,
    method: str = "bca",
) -> tuple[float, tuple[float, float], str | None]:
    """Estimate, interval and note of one sample's statistic (e.g. the overall mean)."""
    result = stratified_bootstrap(
        [sample], [key], seed=seed, resamples=resamples, confidence=confidence, method=method
    )
    low, high = result.ci[0]
    return float(result.value[0]), (float(low), float(high)), result.notes[0]
