"""The model card's fairness criteria applied to one attribute's groups: thresholds, verdicts.

The card calls a group poor if its IoU lies (a) more than `sd_factor` standard deviations
of the group means from the average, or (b) more than 2 x (1 - inter-annotator IoU) from
it. For every group this module gives the card's literal point verdict (|deviation|
beyond the threshold) and a statistical verdict from a bootstrap interval:

- criterion (a) is judged on the margin |deviation| - factor x SD, both recomputed in every
  resample: "violation" when its interval lies wholly above 0, "pass" when wholly at or
  below 0, "inconclusive" otherwise. The standardised deviation z = deviation / SD stays a
  descriptive figure: a ratio whose denominator, the SD of a few close group means, comes
  near 0 in some resamples has an interval that says nothing (3 to 392,546 SDs for two
  groups 0.45 pt apart), while the margin's interval needs no division;
- criterion (b) is judged on the deviation's interval against +/- the threshold:
  "violation" when wholly beyond, "pass" when wholly within.

Each verdict records the interval it read and that interval's confidence: the run's, or a
higher one that family-wise control (`familywise.py`) chose for it (`levels`).

The reference. "overall" is the image-level statistic of the images of the gated groups
(annotated, at least the minimum group size): groups too small to judge do not move the
average the judged groups are measured from (with none gated, every annotated image);
"group-mean" is the unweighted mean of the gated groups' values. Only gated groups enter
the SD.

Attainability. With k groups and the SD taken with `ddof`, no group mean lies more than
sqrt((k - 1)(k - ddof) / k) SDs from the mean of the group means (sqrt(k - 1) for the
population SD), since the deviations sum to zero. That mean is the "group-mean" reference,
so there criterion (a) at factor 3 cannot fire with k <= 10 groups (population SD). The
"overall" reference can lie further from the gated groups by |reference - mean| / SD,
which small or ungated groups can make large: the bound reported is the one for the
reference used, and criterion (a) is "not evaluated" (`can_fire` false) only when that
bound does not exceed the factor.

Gating. Groups smaller than `min_group_size` ("small_group"), the images without a
value (`not_annotated`, a flag, never a group's name) and the `(disputed)` group (images
whose annotators' votes name no label, `--labels`) are reported with their intervals but
not gated; k counts the gated groups. An attribute's verdict is the worst statistical
verdict of its gated groups (violation > inconclusive > pass), or "not evaluated" when
nothing could be gated.

`assess_attribute` takes the groups' figures from any source: a run's bootstrap
(`assess.py`) or a published table (`table.py`), whose intervals are rescaled under the
normal approximation when a higher confidence is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtri

from ..results.names import (
    DISPUTED,
    INCONCLUSIVE,
    NOT_EVALUATED,
    NOT_GATED,
    PASS,
    VERDICT_RANK,
    VIOLATION,
)
from ..stats.bootstrap import group_sd

# "More than the threshold" ignores float rounding: 0.9 + 0.02 - 0.9 is not beyond 0.02.
_ROUNDING = 1e-12


@dataclass
class GroupFigures:
    """What the criteria need of one group, from a run (bootstrap) or a published table."""

    label: str
    n: int | None
    value: float
    ci: tuple[float, float] | None = None
    deviation_ci: tuple[float, float] | None = None
    z_ci: tuple[float, float] | None = None  # standardised deviation; derived if absent
    mean_iou: float | None = None
    pooled_iou: float | None = None
    spread: float | None = None  # per-image SD behind the interval, for n_needed
    share: float | None = None  # share of the dataset (published tables)
    not_annotated: bool = False
    note: str | None = None
    margin_ci: tuple[float, float] | None = None  # |deviation| - factor x SD; derived if absent
    # A gated group's "deviation" or "margin" interval at another confidence (a run keeps
    # the bootstrap distributions); None: rescaled from the interval given.
    interval_at: Callable[[str, float], tuple[float, float]] | None = None
    # Why this group's intervals cannot be read at face value (they under-cover): its
    # statistical verdicts are then at best inconclusive, with this reason.
    unreliable: str | None = None
    # Labels drawn from votes (`--labels resample`): the images the group expects (its
    # members' vote shares summed) and the share of resamples that drew none into it.
    expected_images: float | None = None
    empty_share: float | None = None

    def interval(self, statistic: str, confidence: float, base_confidence: float,
                 sd: float, factor: float) -> tuple[float, float] | None:
        """The deviation's or margin's interval at `confidence`."""
        if confidence == base_confidence or self.interval_at is None:
            deviation = self.deviation_ci
            if deviation is not None and confidence != base_confidence:
                deviation = _rescaled(deviation, base_confidence, confidence)
            if statistic == "deviation":
                return deviation
            if confidence == base_confidence and self.margin_ci is not None:
                return self.margin_ci
            return None if deviation is None else _folded_margin(deviation, sd, factor)
        return self.interval_at(statistic, confidence)


def _rescaled(interval: tuple[float, float], confidence: float,
              new_confidence: float) -> tuple[float, float]:
    """An interval at another confidence under the normal approximation: each side's
    half-width scaled by z(new) / z(old) around the interval's midpoint."""
    low, high = interval
    middle = (low + high) / 2.0
    scale = float(ndtri(0.5 + new_confidence / 2.0) / ndtri(0.5 + confidence / 2.0))
    return middle - (middle - low) * scale, middle + (high - middle) * scale


def _folded_margin(deviation: tuple[float, float], sd: float,
                   factor: float) -> tuple[float, float]:
    """|deviation| - factor x SD for a deviation interval when the SD is taken as known."""
    low, high = deviation
    if low <= 0.0 <= high:
        absolute = (0.0, max(-low, high))
    else:
        absolute = (min(abs(low), abs(high)), max(abs(low), abs(high)))
    return absolute[0] - factor * sd, absolute[1] - factor * sd


def criterion_b_threshold(inter_annotator_iou: float | None) -> float | None:
    """Criterion (b)'s threshold, 2 x (1 - inter-annotator IoU), or None without an IAA."""
    return None if inter_annotator_iou is None else 2.0 * (1.0 - inter_annotator_iou)


def max_attainable_sd(k: int, ddof: int = 0) -> float:
    """Largest |group mean - mean of group means| / SD possible with k groups (NaN if k < 2)."""
    if k < 2 or k - ddof <= 0:
        return float("nan")
    return math.sqrt((k - 1) * (k - ddof) / k)


def is_small(n: int | None, min_group_size: int) -> bool:
    """Whether a group of n images is too small to gate (unknown n: not small)."""
    return n is not None and n < min_group_size


def interval_verdict(interval: tuple[float, float] | None, threshold: float,
                     threshold_range: tuple[float, float] | None = None) -> str:
    """Violation when the interval lies wholly beyond the threshold, pass when wholly within.

    With `threshold_range` (a threshold that is itself uncertain), a violation must lie
    beyond its upper end and a pass within its lower end.
    """
    if interval is None:
        return NOT_EVALUATED
    low, high = interval
    lowest, highest = threshold_range or (threshold, threshold)
    beyond, within = highest + _ROUNDING, lowest + _ROUNDING
    if low > beyond or high < -beyond:
        return VIOLATION
    if -within <= low and high <= within:
        return PASS
    return INCONCLUSIVE


def margin_verdict(interval: tuple[float, float] | None) -> str:
    """Violation when the margin's interval lies wholly above 0, pass when wholly at or below."""
    if interval is None:
        return NOT_EVALUATED
    low, high = interval
    if low > _ROUNDING:
        return VIOLATION
    if high <= _ROUNDING:
        return PASS
    return INCONCLUSIVE


def point_verdict(value: float, threshold: float) -> str:
    """The card's literal reading: a violation when |value| is beyond the threshold."""
    return VIOLATION if abs(value) > threshold + _ROUNDING else PASS


def worst(verdicts: Sequence[str]) -> str:
    """The worst of some verdicts (violation > inconclusive > pass), else "not evaluated"."""
    ranked = [v for v in verdicts if v in VERDICT_RANK]
    return max(ranked, key=VERDICT_RANK.__getitem__) if ranked else NOT_EVALUATED


def criterion_a(
    k: int, sd: float, reference: float, gated_mean: float, factor: float, ddof: int
) -> dict[str, Any]:
    """Criterion (a)'s threshold, attainable bound and whether it can fire, with a note."""
    info: dict[str, Any] = {
        "threshold": None, "factor": factor, "ddof": ddof, "can_fire": False, "note": None,
        "max_attainable_sd": None,
    }
    if k < 2 or k - ddof <= 0:
        info["note"] = (
            f"k = {k} gated group(s) with ddof = {ddof}: the SD of group means is undefined; "
            "criterion (a) cannot fire"
        )
        return info
    info["threshold"] = factor * sd
    if not sd > 0:
        info["note"] = "all gated groups have the same value (SD 0); criterion (a) cannot fire"
        return info
    structural = max_attainable_sd(k, ddof)
    offset = abs(reference - gated_mean) / sd
    bound = structural + offset
    info["max_attainable_sd"] = bound
    # A hair of tolerance: at the bound exactly (k = 10, factor 3) "more than" cannot hold.
    info["can_fire"] = bool(bound > factor * (1 + 1e-9))
    formula = f"sqrt({k - 1})" if ddof == 0 else f"sqrt(({k}-1)({k}-{ddof})/{k})"
    where = f"no group can lie more than {formula} = {structural:.2f} SD from the mean of "
    where += "the group means"
    if offset >= 0.005:
        where += (
            f" ({bound:.2f} SD from the reference, which lies {offset:.2f} SD from that mean)"
        )
    if not info["can_fire"]:
        info["note"] = f"with k = {k} groups {where}; criterion (a) at {factor:g} SD cannot fire"
    return info


def n_needed(spread: float | None, threshold_b: float | None, confidence: float) -> int | None:
    """Images for a normal interval's half-width to fall below threshold_b / 2."""
    if spread is None or threshold_b is None or not np.isfinite(spread) or spread <= 0:
        return None
    if threshold_b <= 0:
        return None
    z = float(ndtri(0.5 + confidence / 2.0))
    return int(math.floor((2.0 * z * spread / threshold_b) ** 2)) + 1


def _criterion_b(threshold_b: float | None, threshold_b_range: tuple[float, float] | None,
                 k: int, min_group_size: int) -> dict[str, Any]:
    """Criterion (b)'s threshold, whether it is evaluated, and why not or how uncertain."""
    evaluated = threshold_b is not None and k >= 2
    if threshold_b is None:
        note = ("no inter-annotator IoU (no other annotators' masks and no "
                "--inter-annotator-iou): criterion (b) not evaluated")
    elif k < 2:
        note = (f"{k} group(s) of at least {min_group_size} annotated images: no groups to "
                "compare; criterion (b) not evaluated")
    else:
        note = None
    if evaluated and threshold_b_range:
        note = (
            "the inter-annotator IoU is itself estimated, so the threshold is uncertain: a "
            f"statistical violation must lie beyond {100 * threshold_b_range[1]:.2f} pt and a "
            f"pass within {100 * threshold_b_range[0]:.2f} pt")
    return {"threshold": threshold_b, "evaluated": evaluated, "note": note,
            "threshold_range": list(threshold_b_range) if threshold_b_range else None}


def _value_range(gated_groups: Sequence[GroupFigures],
                 threshold_b: float | None) -> dict[str, Any] | None:
    """The spread of the gated groups' values (max - min) against criterion (b)."""
    if len(gated_groups) < 2:  # the range of a single group says nothing
        return None
    low = min(gated_groups, key=lambda g: g.value)
    high = max(gated_groups, key=lambda g: g.value)
    spread_value = high.value - low.value
    return {
        "value": spread_value,
        "min_group": low.label,
        "max_group": high.label,
        "threshold": threshold_b,
        "exceeds_threshold": None if threshold_b is None else spread_value > threshold_b,
    }


Levels = Mapping[tuple[str, str], float]  # (group, criterion) -> confidence of its interval


def assess_attribute(
    groups: Sequence[GroupFigures],
    *,
    reference: float,
    reference_kind: str = "overall",
    threshold_b: float | None = None,
    threshold_b_range: tuple[float, float] | None = None,
    sd_factor: float = 3.0,
    sd_ddof: int = 0,
    min_group_size: int = 30,
    confidence: float = 0.95,
    kind: str = "attribute",
    columns: Sequence[str] | None = None,
    notes: Sequence[str] = (),
    levels: Levels | None = None,
) -> dict[str, Any]:
    """One attribute's block of results.json from its groups' figures.

    The criteria's parameters come from settings checked upstream (config/settings.py).
    `levels` gives the confidence at which a gated group's criterion is judged where it is
    not the run's `confidence` (family-wise control).
    """
    gated = [not g.not_annotated and g.label != DISPUTED and not is_small(g.n, min_group_size)
             for g in groups]
    gated_values = np.array([g.value for g, ok in zip(groups, gated, strict=True) if ok])
    k = len(gated_values)
    sd = float(group_sd(gated_values, sd_ddof)) if k else float("nan")
    gated_mean = float(gated_values.mean()) if k else float("nan")
    crit_a = criterion_a(k, sd, reference, gated_mean, sd_factor, sd_ddof)
    crit_b = _criterion_b(threshold_b, threshold_b_range, k, min_group_size)
    levels = levels or {}

    group_blocks: dict[str, Any] = {}
    statistical: list[str] = []
    point: list[str] = []
    for figures, is_gated in zip(groups, gated, strict=True):
        deviation = figures.value - reference
        z = deviation / sd if np.isfinite(sd) and sd > 0 else None
        z_ci = figures.z_ci
        if z_ci is None and z is not None and figures.deviation_ci is not None:
            # Published table: reference and SD known, only the group's value uncertain.
            z_ci = (figures.deviation_ci[0] / sd, figures.deviation_ci[1] / sd)
        margin = abs(deviation) - sd_factor * sd if z is not None else None
        verdicts = {}
        for name, evaluated, estimate, threshold in (
            ("a", crit_a["can_fire"], z, sd_factor),
            ("b", crit_b["evaluated"], deviation, threshold_b),
        ):
            if not is_gated:
                verdicts[name] = {"point": NOT_GATED, "statistical": NOT_GATED}
                continue
            if not evaluated or estimate is None:
                verdicts[name] = {"point": NOT_EVALUATED, "statistical": NOT_EVALUATED}
                continue
            level = levels.get((figures.label, name), confidence)
            statistic = "margin" if name == "a" else "deviation"
            interval = figures.interval(statistic, level, confidence, sd, sd_factor)
            if name == "a":
                decided = margin_verdict(interval)
            else:
                decided = interval_verdict(interval, threshold, threshold_b_range)
            reason = None
            if figures.unreliable and decided in (PASS, VIOLATION):
                decided, reason = INCONCLUSIVE, figures.unreliable
            verdicts[name] = {
                "point": point_verdict(estimate, threshold),
                "statistical": decided,
                "statistic": statistic,
                "estimate": margin if name == "a" else deviation,
                "ci": list(interval) if interval is not None else None,
                "confidence": level,
                "bound": 0.0 if name == "a" else threshold,
                "reason": reason,
            }
            point.append(verdicts[name]["point"])
            statistical.append(decided)
        block = {
            "n": figures.n,
            "mean_iou": figures.mean_iou,
            "pooled_iou": figures.pooled_iou,
            "value": figures.value,
            "ci": list(figures.ci) if figures.ci is not None else None,
            "deviation": deviation,
            "deviation_ci": list(figures.deviation_ci) if figures.deviation_ci else None,
            "z": z,
            "z_ci": list(z_ci) if z_ci is not None else None,
            "verdicts": verdicts,
            "small_group": is_small(figures.n, min_group_size),
            "not_annotated": figures.not_annotated,
            "gated": is_gated,
            "n_needed": n_needed(figures.spread, threshold_b, confidence),
            "note": figures.note,
        }
        if figures.share is not None:
            block["share"] = figures.share
        if figures.expected_images is not None:
            block["expected_images"] = figures.expected_images
            block["empty_share"] = figures.empty_share
        group_blocks[figures.label] = block

    point_overall = worst(point)
    if NOT_EVALUATED in statistical:
        # Some gated group has no interval (a published table without CIs): the card's
        # point verdicts are all there is.
        verdict, basis = point_overall, "point"
    else:
        verdict, basis = worst(statistical), "statistical"
    if verdict == NOT_EVALUATED:
        basis = None

    block: dict[str, Any] = {"kind": kind}
    if columns is not None:
        block["columns"] = list(columns)
    block.update({
        "k": k,
        "reference": reference,
        "reference_kind": reference_kind,
        "min_group_size": min_group_size,
        "sd": sd if np.isfinite(sd) else None,
        "max_attainable_sd": crit_a.pop("max_attainable_sd"),
        "range": _value_range([g for g, ok in zip(groups, gated, strict=True) if ok],
                              threshold_b),
        "criteria": {"a": crit_a, "b": crit_b},
        "verdict": verdict,
        "point_verdict": point_overall,
        "verdict_basis": basis,
        "notes": list(notes),
        "groups": group_blocks,
    })
    return block


__all__ = [
    "GroupFigures", "Levels", "assess_attribute", "criterion_a", "criterion_b_threshold",
    "interval_verdict", "is_small", "margin_verdict", "max_attainable_sd", "n_needed",
    "point_verdict", "worst",
]
