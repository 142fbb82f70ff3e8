"""Geometry of fairness_eval.models.preprocessing: the MediaPipe-identical stretch and resize back.

Expected values are derived from the geometry MediaPipe's ImageToTensorCalculator uses
(image corners onto tensor corners, 1/32-pixel positions, integer bilinear weights, zero
border) and from cv::resize's half-pixel convention. With FAIRNESS_EVAL_MEDIAPIPE_PYTHON
set to the python of a mediapipe==0.10.21 venv, the tensors are also checked bit for bit
against MediaPipe's own ImageToTensorCalculator.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairness_eval.models.preprocessing import (
    FRACTION_BITS,
    WARP_TILE_MAX_ROWS,
    WARP_TILE_PIXELS,
    corner_matrix,
    fixed_point_positions,
    to_image_size,
    to_model_input,
)

STEPS = 1 << FRACTION_BITS
SCALE = np.float32(1.0 / 255.0)
sizes = st.integers(min_value=1, max_value=700)


def reference_warp(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Plain-numpy bilinear sampling at the module's 1/32-pixel positions, zero border.

    An independent implementation of OpenCV's fixed-point INTER_LINEAR: weights
    (32 - a)(32 - b) / 1024 etc., rounded half up, pixels outside the image are 0.
    """
    x, y = fixed_point_positions(corner_matrix(*image.shape[:2], height, width), height, width)
    sx, fx = x >> FRACTION_BITS, x & (STEPS - 1)
    sy, fy = y >> FRACTION_BITS, y & (STEPS - 1)
    padded = np.zeros((image.shape[0] + 2, image.shape[1] + 2, 3), np.int64)
    padded[1:-1, 1:-1] = image

    def pixel(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return padded[np.clip(rows + 1, 0, padded.shape[0] - 1),
                      np.clip(cols + 1, 0, padded.shape[1] - 1)]

    total = (pixel(sy, sx) * ((STEPS - fx) * (STEPS - fy))[..., None]
             + pixel(sy, sx + 1) * (fx * (STEPS - fy))[..., None]
             + pixel(sy + 1, sx) * ((STEPS - fx) * fy)[..., None]
             + pixel(sy + 1, sx + 1) * (fx * fy)[..., None])
    return ((total + STEPS * STEPS // 2) // (STEPS * STEPS)).astype(np.float32) * SCALE


def round_half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


# --- to_model_input -------------------------------------------------------------------


def test_output_is_float32_in_unit_range_on_the_255_grid() -> None:
    image = np.random.default_rng(1).integers(0, 256, (375, 500, 3), dtype=np.uint8)
    tensor = to_model_input(image, 256, 256)
    assert tensor.shape == (256, 256, 3)
    assert tensor.dtype == np.float32
    assert tensor.min() >= 0.0 and tensor.max() <= 1.0
    levels = np.rint(tensor / SCALE)
    np.testing.assert_array_equal(levels.astype(np.float32) * SCALE, tensor)


@settings(max_examples=40, deadline=None)
@given(height=sizes, width=sizes)
def test_identity_when_sizes_match(height: int, width: int) -> None:
    image = np.random.default_rng(height * 1000 + width).integers(
        0, 256, (height, width, 3), dtype=np.uint8)
    np.testing.assert_array_equal(to_model_input(image, height, width),
                                  image.astype(np.float32) * SCALE)


def test_constant_image_stays_constant_when_shrinking() -> None:
    image = np.full((480, 640, 3), (10, 200, 255), dtype=np.uint8)
    tensor = to_model_input(image, 256, 256)
    np.testing.assert_array_equal(tensor, np.broadcast_to(
        np.array([10, 200, 255], np.float32) * SCALE, tensor.shape))


def test_enlarging_blends_the_last_row_and_column_with_the_zero_border() -> None:
    # 128 -> 256 pixels: output pixel 255 samples source 127.5, half image and half the
    # zero border (MediaPipe's BORDER_ZERO); the corner gets a quarter.
    value = 201
    image = np.full((128, 128, 3), value, dtype=np.uint8)
    tensor = np.rint(to_model_input(image, 256, 256)[..., 0] / SCALE)
    np.testing.assert_array_equal(tensor[:255, :255], value)
    np.testing.assert_array_equal(tensor[:255, 255], round_half_up(Fraction(value, 2)))
    np.testing.assert_array_equal(tensor[255, :255], round_half_up(Fraction(value, 2)))
    assert tensor[255, 255] == round_half_up(Fraction(value, 4))


@pytest.mark.parametrize(("source_width", "column"), [(520, 0), (520, 101), (520, 519),
                                                      (128, 10), (96, 95), (1024, 333)])
def test_bright_column_lands_where_corner_scaling_puts_it(source_width: int, column: int
                                                          ) -> None:
    # Output column j samples source x = j * W / w (corners onto corners, no half-pixel
    # shift). These widths make x a multiple of 1/32, so no rounding is involved.
    width = 256
    image = np.zeros((64, source_width, 3), dtype=np.uint8)
    image[:, column] = 255
    row = np.rint(to_model_input(image, 64, width)[10, :, 1] / SCALE)
    for j in range(width):
        distance = abs(Fraction(j * source_width, width) - column)
        weight = max(Fraction(0), 1 - distance)
        assert row[j] == round_half_up(255 * weight), j


@pytest.mark.parametrize(("source_height", "row_index"), [(520, 7), (64, 63), (2048, 1500)])
def test_bright_row_lands_where_corner_scaling_puts_it(source_height: int, row_index: int
                                                       ) -> None:
    height = 144
    image = np.zeros((source_height, 40, 3), dtype=np.uint8)
    image[row_index] = 255
    column = np.rint(to_model_input(image, height, 40)[:, 5, 2] / SCALE)
    for i in range(height):
        weight = max(Fraction(0), 1 - abs(Fraction(i * source_height, height) - row_index))
        # source_height * 32 / height is not always whole here: allow the 1/32 rounding.
        assert abs(column[i] - 255 * float(weight)) <= 255 / 32 / 2 + 0.5, i


@settings(max_examples=60, deadline=None)
@given(src_height=sizes, src_width=sizes, height=st.integers(1, 300), width=st.integers(1, 300))
def test_positions_are_corner_scaling_rounded_to_a_32nd(src_height: int, src_width: int,
                                                        height: int, width: int) -> None:
    x, y = fixed_point_positions(corner_matrix(src_height, src_width, height, width),
                                 height, width)
    exact_x = np.arange(width) * (STEPS * src_width / width)
    exact_y = np.arange(height) * (STEPS * src_height / height)
    assert np.abs(x - exact_x[np.newaxis, :]).max() <= 0.5 + 1e-6
    assert np.abs(y - exact_y[:, np.newaxis]).max() <= 0.5 + 1e-6


def full_grid_positions(matrix: np.ndarray, height: int, width: int) -> tuple[np.ndarray, ...]:
    """OpenCV's position arithmetic written out on the whole grid, every term kept."""
    m = matrix.ravel()
    tile_cols = min(WARP_TILE_PIXELS // min(WARP_TILE_MAX_ROWS, height), width)
    column = np.arange(width, dtype=np.float64)[np.newaxis, :]
    row = np.arange(height, dtype=np.float64)[:, np.newaxis]
    tile_start = (column // tile_cols) * tile_cols
    offset = column - tile_start
    x0 = m[0] * tile_start + m[1] * row + m[2]
    y0 = m[3] * tile_start + m[4] * row + m[5]
    w = m[6] * tile_start + m[7] * row + m[8] + m[6] * offset
    with np.errstate(divide="ignore"):
        scale = np.where(w != 0, STEPS / w, 0.0)
    limit = float(np.iinfo(np.int32).max)
    fx = np.clip((x0 + m[0] * offset) * scale, -limit - 1, limit)
    fy = np.clip((y0 + m[3] * offset) * scale, -limit - 1, limit)
    return np.rint(fx).astype(np.int64), np.rint(fy).astype(np.int64)


def test_leaving_out_zero_terms_gives_the_full_grid_positions_bit_for_bit() -> None:
    # Most stretch matrices LU leaves are pure (x per column, y per row); some keep tiny
    # residues off the diagonal (y then varies along the row too). Both must equal the
    # arithmetic done on every pixel with every term.
    pure = 0
    for src_height, src_width in [(832, 550), (809, 550), (375, 500), (1, 196), (1, 1),
                                  (1080, 1920), (3, 700), (257, 255), (4000, 3000)]:
        for height, width in [(256, 256), (144, 256), (17, 63), (1, 1)]:
            matrix = corner_matrix(src_height, src_width, height, width)
            m = matrix.ravel()
            pure += m[1] == m[3] == m[6] == m[7] == 0
            for got, want in zip(fixed_point_positions(matrix, height, width),
                                 full_grid_positions(matrix, height, width), strict=True):
                np.testing.assert_array_equal(got, want)
    assert 0 < pure < 36  # both kinds were exercised


@settings(max_examples=40, deadline=None)
@given(src_height=st.integers(1, 400), src_width=st.integers(1, 400),
       height=st.sampled_from([1, 17, 144, 256]), width=st.sampled_from([1, 63, 256]),
       seed=st.integers(0, 2**32 - 1))
def test_remap_matches_plain_numpy_bilinear(src_height: int, src_width: int, height: int,
                                            width: int, seed: int) -> None:
    # Guards against an OpenCV release changing cv2.remap's fixed-point interpolation.
    image = np.random.default_rng(seed).integers(0, 256, (src_height, src_width, 3),
                                                 dtype=np.uint8)
    np.testing.assert_array_equal(to_model_input(image, height, width),
                                  reference_warp(image, height, width))


def test_corner_matrix_is_the_stretch_up_to_rounding() -> None:
    matrix = corner_matrix(375, 500, 256, 256)
    np.testing.assert_allclose(matrix, np.diag([500 / 256, 375 / 256, 1.0]), atol=1e-12)


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 4), np.uint8),
                                 np.zeros((4, 4, 3), np.float32)])
def test_rejects_anything_but_rgb_uint8(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="RGB uint8"):
        to_model_input(bad, 8, 8)


# --- to_image_size --------------------------------------------------------------------


def test_resize_back_has_the_image_shape_and_float32() -> None:
    probability = np.random.default_rng(2).random((256, 256), dtype=np.float32)
    resized = to_image_size(probability, 375, 500)
    assert resized.shape == (375, 500)
    assert resized.dtype == np.float32
    # bilinear: a convex combination of neighbours never leaves the input's range
    assert probability.min() <= resized.min() and resized.max() <= probability.max()


def test_resize_back_uses_half_pixel_centres() -> None:
    # cv::resize INTER_LINEAR: output x samples (x + 0.5) * 2/4 - 0.5, clamped at the edges.
    a, b = 0.2, 1.0
    resized = to_image_size(np.array([[a, b]], np.float32), 1, 4)
    np.testing.assert_allclose(resized[0], [a, 0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b, b],
                               rtol=1e-6)


def test_resize_back_identity_and_constant() -> None:
    probability = np.random.default_rng(3).random((144, 256), dtype=np.float32)
    np.testing.assert_array_equal(to_image_size(probability, 144, 256), probability)
    constant = np.full((256, 256), 0.75, np.float32)
    np.testing.assert_allclose(to_image_size(constant, 1080, 1920), 0.75, rtol=1e-6)


def test_resize_back_rejects_a_non_2d_map() -> None:
    with pytest.raises(ValueError, match="2-D"):
        to_image_size(np.zeros((4, 4, 1), np.float32), 8, 8)


# --- against MediaPipe itself (optional) ----------------------------------------------

MEDIAPIPE_PYTHON = os.environ.get("FAIRNESS_EVAL_MEDIAPIPE_PYTHON")


@pytest.mark.skipif(not MEDIAPIPE_PYTHON,
                    reason="set FAIRNESS_EVAL_MEDIAPIPE_PYTHON to a mediapipe==0.10.21 python")
@pytest.mark.parametrize(("height", "width"), [(256, 256), (144, 256)])
def test_tensor_is_bit_identical_to_mediapipe(height: int, width: int) -> None:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "mediapipe_parity.py"
    spec = importlib.util.spec_from_file_location("mediapipe_parity", path)
    parity = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = parity  # dataclasses look their module up there
    spec.loader.exec_module(parity)
    rng = np.random.default_rng(4)
    shapes = [(1, 1), (2, 3), (37, 100), (255, 257), (375, 500), (500, 333), (31, 700),
              (1080, 1920)]
    images = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in shapes]
    tensors = parity.mediapipe_outputs(MEDIAPIPE_PYTHON, images, "tensors", str(height),
                                       str(width))
    for image, expected in zip(images, tensors, strict=True):
        np.testing.assert_array_equal(to_model_input(image, height, width), expected,
                                      err_msg=f"image {image.shape}")
