"""Small real video datasets for the video tests, made from the shared DAVIS clips.

The shared set (../shared/datasets/davis2016_person) has three clips of 80-90 frames; the
tests use the first few frames of each, linked (not copied) into a DAVIS layout under
tmp_path, or written as lossless video files. Also the reference computations the tests
compare against, in plain numpy and OpenCV.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DAVIS = SHARED / "datasets" / "davis2016_person"
CLIPS = ("breakdance", "dance-twirl", "paragliding-launch")
PORTRAIT_SPEC = (Path(__file__).resolve().parents[1] / "examples" / "model-specs"
                 / "portrait_video_quant.toml")


def davis_subset(root: Path, frames: int, every: int = 1) -> Path:
    """A DAVIS-layout copy of the first `frames` frames of each clip (symlinks); masks on
    every `every`-th frame only (sparse annotation when every > 1)."""
    if not DAVIS.is_dir():
        pytest.fail(f"shared dataset missing: {DAVIS}")
    for clip in CLIPS:
        images = root / "JPEGImages" / "480p" / clip
        masks = root / "Annotations" / "480p" / clip
        images.mkdir(parents=True)
        masks.mkdir(parents=True)
        for index in range(frames):
            name = f"{index:05d}"
            (images / f"{name}.jpg").symlink_to(DAVIS / "JPEGImages/480p" / clip / f"{name}.jpg")
            if index % every == 0:
                (masks / f"{name}.png").symlink_to(
                    DAVIS / "Annotations/480p" / clip / f"{name}.png")
    shutil.copy(DAVIS / "attributes.csv", root / "attributes.csv")
    return root


def video_subset(root: Path, frames: int, fourcc: str = "FFV1", suffix: str = ".avi",
                 every: int = 1) -> Path:
    """The same clips as video files (FFV1 .avi is lossless), masks in Annotations/<clip>/
    named by 0-based frame index."""
    (root / "videos").mkdir(parents=True)
    for clip in CLIPS:
        first = cv2.imread(str(DAVIS / "JPEGImages/480p" / clip / "00000.jpg"))
        height, width = first.shape[:2]
        writer = cv2.VideoWriter(str(root / "videos" / f"{clip}{suffix}"),
                                 cv2.VideoWriter_fourcc(*fourcc), 24, (width, height))
        assert writer.isOpened(), f"OpenCV cannot write {fourcc} {suffix}"
        masks = root / "Annotations" / clip
        masks.mkdir(parents=True)
        for index in range(frames):
            name = f"{index:05d}"
            writer.write(cv2.imread(str(DAVIS / "JPEGImages/480p" / clip / f"{name}.jpg")))
            if index % every == 0:
                (masks / f"{name}.png").symlink_to(
                    DAVIS / "Annotations/480p" / clip / f"{name}.png")
        writer.release()
    shutil.copy(DAVIS / "attributes.csv", root / "attributes.csv")
    return root


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """`fairness-eval ARGS` in this process; its exit code."""
    from fairness_eval.cli import main

    monkeypatch.setattr(sys, "argv", ["fairness-eval", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code


def read_binary(path: Path) -> np.ndarray:
    """A 0/255 mask file as booleans (>= 128 is person)."""
    mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert mask is not None and mask.ndim == 2, path
    return mask >= 128


def plain_iou(predicted: np.ndarray, truth: np.ndarray) -> float:
    union = np.logical_or(predicted, truth).sum()
    return 1.0 if union == 0 else np.logical_and(predicted, truth).sum() / union


def reference_boundary(mask: np.ndarray, dilation_ratio: float = 0.02) -> np.ndarray:
    """bowenc0221/boundary-iou-api `mask_to_boundary`, as published."""
    h, w = mask.shape
    img_diag = np.sqrt(h ** 2 + w ** 2)
    dilation = int(round(dilation_ratio * img_diag))
    if dilation < 1:
        dilation = 1
    new_mask = cv2.copyMakeBorder(mask.astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT,
                                  value=0)
    kernel = np.ones((3, 3), dtype=np.uint8)
    new_mask_erode = cv2.erode(new_mask, kernel, iterations=dilation)
    mask_erode = new_mask_erode[1: h + 1, 1: w + 1]
    return (mask.astype(np.uint8) - mask_erode) > 0


def plain_boundary_iou(predicted: np.ndarray, truth: np.ndarray, ratio: float = 0.02
                       ) -> float:
    p, g = reference_boundary(predicted, ratio), reference_boundary(truth, ratio)
    union = np.logical_or(p, g).sum()
    return 1.0 if union == 0 else np.logical_and(p, g).sum() / union


def plain_flicker(prev_pred: np.ndarray, pred: np.ndarray, prev_truth: np.ndarray,
                  truth: np.ndarray) -> float | None:
    spurious = np.logical_and(np.logical_xor(pred, prev_pred),
                              np.logical_not(np.logical_xor(truth, prev_truth))).sum()
    person = np.logical_or(truth, prev_truth).sum()
    return None if person == 0 else spurious / person
