"""The statistics and fairness stage of a run: a per-image table in, results.json's verdicts out.

`evaluate` takes the per-image table (docs/results-schema.md) and the checked
`StatisticsSettings` and returns the `overall`, `bootstrap`, `inter_annotator_iou` and
`attributes` parts of results.json. For each attribute (or crossing of attributes) it
groups the evaluated images by their labels, bootstraps every group's interval and its
deviation from the reference (`stats.bootstrap`), and hands the figures to the card's
criteria (`criteria.assess_attribute`). The rows it reads are those of `rows.py`; the
agreement behind criterion (b) comes from `inter_annotator.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..config.settings import StatisticsSettings
from ..errors import UsageError
from ..results.jsonvalues import to_jsonable
from ..results.labels import group_labels, group_order
from ..results.names import INTERSECTION_JOINER, IOU_COLUMN, NOT_ANNOTATED
from ..stats import bootstrap as stats
from .criteria import GroupFigures, assess_attribute, is_small
from .inter_annotator import criterion_b_thresholds, inter_annotator_summary
from .rows import both_empty_count, evaluated_rows, pooled_iou, sample_of

__all__ = ["evaluate"]


def evaluate(
    per_image: pd.DataFrame,
    attributes: Sequence[str] | str,
    settings: StatisticsSettings | None = None,
) -> dict[str, Any]:
    """Intervals and criteria for a per-image table: results.json's statistical parts.

    Only rows with status "ok" count. `attributes` are column names (a string may list
    several, comma-separated); `settings.intersect` crosses columns, named "a×b".
    `settings.inter_annotator_iou` overrides the table's `inter_annotator_iou` column; with
    neither, criterion (b) is not evaluated. Returns {"overall", "bootstrap",
    "inter_annotator_iou", "attributes"}, JSON-ready.
    """
    settings = StatisticsSettings() if settings is None else settings
    rows = evaluated_rows(per_image, settings.statistic, settings.metric)
    specs = _attribute_specs(attributes, settings.intersect, rows.columns)
    overall = _overall(rows, settings)
    iaa = inter_annotator_summary(rows, settings)
    threshold_b, threshold_b_range = criterion_b_thresholds(iaa)
    if settings.metric != IOU_COLUMN:  # (b)'s threshold is on the IoU scale
        threshold_b, threshold_b_range = None, None
    blocks = {
        name: _evaluate_attribute(rows, name, columns, settings, threshold_b, threshold_b_range)
        for name, columns in specs
    }
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


def _evaluate_attribute(
    rows: pd.DataFrame,
    name: str,
    columns: tuple[str, ...],
    settings: StatisticsSettings,
    threshold_b: float | None,
    threshold_b_range: tuple[float, float] | None = None,
) -> dict[str, Any]:
    min_group_size = settings.min_group_size_for(name)
    labels = group_labels(rows, columns)
    order = sorted(set(labels), key=group_order)
    members = [rows[labels == label] for label in order]
    samples = [sample_of(group, settings.statistic, settings.metric) for group in members]
    not_annotated = [label == NOT_ANNOTATED for label in order]
    counted = [
        not na and not is_small(len(group), min_group_size)
        for na, group in zip(not_annotated, members, strict=True)
    ]
    boot = stats.stratified_bootstrap(
        samples, [(name, label) for label in order], counted=counted,
        annotated=[not na for na in not_annotated], seed=settings.seed,
        resamples=settings.bootstrap, confidence=settings.confidence,
        method=settings.ci_method, reference=settings.reference, sd_ddof=settings.sd_ddof,
    )
    figures = [
        GroupFigures(
            label=label,
            n=len(group),
            value=float(boot.value[i]),
            ci=tuple(boot.ci[i]),
            deviation_ci=tuple(boot.deviation_ci[i]),
            z_ci=tuple(boot.z_ci[i]) if boot.z_ci is not None else None,
            mean_iou=float(group[IOU_COLUMN].mean()),
            pooled_iou=pooled_iou(group),
            spread=float(boot.spread[i]),
            not_annotated=not_annotated[i],
            note=boot.notes[i],
        )
        for i, (label, group) in enumerate(zip(order, members, strict=True))
    ]
    notes = []
    if settings.reference == "group-mean" and not any(counted):
        notes.append("no gated group: the reference is the mean of all groups")
    block = assess_attribute(
        figures,
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
    if settings.metric != IOU_COLUMN:
        block["criteria"]["b"]["note"] = (
            f"criterion (b) compares IoU with the annotators' IoU agreement; not evaluated "
            f"for --metric {settings.metric}")
    return block
