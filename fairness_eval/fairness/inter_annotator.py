"""The inter-annotator IoU behind criterion (b): given, or measured on the dataset's masks.

Criterion (b)'s threshold is 2 x (1 - inter-annotator IoU). The agreement is the
`--inter-annotator-iou` setting when given; otherwise the mean over images of the
per-image table's `inter_annotator_iou` column (each image's mean IoU over annotator
pairs, NaN where the image has no other annotator), with its own bootstrap interval. An
estimated agreement makes the threshold uncertain: `criterion_b_thresholds` turns the
interval into the range of thresholds it allows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..config.settings import StatisticsSettings
from ..errors import UsageError
from ..results.names import ANNOTATOR_IOU_PREFIX, INTER_ANNOTATOR_COLUMN
from ..stats import bootstrap as stats
from .criteria import criterion_b_threshold


def inter_annotator_summary(rows: pd.DataFrame, settings: StatisticsSettings) -> dict[str, Any]:
    """results.json's `inter_annotator_iou`: the setting's value, else the table's mean."""
    annotators = sorted(
        c[len(ANNOTATOR_IOU_PREFIX):] for c in rows.columns
        if c.startswith(ANNOTATOR_IOU_PREFIX) and "_vs_" not in c
        and c != INTER_ANNOTATOR_COLUMN
    )
    dataset = None
    if INTER_ANNOTATOR_COLUMN in rows.columns:
        values = pd.to_numeric(rows[INTER_ANNOTATOR_COLUMN], errors="coerce").to_numpy(
            dtype=float)
        values = values[np.isfinite(values)]
        if values.size:
            if values.min() < 0 or values.max() > 1:
                raise UsageError(
                    f"per-image table: {INTER_ANNOTATOR_COLUMN} has values outside [0, 1]")
            value, ci, _ = stats.bootstrap_value(
                stats.make_sample("mean", iou=values), (INTER_ANNOTATOR_COLUMN,),
                seed=settings.seed, resamples=settings.bootstrap,
                confidence=settings.confidence, method=settings.ci_method,
            )
            dataset = {"value": value, "ci": list(ci), "source": "dataset",
                       "n_images": int(values.size), "annotators": annotators, "note": None}
    if settings.inter_annotator_iou is not None:
        note = "given by --inter-annotator-iou"
        if dataset is not None:
            note += (f"; the dataset's other annotators give {dataset['value']:.4f} over "
                     f"{dataset['n_images']} images")
        return {"value": settings.inter_annotator_iou, "ci": None, "source": "option",
                "n_images": None, "annotators": [], "note": note}
    if dataset is not None:
        return dataset
    return {"value": None, "ci": None, "source": None, "n_images": 0, "annotators": [],
            "note": "no other annotators' masks and no --inter-annotator-iou: "
                    "criterion (b) is not evaluated"}


def criterion_b_thresholds(summary: dict[str, Any]
                           ) -> tuple[float | None, tuple[float, float] | None]:
    """Criterion (b)'s threshold, and its range when the agreement has an interval."""
    threshold = criterion_b_threshold(summary["value"])
    if summary["value"] is None or not summary.get("ci"):
        return threshold, None
    # a higher agreement makes a tighter threshold
    low, high = summary["ci"]
    return threshold, (criterion_b_threshold(high), criterion_b_threshold(low))


__all__ = ["criterion_b_thresholds", "inter_annotator_summary"]
