"""Boundary IoU (Cheng et al., CVPR 2021) of a predicted and a ground-truth person mask.

IoU weighs every pixel of a mask equally, so a large person hides a ragged edge. Boundary
IoU compares only the bands along the two masks' edges:

- d = max(1, round(ratio * sqrt(h^2 + w^2))), ratio 0.02 by default (2 % of the diagonal);
  `round` is Python's (half to even), as the reference implementation's `int(round(...))`;
- a mask's band is the mask minus its erosion by a 3 x 3 square kernel applied d times, the
  mask padded with one pixel of zeros first, so an object cut by the frame edge has a
  boundary there too; a part thinner than 2d + 1 pixels is all band;
- Boundary IoU = |B(P) & B(G)| / |B(P) | B(G)|, and 1.0 when both bands are empty (both
  masks empty over the scored pixels: the same convention as IoU).

This is the algorithm of the reference implementation, bowenc0221/boundary-iou-api,
`boundary_iou/utils/boundary_utils.py::mask_to_boundary` (tests/test_boundary.py compares
the two on real masks). Ignored pixels: the bands are those of the masks as given, and the
ignored pixels are then left out of both counts, as `masks.mask_counts` leaves them out of
IoU's; removing them from the masks first would draw false edges around every void region.
"""

from __future__ import annotations

import cv2
import numpy as np

from .catalogue import BOUNDARY_RATIO as DEFAULT_RATIO  # defined once, without OpenCV
from .masks import iou_from_counts


def band_width(shape: tuple[int, ...], ratio: float = DEFAULT_RATIO) -> int:
    """d: the band's width in pixels for a mask of `shape` (h, w)."""
    h, w = shape[:2]
    return max(1, int(round(ratio * float(np.sqrt(h**2 + w**2)))))


def mask_to_boundary(mask: np.ndarray, dilation_ratio: float = DEFAULT_RATIO) -> np.ndarray:
    """The boundary band of a 2-D mask (nonzero = person) as a boolean array of its shape."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"a mask must be 2-D, not of shape {mask.shape}")
    binary = np.ascontiguousarray(mask if mask.dtype == bool else mask != 0).view(np.uint8)
    band = np.zeros(binary.shape, np.uint8)
    left, top, width, height = cv2.boundingRect(binary)
    if width and height:
        # Only the mask's bounding box can hold band pixels. The erosion by the square of
        # side 2d + 1 is where the square holds nothing but mask: a box sum equal to its
        # area, with zeros outside the box (the mask's own, or the frame's padding: every
        # square that leaves the box meets one just outside it). Both cost a fraction of
        # d erosions of the whole padded frame, and give the same pixels.
        inside = binary[top:top + height, left:left + width]
        side = 2 * band_width(binary.shape, dilation_ratio) + 1
        sums = cv2.boxFilter(inside, cv2.CV_32S, (side, side), normalize=False,
                             borderType=cv2.BORDER_CONSTANT)
        band[top:top + height, left:left + width] = inside & (sums != side * side)
    return band.view(bool)


def boundary_counts(predicted: np.ndarray, truth: np.ndarray, ignore: np.ndarray | None = None,
                    ratio: float = DEFAULT_RATIO) -> tuple[int, int]:
    """Intersection and union of the two masks' boundary bands, ignored pixels excluded."""
    predicted = np.asarray(predicted)
    truth = np.asarray(truth)
    if predicted.shape != truth.shape:
        raise ValueError(f"mask shapes differ: {predicted.shape} vs {truth.shape}")
    predicted_band = mask_to_boundary(predicted, ratio)
    truth_band = mask_to_boundary(truth, ratio)
    if ignore is not None:
        scored = ~np.asarray(ignore, dtype=bool)
        predicted_band &= scored
        truth_band &= scored
    intersection = int(np.count_nonzero(predicted_band & truth_band))
    union = int(np.count_nonzero(predicted_band | truth_band))
    return intersection, union


def boundary_iou(predicted: np.ndarray, truth: np.ndarray, ignore: np.ndarray | None = None,
                 ratio: float = DEFAULT_RATIO) -> float:
    """Boundary IoU of two masks of the same shape; 1.0 when both bands are empty."""
    return iou_from_counts(*boundary_counts(predicted, truth, ignore, ratio))
