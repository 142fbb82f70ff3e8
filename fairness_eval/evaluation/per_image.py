"""The whole per-image job: read a row's files, predict its mask, score it.

`evaluate_sample` returns one row of the per-image table; `evaluate_samples` returns the
rows of several samples with the model invoked on a few images at once (the same rows,
bit for bit; less CPU per image). A row whose files cannot be decoded, or whose image the
model cannot take, comes back with status "skipped" and its reason; only a failure to
write a saved mask (the user's --save-masks folder) stops the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..atomicwrite import write_atomically
from ..data.samples import Sample
from ..errors import UsageError
from ..metrics.boundary import DEFAULT_RATIO
from ..metrics.masks import annotator_ious
from ..metrics.scores import score_masks
from ..models.segmenter import ModelInput, Segmenter
from .images import (
    RowFailure,
    content_sha256,
    read_mask,
    read_rgb,
    read_truth,
    sample_contents,
)
from .predictions import SuppliedPredictions
from .predictor import predicted_mask

# Images whose decoded pixels together exceed this are not held for a shared invoke: a
# group of four 12-megapixel photos would hold about 600 MB at once.
GROUP_PIXELS = 8_000_000

Row = dict[str, Any]


@dataclass(frozen=True)
class DecodedSample:
    """A row's files, decoded: the image (RGB), its masks (booleans) and the row so far."""

    sample: Sample
    row: Row  # row, image, content_sha256
    image: np.ndarray
    truth: np.ndarray
    ignore: np.ndarray | None
    others: dict[str, np.ndarray]


def evaluate_sample(sample: Sample, segmenter: Segmenter | SuppliedPredictions,
                    mask_threshold: float, masks_dir: Path | None = None, *,
                    boundary_ratio: float = DEFAULT_RATIO) -> Row:
    """Predict one image and score it against its ground truth: one per-image row.

    A pixel is person where the model's probability exceeds `mask_threshold`; Boundary
    IoU's band is `boundary_ratio` of the image diagonal (metrics/boundary.py). With
    `masks_dir`, the predicted mask is written there as <image id>.png.
    """
    decoded = decode_sample(sample)
    if not isinstance(decoded, DecodedSample):
        return decoded
    return evaluate_decoded(decoded, segmenter, mask_threshold, masks_dir, boundary_ratio)


def evaluate_decoded(decoded: DecodedSample, segmenter: Segmenter | SuppliedPredictions,
                     mask_threshold: float, masks_dir: Path | None,
                     boundary_ratio: float) -> Row:
    """`evaluate_sample` of an image already decoded (a task that scores it further, under
    capture conditions, decodes it once)."""
    sample = decoded.sample
    try:
        # MediaPipe's own examples draw the person where probability > threshold.
        predicted = predicted_mask(segmenter, sample, decoded.image, mask_threshold)
    except RowFailure as error:  # a supplied prediction that cannot be decoded
        return {**decoded.row, "status": "skipped", "reason": str(error)}
    except (cv2.error, ValueError, MemoryError) as error:  # e.g. an image too large to warp
        return _not_segmented(decoded, error)
    return score_sample(decoded, predicted, masks_dir, boundary_ratio)


def evaluate_samples(samples: Sequence[Sample], segmenter: Segmenter | SuppliedPredictions,
                     mask_threshold: float, masks_dir: Path | None = None, *,
                     boundary_ratio: float = DEFAULT_RATIO) -> list[Row]:
    """`evaluate_sample` of each sample, in order, the model invoked on groups of images.

    Up to the runtime's batch of images (GROUP_PIXELS in all) are decoded and prepared,
    then predicted together (Segmenter.predict_many) and scored one by one.
    """
    if not isinstance(segmenter, Segmenter):
        return [evaluate_sample(sample, segmenter, mask_threshold, masks_dir,
                                boundary_ratio=boundary_ratio) for sample in samples]
    rows: list[Row | None] = [None] * len(samples)
    group: list[tuple[int, DecodedSample, ModelInput]] = []

    def flush() -> None:
        rows_of = _predict_group(group, segmenter, mask_threshold, masks_dir, boundary_ratio)
        for (index, _, _), row in zip(group, rows_of, strict=True):
            rows[index] = row
        group.clear()

    for index, sample in enumerate(samples):
        decoded = decode_sample(sample)
        if not isinstance(decoded, DecodedSample):
            rows[index] = decoded
            continue
        try:
            prepared = segmenter.model_input(decoded.image)
        except (cv2.error, ValueError, MemoryError) as error:
            rows[index] = _not_segmented(decoded, error)
            continue
        if group and _pixels(group) + _pixels([(index, decoded, prepared)]) > GROUP_PIXELS:
            flush()
        group.append((index, decoded, prepared))
        if len(group) == segmenter.batch:
            flush()
    if group:
        flush()
    return [row for row in rows if row is not None]


def decode_sample(sample: Sample) -> DecodedSample | Row:
    """The row's files decoded, or its skipped row when one cannot be read or decoded."""
    row: Row = {"row": sample.row, "image": sample.image_id}
    try:
        # Each file is read once: the bytes that are hashed are the bytes decoded.
        contents = sample_contents(sample)
        row["content_sha256"] = content_sha256(sample, contents)
        image = read_rgb(sample.image, contents[sample.image], sample.orientation)
        shape = image.shape[:2]
        truth, ignore = read_truth(sample, shape, contents)
        others = {name: read_mask(path, shape, f"mask of annotator {name}", contents[path],
                                  sample.person_value)
                  for name, path in sample.annotators.items()}
    except (RowFailure, OSError) as error:
        return {**row, "status": "skipped", "reason": str(error)}
    return DecodedSample(sample, row, image, truth, ignore, others)


def score_sample(decoded: DecodedSample, predicted: np.ndarray, masks_dir: Path | None = None,
                 boundary_ratio: float = DEFAULT_RATIO) -> Row:
    """The row of a predicted mask scored against the decoded ground truth; with
    `masks_dir`, the mask is also written there as <image id>.png."""
    pixels, scores = score_masks(predicted, decoded.truth, decoded.ignore, boundary_ratio)
    counts = pixels.masks
    row = {
        **decoded.row,
        "status": "ok",
        "reason": "",
        "intersection": counts.intersection,
        "union": counts.union,
        **scores,  # every per-image metric of the catalogue (metrics/catalogue.py)
        "gt_area": counts.gt_area,
        "pred_area": counts.pred_area,
        "ignored_pixels": counts.ignored_pixels,
        "both_empty": counts.both_empty,
    }
    if decoded.others:
        row.update(annotator_ious(decoded.truth, decoded.others, decoded.ignore))
    if masks_dir is not None:
        save_mask(predicted, masks_dir / f"{decoded.sample.image_id}.png", masks_dir.parent)
    return row


def save_mask(predicted: np.ndarray, target: Path, run_dir: Path) -> None:
    """A predicted mask as a 0/255 PNG, written below `run_dir` through no link (a masks/
    replaced by a link to the ground truth must not be written through)."""
    encoded, data = cv2.imencode(".png", predicted.astype(np.uint8) * 255)
    if not encoded:
        raise UsageError(f"--save-masks: cannot write {target}")
    try:
        write_atomically(target, data.tobytes(), root=run_dir)
    except UsageError as error:
        raise UsageError(f"--save-masks: {error}") from None


def _predict_group(group: Sequence[tuple[int, DecodedSample, ModelInput]],
                   segmenter: Segmenter, mask_threshold: float, masks_dir: Path | None,
                   boundary_ratio: float) -> list[Row]:
    try:
        probabilities = segmenter.predict_many([prepared for _, _, prepared in group])
    except (cv2.error, ValueError, MemoryError):
        # Which image failed is only known one by one; each gets its own row.
        return [evaluate_sample(decoded.sample, segmenter, mask_threshold, masks_dir,
                                boundary_ratio=boundary_ratio) for _, decoded, _ in group]
    return [score_sample(decoded, probability > mask_threshold, masks_dir, boundary_ratio)
            for (_, decoded, _), probability in zip(group, probabilities, strict=True)]


def _pixels(group: Sequence[tuple[int, DecodedSample, ModelInput]]) -> int:
    return sum(decoded.image.shape[0] * decoded.image.shape[1] for _, decoded, _ in group)


def _not_segmented(decoded: DecodedSample, error: BaseException) -> Row:
    return {**decoded.row, "status": "skipped",
            "reason": f"{decoded.sample.image}: could not be segmented ({first_line(error)})"}


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
