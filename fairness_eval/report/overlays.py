"""Example overlays for `--examples N`: per group, the N lowest-IoU images, prediction drawn
against ground truth, as small JPEG data URIs for the card.

Off by default, since the images are of people. Reads the run's saved masks
(`run_dir/masks/<stem>.png`, written by `run --save-masks`) and, for each image id, the
image and its ground truth from a source the caller hands in (`images`): the reporter never
loads a dataset or decodes a mask format itself.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import pandas as pd

from ..errors import UsageError
from ..results.labels import group_labels
from ..results.names import IMAGE_COLUMN, IOU_COLUMN, STATUS_COLUMN, STATUS_OK
from ..results.schema import ResultsDocument
from .bounds import shown_attributes

THUMBNAIL_WIDTH = 300  # pixels; shown at 150 CSS px, sharp on high-density screens
# BGR colours: agreement, false positive (predicted person, none in truth), missed person.
AGREE = (67, 160, 46)
FALSE_POSITIVE = (40, 39, 214)
MISSED = (180, 119, 31)
IGNORED = (160, 160, 160)


class ExampleImage(Protocol):
    """One evaluated image as the overlay draws it (the workflow builds these)."""

    def read(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(image BGR as the run scored it (turned upright under --exif rotate), truth mask
        0/255, ignore mask 0/255 or None);
        raises ValueError or OSError when a file cannot be read."""
        ...


def example_overlays(
    results: ResultsDocument, per_image: pd.DataFrame | None, run_dir: Path, count: int,
    images: Mapping[str, ExampleImage] | None = None,
) -> list[dict[str, Any]]:
    """Per attribute and group the card shows (bounds.py), the `count` lowest-IoU images as
    overlays.

    `images` maps an image id to its source (`ExampleImage`). Returns [{"attribute",
    "groups": [{"name", "images": [{"image", "iou", "data_uri"}], "missing"}]}]; "missing"
    explains images that could not be drawn. Raises UsageError when the run has no saved
    masks or no per-image table, or no image files were given.
    """
    if count <= 0:
        return []
    masks_dir = Path(run_dir) / "masks"
    if per_image is None:
        raise UsageError("--examples: this run has no per_image.csv (published-table runs "
                         "have no images to show)")
    if not masks_dir.is_dir():
        raise UsageError(f"--examples: {masks_dir} does not exist; run with --save-masks to "
                         "keep the predicted masks")
    if images is None:
        path = results.dataset.path if results.dataset else None
        raise UsageError(f"--examples: the images of this run's dataset ({path}) were not "
                         "given")
    frame = per_image[per_image[STATUS_COLUMN].astype(str) == STATUS_OK].copy()
    frame[IOU_COLUMN] = pd.to_numeric(frame[IOU_COLUMN], errors="coerce")
    blocks = []
    # The attributes and groups the card shows (bounds.py): their count bounds the decoding.
    for shown in shown_attributes(list(results.attributes.values()), results.lower_is_better):
        name, attribute = shown.attribute.name, shown.attribute
        columns = list(attribute.per_image_columns)
        if any(c not in frame for c in columns):
            continue
        labels = pd.Series(group_labels(frame, columns), index=frame.index)
        groups = []
        for group in attribute.groups:
            worst = frame[labels == group].sort_values([IOU_COLUMN, IMAGE_COLUMN]).head(count)
            drawn, missing = [], []
            for image_id, iou in zip(worst[IMAGE_COLUMN].astype(str), worst[IOU_COLUMN],
                                     strict=True):
                files = images.get(image_id)
                uri = _overlay_uri(files, masks_dir / f"{image_id}.png") if files else None
                if uri is None:
                    missing.append(image_id)
                    continue
                drawn.append({"image": image_id, "iou": f"{100 * iou:.1f}", "data_uri": uri})
            note = f"Could not draw: {', '.join(missing)}." if missing else ""
            groups.append({"name": group, "images": drawn, "missing": note})
        blocks.append({"attribute": name, "groups": groups})
    return blocks


def _overlay_uri(source: ExampleImage, predicted_path: Path) -> str | None:
    predicted = cv2.imread(str(predicted_path), cv2.IMREAD_GRAYSCALE)
    try:
        image, truth, ignore = source.read()
    except (ValueError, OSError):
        return None
    if image is None or predicted is None:
        return None
    if predicted.shape != truth.shape or image.shape[:2] != truth.shape:
        return None
    ignored = np.zeros(truth.shape, dtype=bool)
    if ignore is not None and ignore.shape == truth.shape:
        ignored = ignore >= 128
    overlay = compose_overlay(image, truth >= 128, predicted >= 128, ignored)
    scale = THUMBNAIL_WIDTH / overlay.shape[1]
    if scale < 1:
        size = (THUMBNAIL_WIDTH, max(1, round(overlay.shape[0] * scale)))
        overlay = cv2.resize(overlay, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", overlay, [cv2.IMWRITE_JPEG_QUALITY, 82])
    if not ok:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")


def compose_overlay(
    image_bgr: np.ndarray, truth: np.ndarray, predicted: np.ndarray, ignored: np.ndarray
) -> np.ndarray:
    """The image, dimmed, with agreement, false positives, misses and ignored pixels tinted."""
    out = image_bgr.astype(np.float32) * 0.6
    for mask, colour in (
        (truth & predicted & ~ignored, AGREE),
        (predicted & ~truth & ~ignored, FALSE_POSITIVE),
        (truth & ~predicted & ~ignored, MISSED),
        (ignored, IGNORED),
    ):
        out[mask] = out[mask] * 0.4 + np.array(colour, dtype=np.float32) * 0.6
    return np.clip(out, 0, 255).astype(np.uint8)
