"""What the criteria judged and what n counts, named alike in every report.

A run judges one metric of the catalogue (IoU, Boundary IoU, Dice or flicker; `--metric`,
recorded as `results.metric`; metrics/catalogue.py, read through results/names.py) over
images or, for a video run, over clips (`results.unit`). The card, summary.md, the
console table, model_card.json and comparison.md read those two fields through here, so
the judged figure is never called IoU when it is not, and n is never called images when
it counts clips. Text only: nothing here computes a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..results.names import (
    CLIP_METRIC_COLUMNS,
    LOWER_IS_BETTER_METRICS,
    METRIC_LABELS,
    METRIC_MEANINGS,
)
from ..results.schema import ResultsDocument

_COUNT_WORDS = {2: "both", 3: "all three", 4: "all four", 5: "all five", 6: "all six"}


@dataclass(frozen=True)
class JudgedFigure:
    """The judged metric and the unit its statistics count, with the words for them."""

    metric: str = "iou"
    unit: str = "image"

    @property
    def label(self) -> str:
        """'IoU', 'Boundary IoU', 'Dice' or 'flicker' (the catalogue's label)."""
        return metric_label(self.metric)

    @property
    def units(self) -> str:
        """What n counts, plural: 'images' or 'clips'."""
        return f"{self.unit}s"

    @property
    def lower_is_better(self) -> bool:
        return self.metric in LOWER_IS_BETTER_METRICS


def judged_figure(results: ResultsDocument) -> JudgedFigure:
    """The judged figure of a results document, as it recorded it."""
    return JudgedFigure(results.metric, results.unit)


def metric_label(metric: str | None) -> str:
    """How reports name a metric: 'iou' -> 'IoU', 'boundary_iou' -> 'Boundary IoU'."""
    return METRIC_LABELS.get(metric or "iou", str(metric))


def methods_context(results: ResultsDocument) -> dict[str, Any]:
    """The card's methods text about the judged metric and the unit of the statistics."""
    figure = judged_figure(results)
    clips = figure.unit == "clip"
    judged = METRIC_MEANINGS.get(figure.metric, figure.metric)
    if clips:
        labels = [metric_label(name) for name in CLIP_METRIC_COLUMNS]
        every = _COUNT_WORDS.get(len(labels), f"all {len(labels)}")
        judged += f"; {every} ({', '.join(labels)}) are in per_clip.csv"
    elif figure.metric != "iou":
        judged += "; IoU is reported beside it"
    if results.statistic == "pooled":
        statistic = (f"pooled IoU, the sum of intersections over the sum of unions of the "
                     f"{figure.unit}s' scored {'frames' if clips else 'pixels'}")
    else:
        statistic = f"mean of the per-{figure.unit} {figure.label}"
    return {
        "statistic": statistic,
        "is_video": clips,
        "show_metric": clips or figure.metric != "iou",
        "judged": judged,
        "value_label": figure.label,
        "lower_is_better": figure.lower_is_better,
        "unit": figure.unit,
        "units": figure.units,
        "clip_method": ("A clip's figure is the mean over its scored frames (frames with a "
                        "mask; every frame is run); a group's figure is the mean over its "
                        "clips. Frames of one clip are not independent, so the intervals "
                        "resample clips within each group (a cluster bootstrap) and every n "
                        "counts clips.") if clips else "",
    }


__all__ = ["METRIC_LABELS", "METRIC_MEANINGS", "JudgedFigure", "judged_figure",
           "methods_context", "metric_label"]
