"""Attributes derived from an image's ground truth (and pixels): how the photo was taken.

A gap between groups may come from the photos rather than the people in them; these
attributes make such confounders visible and can be adjusted for (stats/standardise.py).
Each is a label per image, evaluated like any annotated attribute:

- person_share: the person's share of the frame (person pixels / all pixels), in the bins
  [0, 5 %), [5, 20 %), [20, 50 %), [50, 100 %], labelled "0-5 %", "5-20 %", "20-50 %",
  "50-100 %". An image without a person falls in "0-5 %".
- people: connected components (8-connected) of the person mask larger than 1 % of the
  mask's person area: "1", "2", "3+"; "0" when the mask has no person pixel. A mask whose
  person pixels are all in components of <= 1 % (fragments only) counts as "1".
- brightness: the mean Rec. 601 luma (0.299 R + 0.587 G + 0.114 B, on the stored 0-255
  values) over the person's pixels: "luma 0-85 (dark)" below 85, "luma 85-170 (mid)",
  "luma 170-255 (bright)" from 170; no label (None, "not annotated") without a person.

Labels start with their bin's lower bound, so the card's natural order (results.labels.
group_order) lists them from low to high. Ignored pixels count as part of the frame and
not of the person (the ground truth marks no person there).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

DERIVED = ("person_share", "people", "brightness")
# (upper bound, exclusive; label)
SHARE_BINS = ((0.05, "0-5 %"), (0.20, "5-20 %"), (0.50, "20-50 %"), (float("inf"), "50-100 %"))
PEOPLE_MIN_SHARE = 0.01  # of the mask's person area: smaller components are fragments
DARK_BELOW, BRIGHT_FROM = 85.0, 170.0
BRIGHTNESS_LABELS = ("luma 0-85 (dark)", "luma 85-170 (mid)", "luma 170-255 (bright)")
REC601 = np.array([0.299, 0.587, 0.114])


def person_share(truth: np.ndarray) -> float:
    """The person's share of the frame, 0-1."""
    truth = np.asarray(truth, dtype=bool)
    return float(np.count_nonzero(truth)) / truth.size if truth.size else 0.0


def person_share_label(share: float) -> str:
    """The person_share bin of a share in [0, 1]."""
    return next(label for upper, label in SHARE_BINS if share < upper)


def count_people(truth: np.ndarray) -> int:
    """Connected person components larger than 1 % of the person area (>= 1 with a person)."""
    binary = np.asarray(truth, dtype=bool).astype(np.uint8)
    area = int(binary.sum())
    if area == 0:
        return 0
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    sizes = stats[1:count, cv2.CC_STAT_AREA]  # row 0 is the background
    return max(1, int(np.count_nonzero(sizes > PEOPLE_MIN_SHARE * area)))


def people_label(count: int) -> str:
    """"0", "1", "2" or "3+"."""
    return "3+" if count >= 3 else str(int(count))


def person_luma(image: np.ndarray, truth: np.ndarray) -> float | None:
    """Mean Rec. 601 luma over the person's pixels of an RGB (or grey) image; None without one."""
    truth = np.asarray(truth, dtype=bool)
    image = np.asarray(image)
    if image.shape[:2] != truth.shape:
        raise ValueError(f"image is {image.shape[:2]} but the mask is {truth.shape}")
    if not truth.any():
        return None
    pixels = image[truth].astype(float)
    luma = pixels if pixels.ndim == 1 else pixels[:, :3] @ REC601
    return float(luma.mean())


def brightness_label(luma: float | None) -> str | None:
    """The brightness bin of a mean luma; None (not annotated) without a person."""
    if luma is None:
        return None
    if luma < DARK_BELOW:
        return BRIGHTNESS_LABELS[0]
    return BRIGHTNESS_LABELS[2] if luma >= BRIGHT_FROM else BRIGHTNESS_LABELS[1]


def derive_attributes(truth: np.ndarray, image: np.ndarray | None = None,
                      names: Sequence[str] = DERIVED) -> dict[str, str | None]:
    """The requested derived attributes of one image, as labels (None: not annotated)."""
    unknown = [name for name in names if name not in DERIVED]
    if unknown:
        raise ValueError(f"unknown derived attribute(s) {unknown}; known: {', '.join(DERIVED)}")
    labels: dict[str, str | None] = {}
    for name in names:
        if name == "person_share":
            labels[name] = person_share_label(person_share(truth))
        elif name == "people":
            labels[name] = people_label(count_people(truth))
        else:
            if image is None:
                raise ValueError("brightness needs the image")
            labels[name] = brightness_label(person_luma(image, truth))
    return labels
