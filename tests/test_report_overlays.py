"""Example overlays: each pixel class gets its tint (agreement, false positive, miss, ignored)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from gate_helpers import attribute, group, results

from fairness_eval.errors import UsageError
from fairness_eval.report.overlays import (
    AGREE,
    FALSE_POSITIVE,
    IGNORED,
    MISSED,
    compose_overlay,
    example_overlays,
)
from fairness_eval.results.schema import ResultsDocument


def test_each_pixel_class_is_tinted_with_its_colour():
    image = np.full((2, 3, 3), 200, dtype=np.uint8)  # BGR grey
    truth = np.array([[1, 0, 1], [0, 0, 1]], dtype=bool)
    predicted = np.array([[1, 1, 0], [0, 0, 1]], dtype=bool)
    ignored = np.array([[0, 0, 0], [0, 0, 1]], dtype=bool)
    out = compose_overlay(image, truth, predicted, ignored).astype(int)
    dimmed = 200 * 0.6

    def tinted(colour):
        return [round(dimmed * 0.4 + c * 0.6) for c in colour]

    assert np.abs(out[0, 0] - tinted(AGREE)).max() <= 1
    assert np.abs(out[0, 1] - tinted(FALSE_POSITIVE)).max() <= 1
    assert np.abs(out[0, 2] - tinted(MISSED)).max() <= 1
    assert np.abs(out[1, 2] - tinted(IGNORED)).max() <= 1  # ignored wins over agreement
    assert np.abs(out[1, 0] - round(dimmed)).max() <= 1  # background: only dimmed


def _run_with_masks(tmp_path):
    """A run folder whose two images of group "north" have saved masks, and their files."""
    import cv2

    masks = tmp_path / "run" / "masks"
    masks.mkdir(parents=True)
    files = {}
    for image_id, shade in (("a", 90), ("b", 200)):
        image, truth = tmp_path / f"{image_id}.png", tmp_path / f"{image_id}_mask.png"
        cv2.imwrite(str(image), np.full((6, 8, 3), shade, dtype=np.uint8))
        cv2.imwrite(str(truth), np.pad(np.full((2, 4), 255, np.uint8), ((2, 2), (2, 2))))
        cv2.imwrite(str(masks / f"{image_id}.png"), np.zeros((6, 8), np.uint8))
        files[image_id] = SimpleNamespace(read=lambda i=image, t=truth: (
            cv2.imread(str(i)), cv2.imread(str(t), cv2.IMREAD_GRAYSCALE), None))
    per_image = pd.DataFrame({"image": ["a", "b"], "status": ["ok", "ok"], "iou": [0.4, 0.2],
                              "region": ["north", "north"]})
    doc = results({"region": attribute({"north": group(0.3, 0.0, (-0.1, 0.1), n=2)})})
    return tmp_path / "run", per_image, ResultsDocument.from_json(doc), files


def test_overlays_draw_the_images_the_caller_names_worst_first(tmp_path):
    run_dir, per_image, doc, files = _run_with_masks(tmp_path)
    (block,) = example_overlays(doc, per_image, run_dir, 2, images=files)
    (north,) = block["groups"]
    assert [i["image"] for i in north["images"]] == ["b", "a"]  # lowest IoU first
    assert north["images"][0]["iou"] == "20.0"
    assert all(i["data_uri"].startswith("data:image/jpeg;base64,") for i in north["images"])
    assert north["missing"] == ""
    (block,) = example_overlays(doc, per_image, run_dir, 2, images={"a": files["a"]})
    assert block["groups"][0]["missing"] == "Could not draw: b."


def test_overlays_without_image_files_are_a_usage_error(tmp_path):
    run_dir, per_image, doc, _ = _run_with_masks(tmp_path)
    with pytest.raises(UsageError, match="--examples: the images of this run's dataset"):
        example_overlays(doc, per_image, run_dir, 1)
