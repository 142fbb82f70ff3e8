"""Temporal flicker of a clip's predicted masks: changes the ground truth does not make.

For consecutive annotated frames t-1 and t (with sparse annotation, the previous frame
that has a mask):

    flicker_t = |(P_t xor P_{t-1}) minus (G_t xor G_{t-1})| / |G_t union G_{t-1}|

the pixels where the prediction changes although the ground truth does not, relative to
the person's size. Pixels ignored in either frame are left out of both counts. Lower is
better; 0 is a prediction that changes only where the person does.

When neither frame has a person pixel (an empty union) flicker is undefined, since it is
relative to a person that is not there: it is None, and such a pair is left out of the
clip's mean (the prediction's false positives on those frames are what their IoU of 0
already measures). A clip's flicker is the mean over its defined pairs, None if it has none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def flicker_counts(prev_pred: np.ndarray, pred: np.ndarray, prev_truth: np.ndarray,
                   truth: np.ndarray, ignore: np.ndarray | None = None,
                   prev_ignore: np.ndarray | None = None) -> tuple[int, int]:
    """Spurious predicted changes and the person's union over both frames, as pixel counts."""
    masks = [np.asarray(m, dtype=bool) for m in (prev_pred, pred, prev_truth, truth)]
    shapes = {m.shape for m in masks}
    if len(shapes) != 1:
        raise ValueError(f"mask shapes differ: {sorted(shapes)}")
    prev_pred_b, pred_b, prev_truth_b, truth_b = masks
    scored = np.ones(pred_b.shape, dtype=bool)
    for excluded in (ignore, prev_ignore):
        if excluded is not None:
            scored &= ~np.asarray(excluded, dtype=bool)
    spurious = (pred_b ^ prev_pred_b) & ~(truth_b ^ prev_truth_b) & scored
    person = (truth_b | prev_truth_b) & scored
    return int(np.count_nonzero(spurious)), int(np.count_nonzero(person))


def flicker(prev_pred: np.ndarray, pred: np.ndarray, prev_truth: np.ndarray,
            truth: np.ndarray, ignore: np.ndarray | None = None,
            prev_ignore: np.ndarray | None = None) -> float | None:
    """flicker_t of one pair of frames; None when neither frame has a scored person pixel.

    `ignore` is frame t's ignore mask, `prev_ignore` frame t-1's (pixels ignored in either
    are excluded); pass one mask as `ignore` when both frames share it.
    """
    spurious, person = flicker_counts(prev_pred, pred, prev_truth, truth, ignore, prev_ignore)
    return None if person == 0 else spurious / person


def flicker_series(predictions: Sequence[np.ndarray], truths: Sequence[np.ndarray],
                   ignores: Sequence[np.ndarray | None] | None = None) -> list[float | None]:
    """Flicker of each scored frame of a clip, in order; None for the first frame.

    The sequences hold the clip's annotated frames only, in frame order, so each frame is
    paired with the previous annotated one.
    """
    if len(predictions) != len(truths):
        raise ValueError(f"{len(predictions)} predictions but {len(truths)} ground truths")
    if ignores is None:
        ignores = [None] * len(truths)
    elif len(ignores) != len(truths):
        raise ValueError(f"{len(ignores)} ignore masks but {len(truths)} ground truths")
    series: list[float | None] = [None] * min(1, len(truths))
    for t in range(1, len(truths)):
        series.append(flicker(predictions[t - 1], predictions[t], truths[t - 1], truths[t],
                              ignores[t], ignores[t - 1]))
    return series


def clip_flicker(values: Iterable[float | None]) -> float | None:
    """A clip's flicker: the mean of its defined per-pair values; None if none is defined."""
    defined = [float(v) for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(defined)) if defined else None
