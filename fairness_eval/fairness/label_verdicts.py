"""Every gated group of a voted attribute judged again with its labels drawn from the votes.

A run given annotators' votes judges its groups under its label policy (`--labels`,
majority by default). This module judges the same gated groups a second time under
`resample`: each bootstrap resample redraws the images within their majority-label stratum
and then each image's label from its vote shares (`stats/label_resample.py`), and the
groups' values, deviations and margins come from those resamples. The verdicts are given
by the same criteria code as the primary ones (`criteria.assess_attribute`), with the same
thresholds (criterion (b)'s, and its range where the inter-annotator IoU is estimated),
the same SD factor, the same groups gated and each check read at the confidence the
primary verdict was read at (family-wise control's level; the resample's interval at that
level, not a rescaled one), and the same cap where a group's primary interval was too few
images for its stated confidence. Only the labels' uncertainty differs, so a verdict that
changes is one the label doubt can turn.

Each primary gated group that some vote names gets a `label_resample` block beside its
figures (docs/results-schema.md). Resampling needs the per-image mean (`--statistic mean`):
under `pooled` no block is added. The resampled reference pools every image with a vote
(disputed ones too, whose labels are now drawn), as stats/label_resample.py defines it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..data.label_policies import majority_label, vote_matrix
from ..results.jsonvalues import to_jsonable
from ..results.names import CRITERIA, IMAGE_COLUMN, STATUS_COLUMN, STATUS_OK
from ..stats.label_resample import ResampledGroups, resample_labels
from .criteria import GroupFigures, assess_attribute

if TYPE_CHECKING:
    from ..config.settings import Settings
    from ..data.vote_labels import VotedAttribute


def add_resample_verdicts(statistics: dict[str, Any], per_image: pd.DataFrame,
                          voted: Mapping[str, VotedAttribute], settings: Settings
                          ) -> dict[str, Any]:
    """`statistics` (compute_statistics' blocks) with each voted attribute's gated groups'
    `label_resample` block added; unchanged under `--statistic pooled`."""
    if settings.statistic != "mean":
        return statistics
    blocks = statistics.get("attributes", {})
    rows = per_image[per_image[STATUS_COLUMN] == STATUS_OK]
    for name, attribute in voted.items():
        block = blocks.get(name)
        if block is not None:
            _judge(block, name, rows, attribute, settings)
    return statistics


def _judge(block: dict[str, Any], name: str, rows: pd.DataFrame, attribute: VotedAttribute,
           settings: Settings) -> None:
    votes = attribute.votes
    images = [str(image) for image in rows[IMAGE_COLUMN]]
    counts = vote_matrix(votes, images)
    voted_rows = counts.sum(axis=1) > 0
    values = pd.to_numeric(rows[settings.metric], errors="coerce").to_numpy(dtype=float)
    keep = voted_rows & np.isfinite(values)
    if not keep.any():
        return
    counts, values = counts[keep], values[keep]
    kept_images = [image for image, k in zip(images, keep, strict=True) if k]
    strata = [majority_label(votes.images[image].counts) or "" for image in kept_images]
    groups = block["groups"]
    gated = [label for label, g in groups.items() if g.get("gated")]
    ddof_zero = settings.sd_ddof == 0  # label_resample's margin takes the population SD
    cache: dict[float, ResampledGroups] = {}

    def resampled(confidence: float) -> ResampledGroups:
        if confidence not in cache:
            cache[confidence] = resample_labels(
                values, counts, votes.values, strata, attribute=name, seed=settings.seed,
                resamples=settings.bootstrap, confidence=confidence, counted=gated,
                sd_factor=settings.sd_factor if ddof_zero else None)
        return cache[confidence]

    base = resampled(settings.confidence)
    if not any(label in base.groups for label in gated):
        return
    figures = [_figures(base, i, label, groups.get(label), label in gated, resampled,
                        ddof_zero)
               for i, label in enumerate(base.groups)]
    criteria = block["criteria"]
    threshold_range = criteria["b"].get("threshold_range")
    levels = {(label, key): groups[label]["verdicts"][key]["confidence"]
              for label in gated for key in CRITERIA
              if groups[label]["verdicts"].get(key, {}).get("confidence") is not None}
    judged = assess_attribute(
        figures, reference=base.reference, reference_kind="overall",
        threshold_b=criteria["b"].get("threshold") if criteria["b"].get("evaluated") else None,
        threshold_b_range=tuple(threshold_range) if threshold_range else None,
        sd_factor=settings.sd_factor, sd_ddof=settings.sd_ddof,
        min_group_size=0, confidence=settings.confidence, levels=levels)
    for i, label in enumerate(base.groups):
        if label not in gated:
            continue
        found = judged["groups"][label]
        groups[label]["label_resample"] = to_jsonable({
            "images": float(base.images[i]),
            "value": float(base.value[i]),
            "ci": list(base.ci[i]),
            "deviation": float(base.deviation[i]),
            "deviation_ci": list(base.deviation_ci[i]),
            "verdicts": found["verdicts"],
            "margin_ci": list(base.margin_ci[i]) if base.margin_ci is not None else None,
            "empty_share": float(base.empty_share[i]),
        })


def _figures(base: ResampledGroups, i: int, label: str, primary: dict[str, Any] | None,
             is_gated: bool, resampled: Any, ddof_zero: bool) -> GroupFigures:
    """One group's resampled figures; a group the primary verdicts do not gate is flagged
    so that the criteria leave it ungated too (it still enters the reference)."""
    def interval_at(statistic: str, confidence: float) -> tuple[float, float]:
        other = resampled(confidence)
        rows = other.margin_ci if statistic == "margin" else other.deviation_ci
        return tuple(rows[i])  # type: ignore[return-value]

    reason = None
    if primary is not None:
        reason = next((v.get("reason") for v in primary.get("verdicts", {}).values()
                       if v.get("reason")), None)
    margin = base.margin_ci
    return GroupFigures(
        label=label, n=primary.get("n") if primary else None, value=float(base.value[i]),
        ci=tuple(base.ci[i]), deviation_ci=tuple(base.deviation_ci[i]),
        not_annotated=not is_gated,
        margin_ci=tuple(margin[i]) if margin is not None else None,
        interval_at=interval_at if ddof_zero else None,
        unreliable=reason)


__all__ = ["add_resample_verdicts"]
