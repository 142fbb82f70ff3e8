"""Stills gain Boundary IoU too (evaluation/per_image.py): each per-image row's
boundary_iou is the reference algorithm's, ignored pixels left out of both bands."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from video_helpers import read_binary, reference_boundary  # noqa: E402

from fairness_eval.data.dataset import load_dataset  # noqa: E402
from fairness_eval.evaluation.per_image import evaluate_sample  # noqa: E402
from fairness_eval.models.segmenter import Segmenter  # noqa: E402


@pytest.mark.parametrize("ratio", [0.02, 0.005])
def test_per_image_boundary_iou_is_the_reference_value(voc_dataset, model_file, tmp_path,
                                                       ratio):
    samples = [s for s in load_dataset(voc_dataset).samples if s.ignore is not None][:6]
    segmenter = Segmenter(model_file.path)
    for sample in samples:
        row = evaluate_sample(sample, segmenter, 0.5, tmp_path, boundary_ratio=ratio)
        predicted = read_binary(tmp_path / f"{sample.image_id}.png")
        truth, ignore = read_binary(sample.mask), read_binary(sample.ignore)
        scored = ~ignore
        p = reference_boundary(predicted, ratio) & scored
        g = reference_boundary(truth, ratio) & scored
        union = np.logical_or(p, g).sum()
        expected = 1.0 if union == 0 else np.logical_and(p, g).sum() / union
        assert row["boundary_iou"] == pytest.approx(expected, abs=1e-12)
        assert 0.0 <= row["boundary_iou"] <= 1.0
