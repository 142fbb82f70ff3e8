"""The per-image table as the statistics read it: the evaluated rows, their numbers checked.

Only rows with status "ok" count. A row whose IoU (or, for the pooled statistic, whose
intersection or union) is not a number in range is refused with a UsageError naming the
row and the image, so a hand-edited per_image.csv cannot slip a NaN into an interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..metrics.catalogue import metric_info
from ..results.names import IMAGE_COLUMN, IOU_COLUMN, ROW_COLUMN, STATUS_COLUMN, STATUS_OK
from ..stats import bootstrap as stats

# The range of a pixel count (intersection, union); a metric's is its catalogue record's.
COUNT_BOUNDS: tuple[float, float | None] = (0.0, None)


def _bounds(column: str) -> tuple[float, float | None]:
    """The range a column's values must lie in: the metric's bounds, or a count's."""
    metric = metric_info(column)
    return COUNT_BOUNDS if metric is None else metric.bounds


def _row_name(rows: pd.DataFrame, position: int) -> str:
    row = rows.iloc[position]
    label = (f"row {row[ROW_COLUMN]}" if ROW_COLUMN in rows.columns
             else f"row {rows.index[position]}")
    if IMAGE_COLUMN in rows.columns:
        label += f" (image {row[IMAGE_COLUMN]})"
    return label


def evaluated_rows(per_image: pd.DataFrame, statistic: str = "mean",
                   metric: str = IOU_COLUMN) -> pd.DataFrame:
    """The rows with status "ok", numeric columns checked; UsageError names a bad row.

    `metric` is the column the criteria judge; its values must lie in the metric's bounds
    (metrics/catalogue.py: IoU, Boundary IoU and Dice in [0, 1], flicker >= 0).
    """
    if not isinstance(per_image, pd.DataFrame):
        raise UsageError("per-image table: expected a pandas DataFrame")
    needed = [metric] + (["intersection", "union"] if statistic == "pooled" else [])
    missing = [c for c in needed if c not in per_image.columns]
    if missing:
        raise UsageError(f"per-image table: missing column(s) {', '.join(missing)}")
    rows = per_image
    if STATUS_COLUMN in rows.columns:
        rows = rows[rows[STATUS_COLUMN].astype(str).str.strip().str.lower() == STATUS_OK]
    if rows.empty:
        raise UsageError("per-image table: no image with status ok; nothing to evaluate")
    rows = rows.copy()
    for column in dict.fromkeys((IOU_COLUMN, metric, "intersection", "union")):
        if column not in rows.columns:
            continue
        values = pd.to_numeric(rows[column], errors="coerce")
        numbers = values.to_numpy(dtype=float)
        low, high = _bounds(column)
        bad = ~np.isfinite(numbers) | (numbers < low)
        if high is not None:
            bad |= numbers > high
        if bad.any() and column in needed:
            first = int(np.flatnonzero(bad)[0])
            found = rows[column].iloc[first]  # text as typed ('abc'), a number as read (1.2)
            shown = repr(found) if isinstance(found, str) else str(found)
            raise UsageError(
                f"per-image table {_row_name(rows, first)}: {column} is {shown}, not a "
                "valid number"
            )
        rows[column] = values
    return rows


def sample_of(rows: pd.DataFrame, statistic: str, metric: str = IOU_COLUMN) -> stats.Sample:
    """The rows as a bootstrap sample of `statistic` ("mean" of `metric`, or "pooled" I / U)."""
    if statistic == "mean":
        return stats.make_sample("mean", iou=rows[metric].to_numpy(dtype=float))
    return stats.make_sample(
        "pooled",
        intersection=rows["intersection"].to_numpy(dtype=float),
        union=rows["union"].to_numpy(dtype=float),
    )


def pooled_iou(rows: pd.DataFrame) -> float | None:
    """sum I / sum U over the rows, or None without finite intersection and union columns."""
    if "intersection" not in rows.columns or "union" not in rows.columns:
        return None
    values = rows[["intersection", "union"]].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        return None
    return float(stats.ratio(values[:, 0].sum(), values[:, 1].sum()))


def both_empty_count(rows: pd.DataFrame) -> int | None:
    """Images whose truth and prediction are both empty, from `both_empty` or a zero union."""
    if "both_empty" in rows.columns:
        flags = rows["both_empty"]
        if flags.dtype != bool:
            flags = flags.astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
        return int(flags.sum())
    if "union" in rows.columns:
        return int((rows["union"] == 0).sum())
    return None


__all__ = ["both_empty_count", "evaluated_rows", "pooled_iou", "sample_of"]
