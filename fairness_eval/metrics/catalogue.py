"""The metric catalogue: one record per metric the criteria can judge, read by every stage.

A `Metric` says everything the stages need to know about one metric: its name (the
per-image, per-frame and per-clip column, and `--metric`'s value), how reports name it,
what it means, whether a lower value is the better one, the range its values lie in,
whether a clip's mean over its scored frames summarises it, and the function that computes
it for one image or frame from that image's pixel counts. Everything else is derived from
`METRICS`: the table columns and their order (results/names.py, results/video_tables.py),
`--metric`'s choices (stats/choices.py), the range check of a hand-edited table
(fairness/rows.py), the words and chart axes of the reports (report/judged.py,
report/charts.py), so adding a metric is its function and its record here.

Importable with numpy alone (no OpenCV, pandas or scipy): the settings check `--metric`
against it before a run forks its workers (docs/architecture.md, Executors), and the
reporters read its words through results/names.py. The pixel counts are computed by
metrics/masks.py and metrics/boundary.py; a metric's function only combines them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .masks import MaskCounts, dice_from_counts, iou_from_counts

# Boundary IoU's band width as a share of the image diagonal (Cheng et al. use 0.02).
BOUNDARY_RATIO = 0.02


@dataclass(frozen=True)
class PixelCounts:
    """What an image's (or a scored frame's) metrics are computed from, ignored pixels left
    out: the two masks' counts and their boundary bands' intersection and union."""

    masks: MaskCounts
    band_intersection: int
    band_union: int


@dataclass(frozen=True)
class Metric:
    """One metric the criteria can judge, as every stage reads it."""

    name: str  # the table column and --metric's value
    label: str  # how every report names it
    meaning: str  # what it measures: the card's methods text
    per_image: Callable[[PixelCounts], float] | None  # None: not one image's own number
    lower_is_better: bool = False
    # The range of its values (None: unbounded above); a table value outside is refused.
    bounds: tuple[float, float | None] = (0.0, 1.0)
    clip: bool = True  # a clip's mean over its scored frames summarises it (per_clip.csv)


METRICS = (
    Metric("iou", "IoU", "IoU per image or frame",
           lambda counts: counts.masks.iou),
    Metric("boundary_iou", "Boundary IoU",
           "Boundary IoU (IoU of the masks' boundary bands; Cheng et al., CVPR 2021)",
           lambda counts: iou_from_counts(counts.band_intersection, counts.band_union)),
    Metric("dice", "Dice",
           "Dice coefficient per image or frame (twice the overlap over the two masks' areas "
           "summed: the F1 score of the person pixels)",
           lambda counts: dice_from_counts(counts.masks)),
    # Flicker compares a frame with the previous scored one (metrics/temporal.py): it is
    # computed per frame pair by evaluation/clips.py, never for a still image.
    Metric("flicker", "flicker",
           "flicker between consecutive scored frames (changes of the predicted mask the "
           "ground truth does not make, relative to the person's size; lower is better)",
           None, lower_is_better=True, bounds=(0.0, None)),
)
METRIC_NAMES = tuple(metric.name for metric in METRICS)
# Those a still image has (per_image.csv's metric columns, in this order).
IMAGE_METRICS = tuple(metric for metric in METRICS if metric.per_image is not None)
# Those a clip's mean summarises (per_frame.csv's and per_clip.csv's, in this order).
CLIP_METRICS = tuple(metric for metric in METRICS if metric.clip)
_BY_NAME = {metric.name: metric for metric in METRICS}


def metric_info(name: str) -> Metric | None:
    """The catalogue's record of a metric, or None for a name it does not hold."""
    return _BY_NAME.get(name)


def image_scores(counts: PixelCounts) -> dict[str, float]:
    """Every per-image metric of one image or frame, by name, in catalogue order."""
    return {metric.name: metric.per_image(counts) for metric in IMAGE_METRICS
            if metric.per_image is not None}


__all__ = ["BOUNDARY_RATIO", "CLIP_METRICS", "IMAGE_METRICS", "METRICS", "METRIC_NAMES",
           "Metric", "PixelCounts", "image_scores", "metric_info"]
