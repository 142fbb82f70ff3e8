"""Disparate degradation of a run: per attribute, who loses more under each capture condition.

`assess_conditions` takes the per-image table (the clean images), conditions.csv's table
(the same images degraded) and the attributes of the run, and returns results.json's
`conditions` block (docs/results-schema.md). For each attribute (and crossing), condition
and severity, every group's IoU with its interval, the paired change from clean with its
interval, and the excess drop over the attribute's reference population (its annotated
groups pooled) judged against criterion (b)'s threshold, 2 x (1 - inter-annotator IoU):
`degradation.disparate_degradation` computes them. As in the card's criteria, groups
smaller than the minimum group size and the "not annotated" group are reported but not
judged ("not gated"); an attribute's verdict is the worst of its judged groups' over every
condition and severity. `overall` holds the same figures for every evaluated image.
The reference pool's rows carry the flag `reference` and the not-annotated group is the
images without a value (`results.labels`): neither is recognised by its name, so a group in
the data named "(reference)" or "(not annotated)" is judged like any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..conditions.perturb import SEVERITY_NAMES
from ..config.settings import Settings, StatisticsSettings
from ..results.jsonvalues import to_jsonable
from ..results.labels import group_labels_and_missing, group_order
from ..results.names import (
    IMAGE_COLUMN,
    INTERSECTION_JOINER,
    NOT_EVALUATED,
    NOT_GATED,
    VERDICT_RANK,
)
from .criteria import criterion_b_threshold, is_small
from .degradation import Degradation, disparate_degradation
from .rows import evaluated_rows

_GROUP = "__group"
_ALL = "(all images)"
_OVERALL_KEY = ("(overall)",)


def assess_plan(per_image: pd.DataFrame, conditions: pd.DataFrame | None,
                attributes: Sequence[str], settings: Settings,
                inter_annotator_iou: float | None) -> dict[str, Any]:
    """The run's `conditions` block (with `conditions`, conditions.csv's table) and its
    `adjustment` block (with --adjust-for), for the attributes and the run's crossings."""
    specs = {name: (name,) for name in attributes}
    specs.update({INTERSECTION_JOINER.join(c): tuple(c) for c in settings.intersect})
    blocks: dict[str, Any] = {}
    if conditions is not None:
        blocks["conditions"] = assess_conditions(
            per_image, conditions, list(specs.items()), settings.statistics,
            severities=settings.severities(), inter_annotator_iou=inter_annotator_iou)
    if settings.adjust_for is not None:
        from .adjusted import assess_adjusted

        blocks["adjustment"] = assess_adjusted(per_image, list(specs.items()),
                                               settings.adjust_for, settings.statistics)
    return blocks


def assess_conditions(
    per_image: pd.DataFrame,
    conditions: pd.DataFrame,
    attributes: Sequence[tuple[str, Sequence[str]]],
    settings: StatisticsSettings,
    *,
    severities: Mapping[str, Sequence[float]],
    inter_annotator_iou: float | None,
) -> dict[str, Any]:
    """results.json's `conditions` block, JSON-ready.

    `attributes` are (name, columns) pairs: one column for an attribute, several for a
    crossing. `severities` the conditions evaluated, in order, with their severities;
    `inter_annotator_iou` the agreement criterion (b)'s threshold comes from (None: the
    verdicts are "not evaluated").
    """
    clean = evaluated_rows(per_image, settings.statistic)
    degraded = conditions[conditions[IMAGE_COLUMN].isin(set(clean[IMAGE_COLUMN]))]
    threshold = criterion_b_threshold(inter_annotator_iou)
    notes = []
    if threshold is None:
        notes.append("no inter-annotator IoU: criterion (b)'s threshold is unknown and "
                     "disparate degradation is not judged")
    overall = _degradation(clean.assign(**{_GROUP: _ALL}), degraded, settings, None,
                           reference_groups=None, key=_OVERALL_KEY)
    blocks = {name: _attribute_block(clean, degraded, name, tuple(columns), settings,
                                     threshold)
              for name, columns in attributes}
    return to_jsonable({
        "definitions": [{"condition": name, "parameter": SEVERITY_NAMES[name],
                         "severities": [float(s) for s in levels]}
                        for name, levels in severities.items()],
        "evaluations_per_image": 1 + sum(len(levels) for levels in severities.values()),
        "images": len(clean),
        "threshold": threshold,
        "inter_annotator_iou": inter_annotator_iou,
        "overall": [_overall_row(r) for r in overall.rows if not r.reference],
        "attributes": blocks,
        "notes": notes,
    })


def _degradation(clean: pd.DataFrame, degraded: pd.DataFrame, settings: StatisticsSettings,
                 threshold: float | None, *, reference_groups: Sequence[str] | None,
                 key: Sequence[str]):
    return disparate_degradation(
        clean, degraded, _GROUP, threshold=threshold, statistic=settings.statistic,
        reference_groups=reference_groups, key=key, seed=settings.seed,
        resamples=settings.bootstrap, confidence=settings.confidence,
        method=settings.ci_method)


def _attribute_block(clean: pd.DataFrame, degraded: pd.DataFrame, name: str,
                     columns: tuple[str, ...], settings: StatisticsSettings,
                     threshold: float | None) -> dict[str, Any]:
    labels, missing = group_labels_and_missing(clean, columns)
    order = sorted(set(labels), key=group_order)
    not_annotated = set(labels[missing])
    reference = [g for g in order if g not in not_annotated]
    min_group_size = settings.min_group_size_for(name)
    block: dict[str, Any] = {
        "kind": "attribute" if len(columns) == 1 else "intersection",
        "columns": list(columns) if len(columns) > 1 else None,
        "reference_groups": reference,
        "min_group_size": min_group_size,
        "verdict": {"statistical": NOT_EVALUATED, "point": NOT_EVALUATED},
        "rows": [],
    }
    if not reference:  # no image is annotated for the attribute
        return block
    result = _degradation(clean.assign(**{_GROUP: labels}), degraded, settings, threshold,
                          reference_groups=reference, key=(name,))
    rank = {label: i for i, label in enumerate(order)}
    first: dict[tuple[str, float], int] = {}
    for i, item in enumerate(result.rows):
        first.setdefault((item.condition, item.severity), i)
    # conditions and severities in the order evaluated; groups in the card's order, then
    # the reference
    rows = sorted(result.rows, key=lambda r: (first[(r.condition, r.severity)],
                                              r.reference, rank.get(r.group, 0)))
    judged = []
    for item in rows:
        gated = (not item.reference and item.group not in not_annotated
                 and not is_small(item.n, min_group_size))
        block["rows"].append(_row(item, gated, judged=gated or item.reference))
        if gated:
            judged.append(item)
    block["verdict"] = {form: _worst([getattr(r, form) for r in judged])
                        for form in ("statistical", "point")}
    return block


def _row(item: Degradation, gated: bool, judged: bool = True) -> dict[str, Any]:
    """One group under one condition and severity, as results.json records it; a group
    that is not `judged` (small, not annotated) has the verdicts "not gated"."""
    return {
        "condition": item.condition, "severity": item.severity, "group": item.group,
        "n": item.n, "clean": item.clean, "degraded": item.degraded,
        "degraded_ci": list(item.degraded_ci), "change": item.change,
        "change_ci": list(item.change_ci), "excess_drop": item.excess_drop,
        "excess_drop_ci": None if item.excess_drop_ci is None else list(item.excess_drop_ci),
        "point": item.point if judged else NOT_GATED,
        "statistical": item.statistical if judged else NOT_GATED,
        "gated": gated,
        "reference": item.reference,
    }


def _overall_row(item: Degradation) -> dict[str, Any]:
    """Every evaluated image under one condition and severity: no group, no verdict."""
    return {"condition": item.condition, "severity": item.severity, "n": item.n,
            "clean": item.clean, "degraded": item.degraded,
            "degraded_ci": list(item.degraded_ci), "change": item.change,
            "change_ci": list(item.change_ci)}


def _worst(verdicts: list[str]) -> str:
    ranked = [v for v in verdicts if v in VERDICT_RANK]
    return max(ranked, key=VERDICT_RANK.__getitem__) if ranked else NOT_EVALUATED


__all__ = ["assess_conditions", "assess_plan"]
