"""Example overlays: each pixel class gets its tint (agreement, false positive, miss, ignored)."""

from __future__ import annotations

import numpy as np

from fairness_eval.report.overlays import AGREE, FALSE_POSITIVE, IGNORED, MISSED, compose_overlay


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
