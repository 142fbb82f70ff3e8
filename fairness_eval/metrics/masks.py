"""Per-image mask agreement: intersection, union, IoU and Dice of person masks (pure numpy).

IoU is computed at the ground-truth resolution over the pixels that are scored, i.e. not
marked in the `ignore` mask. When both the prediction and the ground truth are empty over
the scored pixels, the union is 0 and IoU is defined as 1.0 (the model correctly found no
person); such images are counted in the results (`both_empty`).

Dice is 2 |P & G| / (|P| + |G|) over the same scored pixels (the F1 score of the person
pixels; Dice = 2 IoU / (1 + IoU), computed from the counts, not from IoU). Its denominator
is 0 exactly when the union is, and Dice is then 1.0 as IoU is.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

PERSON_LEVEL = 128  # a mask pixel >= 128 is person / ignored


@dataclass(frozen=True)
class MaskCounts:
    """Pixel counts behind one image's IoU."""

    intersection: int
    union: int
    gt_area: int
    pred_area: int
    ignored_pixels: int

    @property
    def iou(self) -> float:
        return iou_from_counts(self.intersection, self.union)

    @property
    def both_empty(self) -> bool:
        return self.union == 0


def iou_from_counts(intersection: int, union: int) -> float:
    """I / U, with 1.0 when the union is empty (both masks empty)."""
    return 1.0 if union == 0 else intersection / union


def dice_from_counts(counts: MaskCounts) -> float:
    """2 |P & G| / (|P| + |G|), with 1.0 when both masks are empty over the scored pixels."""
    areas = counts.gt_area + counts.pred_area
    return 1.0 if areas == 0 else 2 * counts.intersection / areas


def to_binary(mask: np.ndarray) -> np.ndarray:
    """An 8-bit mask as booleans: pixels >= 128 are set."""
    return np.asarray(mask) >= PERSON_LEVEL


def mask_counts(predicted: np.ndarray, truth: np.ndarray, ignore: np.ndarray | None = None
                ) -> MaskCounts:
    """Counts of two boolean masks of the same shape, ignored pixels excluded."""
    predicted = np.asarray(predicted, dtype=bool)
    truth = np.asarray(truth, dtype=bool)
    if predicted.shape != truth.shape:
        raise ValueError(f"mask shapes differ: {predicted.shape} vs {truth.shape}")
    ignored = 0
    if ignore is not None:
        ignore = np.asarray(ignore, dtype=bool)
        scored = ~ignore
        ignored = int(ignore.sum())
        predicted = predicted & scored
        truth = truth & scored
    intersection = int(np.count_nonzero(predicted & truth))
    gt_area = int(np.count_nonzero(truth))
    pred_area = int(np.count_nonzero(predicted))
    return MaskCounts(intersection, gt_area + pred_area - intersection, gt_area, pred_area,
                      ignored)


def mask_iou(a: np.ndarray, b: np.ndarray, ignore: np.ndarray | None = None) -> float:
    """IoU of two boolean masks, ignored pixels excluded."""
    return mask_counts(a, b, ignore).iou


def annotator_ious(primary: np.ndarray, others: dict[str, np.ndarray],
                   ignore: np.ndarray | None = None) -> dict[str, float]:
    """Agreement between annotators of one image.

    Returns `iou_<name>` (annotator against the primary mask) for each other annotator,
    `iou_<a>_vs_<b>` for each pair of other annotators, and `inter_annotator_iou`, the
    mean over all pairs including the primary mask (the per-image inter-annotator IoU).
    """
    result: dict[str, float] = {}
    pair_values = []
    for name in sorted(others):
        value = mask_iou(others[name], primary, ignore)
        result[f"iou_{name}"] = value
        pair_values.append(value)
    for a, b in combinations(sorted(others), 2):
        value = mask_iou(others[a], others[b], ignore)
        result[f"iou_{a}_vs_{b}"] = value
        pair_values.append(value)
    if pair_values:
        result["inter_annotator_iou"] = float(np.mean(pair_values))
    return result
