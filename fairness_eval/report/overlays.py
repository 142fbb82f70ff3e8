"""Example overlays for `--examples N`: per group, the N lowest-IoU images, prediction drawn
against ground truth, as small JPEG data URIs for the card.

Off by default, since the images are of people. Reads the run's saved masks
(`run_dir/masks/<stem>.png`, written by `run --save-masks`) and the dataset's images, masks
and ignore masks through the dataset loader, so both folder and manifest datasets work.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from ..errors import UsageError
from .charts import attribute_columns, group_labels

THUMBNAIL_WIDTH = 300  # pixels; shown at 150 CSS px, sharp on high-density screens
# BGR colours: agreement, false positive (predicted person, none in truth), missed person.
AGREE = (67, 160, 46)
FALSE_POSITIVE = (40, 39, 214)
MISSED = (180, 119, 31)
IGNORED = (160, 160, 160)


def example_overlays(
    results: Mapping[str, Any], per_image: pd.DataFrame | None, run_dir: Path, count: int
) -> list[dict[str, Any]]:
    """Per attribute and group, the `count` lowest-IoU images as overlays.

    Returns [{"attribute", "groups": [{"name", "images": [{"image", "iou", "data_uri"}],
    "missing"}]}]; "missing" explains images that could not be drawn. Raises UsageError when
    the run has no saved masks or no per-image table.
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
    samples = _samples(results)
    frame = per_image[per_image["status"].astype(str) == "ok"].copy()
    frame["iou"] = pd.to_numeric(frame["iou"], errors="coerce")
    blocks = []
    for name, attribute in (results.get("attributes") or {}).items():
        columns = attribute_columns(name, attribute)
        if any(c not in frame for c in columns):
            continue
        labels = group_labels(frame, columns)
        groups = []
        for group in attribute.get("groups") or {}:
            worst = frame[labels == group].sort_values(["iou", "image"]).head(count)
            images, missing = [], []
            for image_id, iou in zip(worst["image"].astype(str), worst["iou"], strict=True):
                sample = samples.get(image_id)
                uri = _overlay_uri(sample, masks_dir / f"{image_id}.png") if sample else None
                if uri is None:
                    missing.append(image_id)
                    continue
                images.append({"image": image_id, "iou": f"{100 * iou:.1f}", "data_uri": uri})
            note = f"Could not draw: {', '.join(missing)}." if missing else ""
            groups.append({"name": group, "images": images, "missing": note})
        blocks.append({"attribute": name, "groups": groups})
    return blocks


def _samples(results: Mapping[str, Any]) -> dict[str, Any]:
    from ..data.dataset import load_dataset

    path = (results.get("dataset") or {}).get("path")
    if not path or not Path(path).exists():
        raise UsageError(f"--examples: the dataset of this run ({path}) is not at hand")
    dataset = load_dataset(path, check_files=False)
    return {sample.image_id: sample for sample in dataset.samples}


def _overlay_uri(sample: Any, predicted_path: Path) -> str | None:
    # Stored pixel order, as the pipeline read it: masks carry no EXIF orientation.
    image = cv2.imread(str(sample.image), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    truth = cv2.imread(str(sample.mask), cv2.IMREAD_GRAYSCALE)
    predicted = cv2.imread(str(predicted_path), cv2.IMREAD_GRAYSCALE)
    if image is None or truth is None or predicted is None:
        return None
    if predicted.shape != truth.shape or image.shape[:2] != truth.shape:
        return None
    ignored = np.zeros(truth.shape, dtype=bool)
    if sample.ignore is not None:
        ignore = cv2.imread(str(sample.ignore), cv2.IMREAD_GRAYSCALE)
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
