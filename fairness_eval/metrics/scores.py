"""One image's (or frame's) scores: its pixel counts, and every per-image metric over them.

The stills' row builder (evaluation/per_image.py) and the frames' (evaluation/clips.py)
both score a predicted mask here, so the two cannot drift apart, and a metric added to
the catalogue (catalogue.py) reaches both tables without touching either.
"""

from __future__ import annotations

import numpy as np

from .boundary import DEFAULT_RATIO, boundary_counts
from .catalogue import PixelCounts, image_scores
from .masks import mask_counts


def pixel_counts(predicted: np.ndarray, truth: np.ndarray, ignore: np.ndarray | None = None,
                 boundary_ratio: float = DEFAULT_RATIO) -> PixelCounts:
    """The masks' and their boundary bands' counts, ignored pixels excluded."""
    return PixelCounts(mask_counts(predicted, truth, ignore),
                       *boundary_counts(predicted, truth, ignore, boundary_ratio))


def score_masks(predicted: np.ndarray, truth: np.ndarray, ignore: np.ndarray | None = None,
                boundary_ratio: float = DEFAULT_RATIO) -> tuple[PixelCounts, dict[str, float]]:
    """The counts and every per-image metric of the catalogue, by name, in its order."""
    counts = pixel_counts(predicted, truth, ignore, boundary_ratio)
    return counts, image_scores(counts)
