"""Figures adjusted for a confounder: each group compared on the whole set's mix of strata.

`assess_adjusted` takes the per-image table, the run's attributes and the categorical
attribute to adjust for (`--adjust-for`, e.g. the derived `person_share`) and returns
results.json's `adjustment` block (docs/results-schema.md): for every other attribute and
each of its groups, the raw mean IoU beside its directly standardised mean with a
bootstrap interval, and the adjusted deviation from the whole set's mean
(`stats.standardise`). Strata a group lacks are listed, not imputed; images without a
stratum are left out and counted. The figures are of mean per-image IoU, whatever the
run's statistic (a standardised pooled IoU is not defined here).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..config.settings import StatisticsSettings
from ..errors import UsageError
from ..results.jsonvalues import to_jsonable
from ..results.labels import group_labels, group_labels_and_missing, group_order
from ..results.names import IOU_COLUMN
from ..stats.standardise import standardise
from .rows import evaluated_rows

_GROUP, _STRATUM = "__group", "__stratum"


def assess_adjusted(
    per_image: pd.DataFrame,
    attributes: Sequence[tuple[str, Sequence[str]]],
    adjust_for: str,
    settings: StatisticsSettings,
) -> dict[str, Any]:
    """results.json's `adjustment` block, JSON-ready; `attributes` are (name, columns)."""
    rows = evaluated_rows(per_image, "mean")
    if adjust_for not in rows.columns:
        raise UsageError(f"--adjust-for: {adjust_for!r} is not a column of the per-image "
                         "table (name an attribute, or a derived one with --derive)")
    # an image without a value has no stratum; a value that reads "(not annotated)" is one
    strata, missing = group_labels_and_missing(rows, [adjust_for])
    table = rows.assign(**{_STRATUM: np.where(missing, None, strata)})
    if table[_STRATUM].isna().all():
        raise UsageError(f"--adjust-for: no evaluated image has a value for {adjust_for!r}")
    blocks: dict[str, Any] = {}
    weights: dict[str, float] = {}
    for name, columns in attributes:
        if tuple(columns) == (adjust_for,):
            continue  # every group is one stratum: nothing to adjust
        result = standardise(
            table.assign(**{_GROUP: group_labels(table, tuple(columns))}), _GROUP, _STRATUM,
            IOU_COLUMN, key=(name, "adjusted for", adjust_for), seed=settings.seed,
            resamples=settings.bootstrap, confidence=settings.confidence,
            method=settings.ci_method)
        weights = result.weights
        groups = {}
        for label in sorted(result.groups, key=group_order):
            i = result.groups.index(label)
            groups[label] = {
                "n": int(result.n[i]), "raw": float(result.raw[i]),
                "adjusted": float(result.adjusted[i]), "ci": list(result.adjusted_ci[i]),
                "deviation": float(result.deviation[i]),
                "deviation_ci": list(result.deviation_ci[i]),
                "coverage": float(result.coverage[i]),
                "missing_strata": sorted(result.missing_strata[i], key=group_order),
            }
        blocks[name] = {"overall": result.overall, "unstratified": result.unstratified,
                        "groups": groups}
    return to_jsonable({
        "attribute": adjust_for,
        "statistic": "mean",
        "weights": {s: weights[s] for s in sorted(weights, key=group_order)},
        "attributes": blocks,
    })


__all__ = ["assess_adjusted"]
