"""Image geometry that reproduces MediaPipe's CPU graph for the selfie segmentation model.

MediaPipe's ImageToTensorCalculator (OpenCV converter) stretches the whole image to the
model's input size, aspect ratio not kept, zero border: it maps the image's corners onto the
tensor's corners with ``cv::getPerspectiveTransform`` and samples with the legacy OpenCV
``cv::warpPerspective`` (INTER_LINEAR) on the uint8 image, then scales to float [0, 1].
TensorsToSegmentationCalculator resizes the probability map back to the image size with
``cv::resize`` (INTER_LINEAR).

That warp rounds every sampling position to 1/32 pixel (round half to even, so the result
hinges on the last bits of the double-precision LU-inverted matrix) and blends the four
neighbours with integer weights. opencv-python 4.11 still does exactly that, but OpenCV 5.0
(this project's pin) samples differently, and ``cv2.warpAffine`` rounds ties half up:
either gives tensors up to 5 grey levels off and masks that agree with MediaPipe's at a
mean IoU of only 0.994 on VOC. Here the sampling positions are computed as the legacy code
does and handed to ``cv2.remap`` as fixed-point maps, whose integer interpolation is the
same in both versions: the tensor is bit-identical to MediaPipe's on all 600 shared images
and on synthetic sizes from 1x1 to 1920x1080 (``benchmarks/mediapipe_parity.py``,
``tests/test_preprocessing.py``).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

# OpenCV's INTER_BITS: sampling positions are kept in 1/32 pixel.
FRACTION_BITS = 5
FRACTION_STEPS = 1 << FRACTION_BITS
# OpenCV's warp works in tiles of at most 1024 output pixels and evaluates the matrix at
# each tile's first column plus an offset; the rounding of that sum decides ties.
WARP_TILE_PIXELS = 1024
WARP_TILE_MAX_ROWS = 16


def corner_matrix(src_height: int, src_width: int, height: int, width: int) -> np.ndarray:
    """The 3x3 output-to-source matrix MediaPipe's warp uses for a whole-image stretch.

    Built like ImageToTensor does (the image's corners, as float32 box points, onto the
    tensor's corners with ``cv2.getPerspectiveTransform``) and inverted like
    ``cv::warpPerspective`` does (LU). Mathematically it is ``diag(W/w, H/h, 1)``; the last
    bits that LU leaves differ from that, and they decide which way ties round.
    """
    source_corners = np.array(
        [[0, src_height], [0, 0], [src_width, 0], [src_width, src_height]], dtype=np.float32
    )
    tensor_corners = np.array([[0, height], [0, 0], [width, 0], [width, height]], dtype=np.float32)
    forward = cv2.getPerspectiveTransform(
        source_corners, tensor_corners, solveMethod=cv2.DECOMP_LU
    )
    _, inverse = cv2.invert(forward, flags=cv2.DECOMP_LU)
    return inverse


def fixed_point_positions(matrix: np.ndarray, height: int, width: int) -> tuple[np.ndarray, ...]:
    """Source position of every output pixel in 1/32 pixel, rounded as legacy OpenCV does.

    Returns ``(x, y)``, two int64 ``height x width`` arrays. Mirrors the scalar loop of
    OpenCV's WarpPerspectiveInvoker: the matrix is evaluated in double at the tile's first
    column, the column offset inside the tile is added, the result is scaled by 32 / w and
    rounded half to even.
    """
    x, y = _broadcastable_positions(matrix, height, width)
    return (np.broadcast_to(x, (height, width)).copy(),
            np.broadcast_to(y, (height, width)).copy())


def _broadcastable_positions(matrix: np.ndarray, height: int, width: int
                             ) -> tuple[np.ndarray, np.ndarray]:
    """`fixed_point_positions`, each with only the axes it depends on (broadcastable).

    For the usual pure stretch x is one row and y one column: a product whose coefficient
    is exactly 0 only adds a signed zero, which changes no bit that reaches the rounding,
    so leaving it out gives the same positions for a fraction of the work.
    """
    m = np.asarray(matrix, dtype=np.float64).ravel()
    tile_rows = min(WARP_TILE_MAX_ROWS, height)
    tile_cols = min(WARP_TILE_PIXELS // tile_rows, width)
    column = np.arange(width, dtype=np.float64)[np.newaxis, :]
    row = np.arange(height, dtype=np.float64)[:, np.newaxis]
    tile_start = (column // tile_cols) * tile_cols
    offset = column - tile_start
    x0 = _plane(m[0], tile_start, m[1], row, m[2])
    y0 = _plane(m[3], tile_start, m[4], row, m[5])
    w = _plane(m[6], tile_start, m[7], row, m[8]) + _product(m[6], offset)
    with np.errstate(divide="ignore"):
        scale = np.where(w != 0, FRACTION_STEPS / w, 0.0)
    limit = float(np.iinfo(np.int32).max)
    fx = np.clip((x0 + _product(m[0], offset)) * scale, -limit - 1, limit)
    fy = np.clip((y0 + _product(m[3], offset)) * scale, -limit - 1, limit)
    # np.rint rounds half to even, like cvRound / saturate_cast<int>(double).
    return np.rint(fx).astype(np.int64), np.rint(fy).astype(np.int64)


def _product(coefficient: float, axis: np.ndarray) -> np.ndarray | float:
    """``coefficient * axis``, or a plain 0.0 (no axis) when the coefficient is 0."""
    return coefficient * axis if coefficient != 0 else 0.0


def _plane(a: float, tile_start: np.ndarray, b: float, row: np.ndarray, c: float
           ) -> np.ndarray | float:
    """``a * tile_start + b * row + c`` in that order of operations, zero products left out."""
    return (_product(a, tile_start) + _product(b, row)) + c


@lru_cache(maxsize=128)  # VOC alone has 76 image sizes
def _remap_tables(
    src_height: int, src_width: int, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-point maps for ``cv2.remap``: integer source pixel and 5+5-bit fraction index.

    Cached because a dataset usually holds few distinct image sizes.
    """
    matrix = corner_matrix(src_height, src_width, height, width)
    x, y = _broadcastable_positions(matrix, height, width)
    int16 = np.iinfo(np.int16)
    pixel = np.empty((height, width, 2), np.int16)
    pixel[..., 0] = np.clip(x >> FRACTION_BITS, int16.min, int16.max)
    pixel[..., 1] = np.clip(y >> FRACTION_BITS, int16.min, int16.max)
    fraction = ((y & (FRACTION_STEPS - 1)).astype(np.uint16) * FRACTION_STEPS
                + (x & (FRACTION_STEPS - 1)).astype(np.uint16))
    fraction = np.ascontiguousarray(np.broadcast_to(fraction, (height, width)))
    pixel.flags.writeable = False
    fraction.flags.writeable = False
    return pixel, fraction


def to_model_input(image_rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """Stretch an RGB uint8 image to ``height x width`` and scale it to float32 in [0, 1].

    Bit-identical to the tensor MediaPipe's ImageToTensorCalculator (CPU, OpenCV converter,
    ``keep_aspect_ratio: false``, ``BORDER_ZERO``, range [0, 1]) feeds the model.
    """
    # ImageToTensor's convertTo multiplies by the float scale 1/255 (no division).
    return warp_to_model_size(image_rgb, height, width).astype(np.float32) * np.float32(
        1.0 / 255.0)


def warp_to_model_size(image_rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """MediaPipe's stretch of an RGB uint8 image to ``height x width``, still uint8."""
    if image_rgb.dtype != np.uint8 or image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise ValueError(
            f"expected an RGB uint8 image of shape HxWx3, got {image_rgb.dtype} "
            f"{image_rgb.shape}"
        )
    if height < 1 or width < 1:
        raise ValueError(f"model input size must be positive, got {height}x{width}")
    pixel, fraction = _remap_tables(image_rgb.shape[0], image_rgb.shape[1], height, width)
    return cv2.remap(
        np.ascontiguousarray(image_rgb),
        pixel,
        fraction,
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )


def to_image_size(probability: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a model-resolution probability map back to the image's ``height x width``.

    TensorsToSegmentationCalculator's CPU path: ``cv::resize`` with INTER_LINEAR (half-pixel
    centres). OpenCV 5 differs from the build inside MediaPipe by at most ~1e-5 here, far
    below the model's own run-to-run differences between runtimes (~1e-4).
    """
    if probability.ndim != 2:
        raise ValueError(f"expected a 2-D probability map, got shape {probability.shape}")
    if height < 1 or width < 1:
        raise ValueError(f"image size must be positive, got {height}x{width}")
    return cv2.resize(
        np.ascontiguousarray(probability, dtype=np.float32),
        (width, height),
        interpolation=cv2.INTER_LINEAR,
    )
