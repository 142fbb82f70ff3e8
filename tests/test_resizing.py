"""Resize methods of a model spec (fairness_eval.models.resizing): to model size and back."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fairness_eval.models.preprocessing import to_image_size, to_model_input
from fairness_eval.models.resizing import WHOLE, Placement, letterbox, to_image, to_model_size


def image(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_mediapipe_method_is_the_parity_warp():
    picture = image(37, 53)
    resized, placement = to_model_size(picture, 16, 24, "mediapipe")
    assert placement == WHOLE and resized.dtype == np.uint8
    np.testing.assert_array_equal(resized.astype(np.float32) * np.float32(1 / 255),
                                  to_model_input(picture, 16, 24))


def test_bilinear_method_is_cv2_resize_both_ways():
    picture = image(37, 53)
    resized, placement = to_model_size(picture, 16, 24, "bilinear")
    np.testing.assert_array_equal(
        resized, cv2.resize(picture, (24, 16), interpolation=cv2.INTER_LINEAR))
    probability = np.random.default_rng(1).random((16, 24)).astype(np.float32)
    np.testing.assert_array_equal(to_image(probability, placement, 37, 53),
                                  to_image_size(probability, 37, 53))


def test_letterbox_keeps_the_aspect_ratio_and_replicates_the_edge():
    picture = image(100, 50)  # portrait into a square: margins left and right
    boxed, placement = letterbox(picture, 40, 40)
    assert boxed.shape == (40, 40, 3)
    assert placement == Placement(0.0, 10 / 40, 1.0, 30 / 40)
    inner = cv2.resize(picture, (20, 40), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(boxed[:, 10:30], inner)
    # each margin column repeats the nearest edge column of the image, not zeros
    np.testing.assert_array_equal(boxed[:, :10], np.repeat(inner[:, :1], 10, axis=1))
    np.testing.assert_array_equal(boxed[:, 30:], np.repeat(inner[:, -1:], 10, axis=1))


def test_letterbox_prediction_is_cropped_before_resizing_back():
    boxed, placement = letterbox(image(60, 120), 32, 32)  # landscape: margins top and bottom
    assert placement == Placement(8 / 32, 0.0, 24 / 32, 1.0)
    probability = np.zeros((32, 32), np.float32)
    probability[8:24] = 1.0  # person exactly over the image's area, nothing in the margins
    back = to_image(probability, placement, 60, 120)
    assert back.shape == (60, 120) and (back == 1.0).all()
    # the crop scales with an output of another resolution than the input (here half)
    half = np.zeros((16, 16), np.float32)
    half[4:12] = 1.0
    assert (to_image(half, placement, 60, 120) == 1.0).all()


def test_an_unknown_method_or_image_is_refused():
    with pytest.raises(ValueError, match="unknown resize method"):
        to_model_size(image(4, 4), 2, 2, "nearest")
    with pytest.raises(ValueError, match="RGB uint8"):
        to_model_size(np.zeros((4, 4), np.uint8), 2, 2, "letterbox")
