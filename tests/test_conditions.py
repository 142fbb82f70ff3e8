"""The five capture conditions: exact definitions, seeding and the occluder's ground truth."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from fairness_eval.conditions.perturb import (
    CONDITIONS,
    DEFAULT_SEVERITIES,
    apply_condition,
    blur_length,
    darken,
    linear_to_srgb,
    occluder_box,
    srgb_to_linear,
)

VOC = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "voc2012_person"


@pytest.fixture(scope="module")
def photo() -> tuple[np.ndarray, np.ndarray]:
    """A real VOC photo (RGB) and its person mask."""
    image = cv2.cvtColor(cv2.imread(str(VOC / "images" / "2008_001283.jpg")), cv2.COLOR_BGR2RGB)
    truth = cv2.imread(str(VOC / "masks" / "2008_001283.png"), 0) >= 128
    return image, truth


def test_defaults_cover_every_condition_with_three_severities():
    assert set(DEFAULT_SEVERITIES) == set(CONDITIONS)
    assert all(len(levels) == 3 for levels in DEFAULT_SEVERITIES.values())


# ---------------------------------------------------------------------------- dark


def test_srgb_transfer_is_the_standards_piecewise_curve():
    # IEC 61966-2-1: linear segment c / 12.92 up to 0.04045, power curve above
    assert srgb_to_linear(0.04045) == pytest.approx(0.04045 / 12.92, rel=1e-12)
    assert srgb_to_linear(0.02) == pytest.approx(0.02 / 12.92, rel=1e-12)
    assert srgb_to_linear(0.5) == pytest.approx(((0.5 + 0.055) / 1.055) ** 2.4, rel=1e-12)
    assert srgb_to_linear(0.5) == pytest.approx(0.2140411, abs=1e-7)  # mid grey's light
    assert srgb_to_linear(1.0) == pytest.approx(1.0, rel=1e-12)
    assert linear_to_srgb(0.0031308) == pytest.approx(12.92 * 0.0031308, rel=1e-12)
    assert linear_to_srgb(0.18) == pytest.approx(1.055 * 0.18 ** (1 / 2.4) - 0.055, rel=1e-12)
    levels = np.linspace(0, 1, 1001)
    assert np.allclose(linear_to_srgb(srgb_to_linear(levels)), levels, atol=1e-12)


def test_dark_with_factor_one_is_the_identity_on_every_level():
    every_level = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    assert np.array_equal(darken(every_level, 1.0), every_level)


def test_dark_halves_the_light_not_the_pixel_value(photo):
    image, truth = photo
    dark, same_truth = apply_condition("dark", 0.5, image, truth, seed=0, image_id="x")
    assert same_truth is truth
    # 255 is full light: half of it is sRGB 0.7354 (188), not 128
    assert darken(np.array([[255]], np.uint8), 0.5)[0, 0] == round(255 * linear_to_srgb(0.5))
    assert darken(np.array([[255]], np.uint8), 0.5)[0, 0] == 188
    assert dark.dtype == np.uint8 and dark.shape == image.shape
    assert dark.mean() < image.mean()


# ---------------------------------------------------------------------------- noise


def test_noise_is_reproducible_per_seed_and_image_and_differs_otherwise(photo):
    image, truth = photo
    first, _ = apply_condition("noise", 10, image, truth, seed=7, image_id="a")
    again, _ = apply_condition("noise", 10, image, truth, seed=7, image_id="a")
    other_id, _ = apply_condition("noise", 10, image, truth, seed=7, image_id="b")
    other_seed, _ = apply_condition("noise", 10, image, truth, seed=8, image_id="a")
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other_id)
    assert not np.array_equal(first, other_seed)


def test_noise_has_the_requested_sd_away_from_the_clipping_ends():
    grey = np.full((200, 200, 3), 128, np.uint8)
    noisy, _ = apply_condition("noise", 20, grey, np.zeros((200, 200), bool), seed=0,
                               image_id="grey")
    difference = noisy.astype(float) - 128
    assert difference.std() == pytest.approx(20, rel=0.02)  # 120 000 draws: SE ~0.3 %
    assert abs(difference.mean()) < 0.5
    # independent per channel
    assert abs(np.corrcoef(difference[..., 0].ravel(), difference[..., 1].ravel())[0, 1]) < 0.02


# ---------------------------------------------------------------------------- blur


@pytest.mark.parametrize(("width", "r", "length"), [
    (500, 0.01, 5),  # r * w / 2 = 2.5: Python's round gives 2 (half to even)
    (500, 0.02, 11),  # 5
    (500, 0.04, 21),  # 10
    (854, 0.04, 35),  # 17.08 -> 17
    (100, 0.01, 3),  # 0.5 -> 0 -> 1, raised to the minimum 3
    (300, 0.03, 9),  # 4.5 -> 4
])
def test_blur_kernel_length(width, r, length):
    assert blur_length(width, r) == length


def test_blur_is_a_normalised_horizontal_box_with_reflect_101_border():
    image = np.zeros((3, 9), np.uint8)
    image[:, 0] = 90  # a bright column on the left edge
    blurred, _ = apply_condition("blur", 0.2, image, np.zeros((3, 9), bool), seed=0,
                                 image_id="x")
    # L = max(3, 2 * round(0.9) + 1) = 3; reflect-101 mirrors column 1 to the left of 0
    assert blur_length(9, 0.2) == 3
    assert blurred[0].tolist() == [30, 30, 0, 0, 0, 0, 0, 0, 0]
    vertical = np.zeros((9, 3), np.uint8)
    vertical[4, :] = 90  # a row is not spread up or down
    assert np.array_equal(apply_condition("blur", 0.2, vertical, np.zeros((9, 3), bool),
                                          seed=0, image_id="x")[0], vertical)


def test_blur_of_a_photo_is_the_rounded_float_box_filter(photo):
    image, truth = photo
    blurred, _ = apply_condition("blur", 0.04, image, truth, seed=0, image_id="x")
    length = blur_length(image.shape[1], 0.04)
    padded = np.pad(image.astype(float), ((0, 0), (length // 2, length // 2), (0, 0)),
                    mode="reflect")  # numpy's "reflect" is OpenCV's REFLECT_101
    expected = np.stack([padded[:, i : i + image.shape[1]] for i in range(length)]).mean(0)
    assert np.array_equal(blurred, np.clip(np.rint(expected), 0, 255).astype(np.uint8))


# ---------------------------------------------------------------------------- jpeg


def test_jpeg_differs_from_the_input_and_equals_a_direct_opencv_round_trip(photo):
    image, truth = photo
    for quality in DEFAULT_SEVERITIES["jpeg"]:
        coded, _ = apply_condition("jpeg", quality, image, truth, seed=0, image_id="x")
        ok, data = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        direct = cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]
        assert ok and np.array_equal(coded, direct)
        assert not np.array_equal(coded, image)
    low, _ = apply_condition("jpeg", 10, image, truth, seed=0, image_id="x")
    high, _ = apply_condition("jpeg", 50, image, truth, seed=0, image_id="x")
    assert np.abs(low.astype(int) - image).mean() > np.abs(high.astype(int) - image).mean()


# ---------------------------------------------------------------------------- occluder


def test_occluder_hides_exactly_the_person_pixels_under_it():
    truth = np.zeros((100, 120), np.uint8)
    truth[20:60, 30:90] = 255  # a 40 x 60 person box
    truth[20:30, 30:50] = 0  # with a 10 x 20 notch of background inside the box
    image = np.full((100, 120, 3), 200, np.uint8)
    for fraction, (height, width) in ((0.25, (20, 30)), (0.09, (12, 18)), (1.0, (40, 60))):
        row, col, h, w = occluder_box(truth, fraction, seed=3, image_id="synthetic")
        assert (h, w) == (height, width)
        assert 20 <= row <= row + h <= 60 and 30 <= col <= col + w <= 90
        occluded, hidden = apply_condition("occluder", fraction, image, truth, seed=3,
                                           image_id="synthetic")
        under = np.zeros(truth.shape, bool)
        under[row : row + h, col : col + w] = True
        expected_hidden = int(np.count_nonzero(truth[under]))
        assert np.count_nonzero(truth) - np.count_nonzero(hidden) == expected_hidden
        assert not hidden[under].any() and np.array_equal(hidden[~under], truth[~under])
        assert (occluded[under] == 128).all() and (occluded[~under] == 200).all()
    # the whole box: every person pixel hidden (40 x 60 - 10 x 20 = 2200)
    _, all_hidden = apply_condition("occluder", 1.0, image, truth, seed=3, image_id="s")
    assert np.count_nonzero(truth) == 2200 and np.count_nonzero(all_hidden) == 0
    assert np.count_nonzero(truth) == 2200  # the input is not modified


def test_occluder_area_and_aspect_follow_the_box():
    truth = np.zeros((300, 300), bool)
    truth[10:210, 50:150] = True  # 200 x 100
    row, col, h, w = occluder_box(truth, 0.3, seed=0, image_id="x")
    assert (h, w) == (round(math.sqrt(0.3) * 200), round(math.sqrt(0.3) * 100))
    assert h * w / (200 * 100) == pytest.approx(0.3, abs=0.01)


def test_occluder_position_is_seeded_by_seed_and_image():
    truth = np.zeros((200, 200), bool)
    truth[:, :] = True
    spots = {occluder_box(truth, 0.1, seed=s, image_id=i) for s in (0, 1) for i in "ab"}
    assert len(spots) == 4
    assert occluder_box(truth, 0.1, 0, "a") == occluder_box(truth, 0.1, 0, "a")


def test_an_image_without_a_person_is_left_as_it_is():
    image = np.full((20, 20, 3), 50, np.uint8)
    empty = np.zeros((20, 20), bool)
    occluded, truth = apply_condition("occluder", 0.3, image, empty, seed=0, image_id="x")
    assert np.array_equal(occluded, image) and not truth.any()


@pytest.mark.parametrize(("condition", "severity"), [
    ("dark", 0), ("dark", 1.5), ("noise", -1), ("jpeg", 101), ("jpeg", 50.5),
    ("occluder", 0), ("rain", 1)])
def test_bad_severities_and_names_are_refused_by_name(condition, severity):
    with pytest.raises(ValueError, match=condition):
        apply_condition(condition, severity, np.zeros((4, 4, 3), np.uint8),
                        np.zeros((4, 4), bool), seed=0, image_id="x")
