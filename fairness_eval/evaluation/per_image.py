"""The whole per-image job: read a row's files, predict its mask, score it.

One call returns one row of the per-image table. A row whose files cannot be decoded,
or whose image the model cannot take, comes back with status "skipped" and its reason;
only a failure to write a saved mask (the user's --save-masks folder) stops the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ..data.samples import Sample
from ..errors import UsageError
from ..metrics.boundary import DEFAULT_RATIO, boundary_counts
from ..metrics.masks import annotator_ious, mask_counts
from ..models.segmenter import Segmenter
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

if TYPE_CHECKING:
    from .under_conditions import ImagePlan


def evaluate_sample(sample: Sample, segmenter: Segmenter | SuppliedPredictions,
                    mask_threshold: float,
                    masks_dir: Path | None = None, *, plan: ImagePlan | None = None,
                    boundary_ratio: float = DEFAULT_RATIO) -> dict[str, Any]:
    """Predict one image and score it against its ground truth: one per-image row.

    A pixel is person where the model's probability exceeds `mask_threshold`; Boundary
    IoU's band is `boundary_ratio` of the image diagonal (metrics/boundary.py). With
    `masks_dir`, the predicted mask is written there as <image id>.png. With `plan`, the
    same decoded image is also scored under capture conditions and labelled with derived
    attributes (under_conditions.py).
    """
    row: dict[str, Any] = {"row": sample.row, "image": sample.image_id}
    try:
        # Each file is read once: the bytes that are hashed are the bytes decoded.
        contents = sample_contents(sample)
        row["content_sha256"] = content_sha256(sample, contents)
        image = read_rgb(sample.image, contents[sample.image], sample.orientation)
        shape = image.shape[:2]
        truth, ignore = read_truth(sample, shape, contents)
        others = {name: read_mask(path, shape, f"mask of annotator {name}", contents[path])
                  for name, path in sample.annotators.items()}
    except (RowFailure, OSError) as error:
        return {**row, "status": "skipped", "reason": str(error)}
    try:
        # MediaPipe's own examples draw the person where probability > threshold.
        predicted = predicted_mask(segmenter, sample, image, mask_threshold)
    except RowFailure as error:  # a supplied prediction that cannot be decoded
        return {**row, "status": "skipped", "reason": str(error)}
    except (cv2.error, ValueError, MemoryError) as error:  # e.g. an image too large to warp
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return {**row, "status": "skipped",
                "reason": f"{sample.image}: could not be segmented ({first})"}
    counts = mask_counts(predicted, truth, ignore)
    band_intersection, band_union = boundary_counts(predicted, truth, ignore, boundary_ratio)
    row.update(
        status="ok",
        reason="",
        intersection=counts.intersection,
        union=counts.union,
        iou=counts.iou,
        boundary_iou=1.0 if band_union == 0 else band_intersection / band_union,
        gt_area=counts.gt_area,
        pred_area=counts.pred_area,
        ignored_pixels=counts.ignored_pixels,
        both_empty=counts.both_empty,
    )
    if others:
        row.update(annotator_ious(truth, others, ignore))
    if plan is not None:
        from .under_conditions import evaluate_plan

        try:
            row.update(evaluate_plan(plan, image, truth, ignore, sample.image_id,
                                     lambda picture: segmenter.predict(picture) > mask_threshold))
        except (cv2.error, ValueError, MemoryError) as error:
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            return {"row": sample.row, "image": sample.image_id,
                    "content_sha256": row["content_sha256"], "status": "skipped",
                    "reason": f"{sample.image}: could not be evaluated under the "
                              f"conditions ({first})"}
    if masks_dir is not None:
        target = masks_dir / f"{sample.image_id}.png"
        # cv2.imwrite reports a failure (a full disk) by returning False, not by raising.
        if not cv2.imwrite(str(target), predicted.astype(np.uint8) * 255):
            raise UsageError(f"--save-masks: cannot write {target}")
    return row
