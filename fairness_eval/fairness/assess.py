"""The statistics and fairness stage of a run: a per-image table in, results.json's verdicts out.

`evaluate` takes the per-image table (docs/results-schema.md) and the checked
`StatisticsSettings` and returns the `overall`, `bootstrap`, `inter_annotator_iou` and
`attributes` parts of results.json. For each attribute (or crossing of attributes) it
groups the evaluated images by their labels, bootstraps every group's interval and its
deviation from the reference (`stats.bootstrap`), and hands the figures to the card's
criteria (`criteria.assess_attribute`). The rows it reads are those of `rows.py`; the
agreement behind criterion (b) comes from `inter_annotator.py`. With `familywise` "holm"
(the default) every gated check of the run is then judged at the confidence Holm's
step-down gives it (`familywise.py`), so that a fair model fails the gate anywhere with
probability at most 1 - confidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..config.settings import StatisticsSettings
from ..errors import UsageError
from ..results.jsonvalues import to_jsonable
from ..results.labels import group_labels_and_missing, group_order
from ..results.names import DISPUTED, INTERSECTION_JOINER, IOU_COLUMN
from ..stats import bootstrap as stats
from ..stats.coverage import reliable_size, skewness
from ..stats.label_resample import stratum_order
from .criteria import GroupFigures, Levels, assess_attribute, is_small
from .familywise import gated_checks, holm_levels
from .inter_annotator import criterion_b_thresholds, inter_annotator_summary
from .label_groups import drawn_groups
from .rows import both_empty_count, evaluated_rows, pooled_iou, sample_of

if TYPE_CHECKING:
    from ..data.votes import AttributeVotes

__all__ = ["evaluate"]


def evaluate(
    per_image: pd.DataFrame,
    attributes: Sequence[str] | str,
    settings: StatisticsSettings | None = None,
    drawn: Mapping[str, AttributeVotes] | None = None,
) -> dict[str, Any]:
    """Intervals and criteria for a per-image table: results.json's statistical parts.

    Only rows with status "ok" count. `attributes` are column names (a string may list
    several, comma-separated); `settings.intersect` crosses columns, named "a×b".
    `settings.inter_annotator_iou` overrides the table's `inter_annotator_iou` column; with
    neither, criterion (b) is not evaluated. An attribute named in `drawn` (`--labels
    resample`) has its labels drawn from those annotators' votes in every resample
    (`label_groups.py`) instead of read from its column. Returns {"overall", "bootstrap",
    "inter_annotator_iou", "attributes", "familywise"}, JSON-ready.
    """
    settings = StatisticsSettings() if settings is None else settings
    rows = evaluated_rows(per_image, settings.statistic, settings.metric)
    specs = _attribute_specs(attributes, settings.intersect, rows.columns)
    drawn = drawn or {}
    for name, columns in specs:
        crossed = [c for c in columns if c in drawn] if len(columns) > 1 else []
        if crossed:
            raise UsageError(f"--intersect {name}: --labels resample draws {crossed[0]}'s "
                             "labels from its votes and cannot cross them; use --labels "
                             "majority or unanimous")
    overall = _overall(rows, settings)
    iaa = inter_annotator_summary(rows, settings)
    threshold_b, threshold_b_range = criterion_b_thresholds(iaa)
    if settings.metric != IOU_COLUMN:  # (b)'s threshold is on the IoU scale
        threshold_b, threshold_b_range = None, None
    prepared = {
        name: _prepare_attribute(rows, name, columns, settings, threshold_b, threshold_b_range,
                                 drawn.get(name))
        for name, columns in specs
    }

    def assess_all(levels: dict[str, Levels]) -> dict[str, dict[str, Any]]:
        return {name: attribute.assess(levels.get(name)) for name, attribute in prepared.items()}

    blocks, checks = _familywise(assess_all, settings)
    return to_jsonable({
        "overall": overall,
        "bootstrap": {
            "method": settings.ci_method,
            "resamples": settings.bootstrap,
            "confidence": settings.confidence,
            "seed": settings.seed,
            "statistic": settings.statistic,
            # absent: "iou", so that image runs judging IoU keep their shape
            **({"metric": settings.metric} if settings.metric != IOU_COLUMN else {}),
        },
        "familywise": {"method": settings.familywise, "checks": checks},
        "inter_annotator_iou": iaa,
        "attributes": blocks,
    })


def _attribute_specs(
    attributes: Sequence[str] | str,
    crossings: Sequence[Sequence[str]],
    columns: Sequence[str],
) -> list[tuple[str, tuple[str, ...]]]:
    """(name, columns) of every attribute and crossing, each column checked against the table."""
    def check(name: str, option: str) -> None:
        if name not in columns:
            raise UsageError(f"{option}: {name!r} is not a column of the per-image table")

    names = attributes.split(",") if isinstance(attributes, str) else list(attributes)
    specs: dict[str, tuple[str, ...]] = {}
    for name in (str(n).strip() for n in names):
        if name:
            check(name, "--attribute")
            specs[name] = (name,)
    for crossed in crossings:
        for part in crossed:
            check(part, "--intersect")
        specs[INTERSECTION_JOINER.join(crossed)] = tuple(crossed)
    return list(specs.items())


def _overall(rows: pd.DataFrame, settings: StatisticsSettings) -> dict[str, Any]:
    value, ci, note = stats.bootstrap_value(
        sample_of(rows, settings.statistic, settings.metric), ("(overall)",),
        seed=settings.seed,
        resamples=settings.bootstrap, confidence=settings.confidence, method=settings.ci_method,
    )
    return {
        "n": len(rows),
        "mean_iou": float(rows[IOU_COLUMN].mean()),
        "pooled_iou": pooled_iou(rows),
        "ci": list(ci),
        "value": value,
        "both_empty": both_empty_count(rows),
        "note": note,
    }


def _familywise(
    assess_all: Callable[[dict[str, Levels]], dict[str, dict[str, Any]]],
    settings: StatisticsSettings,
) -> tuple[dict[str, dict[str, Any]], int]:
    """Every attribute's block, its checks judged under the family-wise method; and the
    number of checks in the family."""
    blocks = assess_all({})
    if settings.familywise == "none":
        return blocks, _count_checks(blocks, settings)
    return holm_levels(blocks, assess_all, settings.gated_criteria_for, settings.confidence)


def _count_checks(blocks: dict[str, dict[str, Any]], settings: StatisticsSettings) -> int:
    return len(gated_checks(blocks, settings.gated_criteria_for))


@dataclass(frozen=True)
class _PreparedAttribute:
    """One attribute's bootstrapped figures, ready to be judged at any levels."""

    figures: list[GroupFigures]
    options: dict[str, Any]
    metric: str

    def assess(self, levels: Levels | None) -> dict[str, Any]:
        block = assess_attribute(self.figures, levels=levels, **self.options)
        if self.metric != IOU_COLUMN:
            block["criteria"]["b"]["note"] = (
                f"criterion (b) compares IoU with the annotators' IoU agreement; not "
                f"evaluated for --metric {self.metric}")
        return block


def _prepare_attribute(
    rows: pd.DataFrame,
    name: str,
    columns: tuple[str, ...],
    settings: StatisticsSettings,
    threshold_b: float | None,
    threshold_b_range: tuple[float, float] | None = None,
    votes: AttributeVotes | None = None,
) -> _PreparedAttribute:
    min_group_size = settings.min_group_size_for(name)
    labels, missing = group_labels_and_missing(rows, columns)
    drawn = None if votes is None else drawn_groups(rows, labels, missing, votes)
    if drawn is not None:
        labels = drawn.strata  # images are resampled within their majority label
    missing_labels = set(labels[missing])
    order = (list(drawn.groups) if drawn is not None else
             sorted(set(labels), key=lambda label: group_order(label, label in missing_labels)))
    members = [rows[labels == label] for label in order]
    not_annotated = [label in missing_labels for label in order]
    # Disputed images (votes naming no label) are reported, never judged nor pooled.
    counted = [
        not na and label != DISPUTED and not is_small(len(group), min_group_size)
        for na, label, group in zip(not_annotated, order, members, strict=True)
    ]
    # The "overall" reference pools the images of the gated groups: a group too small to
    # judge would otherwise move the average the judged groups are measured from (two
    # equal groups of 20 and 32 images failed the gate in 11 % of simulated runs, pulled
    # by 2 images far below them). Without a gated group, every annotated image.
    pool = counted if any(counted) else [not na and label != DISPUTED
                                         for na, label in zip(not_annotated, order, strict=True)]
    options = dict(counted=counted, annotated=pool, seed=settings.seed,
                   resamples=settings.bootstrap, confidence=settings.confidence,
                   method=settings.ci_method, reference=settings.reference,
                   sd_ddof=settings.sd_ddof, sd_factor=settings.sd_factor)
    if drawn is None:
        samples = [sample_of(group, settings.statistic, settings.metric) for group in members]
        boot = stats.stratified_bootstrap(samples, [(name, label) for label in order],
                                          **options)
        means = [(float(group[IOU_COLUMN].mean()), pooled_iou(group)) for group in members]
        group_notes = boot.notes
        expected: list[tuple[float | None, float | None]] = [(None, None)] * len(order)
        doubt = None
    else:
        found = drawn.judge(rows, name, sample_of(rows, settings.statistic, settings.metric),
                            **options)
        boot, means, group_notes, expected, doubt = (
            found.figures, found.means, found.notes, found.expected, found.doubt)
    # Group members for the skewness below: each image once, in its stratum, the groups'
    # order first (with unanimous votes, exactly the majority policy's members).
    strata = members if drawn is None else [
        rows[labels == label] for label in stratum_order(list(labels), order)]
    # How skewed the per-image values are says how many images a group's interval needs
    # (stats.coverage). Read over every evaluated image, each about its own group's mean:
    # a few dozen gated images give too noisy a skewness (VOC's 52: G1 -2.8, against -0.7
    # over its 300), and a group far from the others (the violation a gate exists to
    # catch) must not itself make every group "too small".
    residuals = [group[settings.metric].to_numpy(dtype=float)
                 - group[settings.metric].mean() for group in strata if len(group) > 1]
    skew = skewness(np.concatenate(residuals)) if residuals else 0.0
    needed = reliable_size(skew)
    unreliable = [
        None if not counted[i] else doubt if boot.n[i] >= needed else
        (f"n = {boot.n[i]} is too few for the interval's stated confidence: with "
         f"{settings.metric} this skewed (G1 = {skew:.2f}) a group needs n ≥ {needed}")
        for i in range(len(order))
    ]
    figures = [
        GroupFigures(
            label=label,
            n=int(boot.n[i]),
            value=float(boot.value[i]),
            ci=tuple(boot.ci[i]),
            deviation_ci=tuple(boot.deviation_ci[i]),
            z_ci=tuple(boot.z_ci[i]) if boot.z_ci is not None else None,
            mean_iou=means[i][0],
            pooled_iou=means[i][1],
            spread=float(boot.spread[i]),
            not_annotated=not_annotated[i],
            note=group_notes[i],
            margin_ci=tuple(boot.margin_ci[i]) if boot.margin_ci is not None else None,
            interval_at=_interval_reader(boot, i) if counted[i] else None,
            unreliable=unreliable[i],
            expected_images=expected[i][0],
            empty_share=expected[i][1],
        )
        for i, label in enumerate(order)
    ]
    notes = [drawn.attribute_note(settings.statistic)] if drawn is not None else []
    if doubt is not None and doubt in unreliable:
        notes.append(f"gated groups are judged inconclusive at best: {doubt}")
    if any(reason and reason != doubt for reason in unreliable):
        notes.append(f"groups under {needed} are judged inconclusive at best: intervals of "
                     f"fewer images under-cover when {settings.metric} is this skewed "
                     f"(n ≥ 25 G1², G1 = {skew:.2f}; at least 10)")
    if settings.reference == "group-mean" and not any(counted):
        notes.append("no gated group: the reference is the mean of all groups")
    options = dict(
        reference=boot.reference,
        reference_kind=settings.reference,
        threshold_b=threshold_b,
        threshold_b_range=threshold_b_range,
        sd_factor=settings.sd_factor,
        sd_ddof=settings.sd_ddof,
        min_group_size=min_group_size,
        confidence=settings.confidence,
        kind="attribute" if len(columns) == 1 else "intersection",
        columns=columns if len(columns) > 1 else None,
        notes=notes,
    )
    return _PreparedAttribute(figures, options, settings.metric)


def _interval_reader(boot: stats.GroupBootstrap,
                     group: int) -> Callable[[str, float], tuple[float, float]]:
    """Reads one gated group's deviation or margin interval at another confidence."""
    def read(statistic: str, confidence: float) -> tuple[float, float]:
        return boot.interval_at(statistic, group, confidence)

    return read
