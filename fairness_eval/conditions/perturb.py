"""Degraded capture conditions: one image (and its ground truth) under a condition and severity.

Every condition is defined exactly, so anyone can reproduce it. Images are RGB
uint8 arrays (h, w, 3) or grey (h, w); the result's pixels are rounded with
`np.clip(np.rint(x), 0, 255)`. Only the occluder changes the ground truth.

- dark, f: sRGB to linear light (IEC 61966-2-1 piecewise curve), times f, back to sRGB.
- noise, sigma: additive Gaussian noise on the 0-255 scale, independent per pixel and
  channel: `sigma * rng.standard_normal(image.shape)` with rng = `stream(seed, ("noise",
  image_id))` (fairness_eval.stats.streams.stream). The draw does not depend on sigma,
  so the severities of one image are the same noise field scaled.
- blur, r: horizontal motion blur, a normalised 1 x L box kernel with
  L = max(3, 2 * round(r * width / 2) + 1) (Python's round: half to even), applied with
  `cv2.filter2D` in float64 with OpenCV's default border (BORDER_REFLECT_101).
- jpeg, q: encoded with OpenCV's JPEG encoder at quality q and decoded (RGB is converted to
  OpenCV's BGR order for the codec and back).
- occluder, a: a mid-grey (128) rectangle with the aspect of the person's bounding box and
  a fraction a of its area: height round(sqrt(a) * box height), width round(sqrt(a) * box
  width), each at least 1; its top-left corner is drawn uniformly among the positions
  that keep it inside the box, from `stream(seed, ("occluder", image_id))` (one draw of two
  uniforms, shared by all severities). Ground-truth person pixels under it become
  background. An image without a person pixel is returned unchanged.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..stats.streams import stream

CONDITIONS = ("dark", "noise", "blur", "jpeg", "occluder")
DEFAULT_SEVERITIES: dict[str, tuple[float, ...]] = {
    "dark": (0.5, 0.25, 0.1),
    "noise": (5.0, 10.0, 20.0),
    "blur": (0.01, 0.02, 0.04),
    "jpeg": (50, 20, 10),
    "occluder": (0.1, 0.2, 0.3),
}
SEVERITY_NAMES = {"dark": "f", "noise": "sigma", "blur": "r", "jpeg": "q", "occluder": "a"}
OCCLUDER_GREY = 128


def to_pixels(values: np.ndarray) -> np.ndarray:
    """Float pixel values on the 0-255 scale as uint8, rounded half to even and clipped."""
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def srgb_to_linear(encoded: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1: sRGB values in [0, 1] to linear light in [0, 1]."""
    c = np.asarray(encoded, dtype=float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1: linear light in [0, 1] to sRGB values in [0, 1]."""
    x = np.asarray(linear, dtype=float)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(np.maximum(x, 0.0), 1 / 2.4)
                    - 0.055)


def darken(image: np.ndarray, factor: float) -> np.ndarray:
    """`dark`: the light reaching the camera times `factor`, in linear light."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        # The same curve computed once per stored level and looked up: the same values,
        # about 20 times faster than per pixel (the powers dominate).
        return darken(np.arange(256, dtype=float), factor)[image]
    linear = srgb_to_linear(image.astype(float) / 255.0)
    return to_pixels(255.0 * linear_to_srgb(factor * linear))


def add_noise(image: np.ndarray, sigma: float, seed: int, image_id: str) -> np.ndarray:
    """`noise`: additive Gaussian noise of SD `sigma` (0-255 scale), seeded by seed and id."""
    rng = stream(seed, ("noise", str(image_id)))
    noise = rng.standard_normal(np.shape(image))
    return to_pixels(np.asarray(image, dtype=float) + sigma * noise)


def blur_length(width: int, r: float) -> int:
    """L, the motion-blur kernel's length for an image `width` pixels wide."""
    return max(3, 2 * round(r * width / 2) + 1)


def motion_blur(image: np.ndarray, r: float) -> np.ndarray:
    """`blur`: a horizontal normalised 1 x L box filter, OpenCV's default border."""
    length = blur_length(np.shape(image)[1], r)
    kernel = np.full((1, length), 1.0 / length)
    return to_pixels(cv2.filter2D(np.asarray(image, dtype=np.float64), -1, kernel))


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """`jpeg`: encoded by OpenCV's JPEG encoder at `quality` and decoded."""
    colour = np.ndim(image) == 3
    coded = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if colour else image
    ok, data = cv2.imencode(".jpg", coded, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"JPEG encoding at quality {quality} failed")
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR if colour else cv2.IMREAD_GRAYSCALE)
    return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB) if colour else decoded


def occluder_box(truth: np.ndarray, fraction: float, seed: int, image_id: str
                 ) -> tuple[int, int, int, int] | None:
    """(top, left, height, width) of the occluder, or None when there is no person."""
    rows, cols = np.nonzero(np.asarray(truth))
    if rows.size == 0:
        return None
    top, left = int(rows.min()), int(cols.min())
    box_height, box_width = int(rows.max()) - top + 1, int(cols.max()) - left + 1
    scale = math.sqrt(fraction)
    height = min(box_height, max(1, round(scale * box_height)))
    width = min(box_width, max(1, round(scale * box_width)))
    u, v = stream(seed, ("occluder", str(image_id))).random(2)
    # floor(u * positions) is uniform over the positions; min() guards u's upper end.
    row = top + min(int(u * (box_height - height + 1)), box_height - height)
    col = left + min(int(v * (box_width - width + 1)), box_width - width)
    return row, col, height, width


def occlude(image: np.ndarray, truth: np.ndarray, fraction: float, seed: int, image_id: str
            ) -> tuple[np.ndarray, np.ndarray]:
    """`occluder`: a grey rectangle over the person; the truth under it becomes background."""
    box = occluder_box(truth, fraction, seed, image_id)
    if box is None:
        return image, truth
    row, col, height, width = box
    occluded, hidden = np.array(image, copy=True), np.array(truth, copy=True)
    occluded[row : row + height, col : col + width] = OCCLUDER_GREY
    hidden[row : row + height, col : col + width] = 0
    return occluded, hidden


def check_severity(condition: str, severity: float) -> None:
    """ValueError naming the condition when `severity` is outside its meaningful range."""
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")
    name = SEVERITY_NAMES[condition]
    valid = {
        "dark": 0 < severity <= 1,
        "noise": severity >= 0,
        "blur": severity >= 0,
        "jpeg": float(severity).is_integer() and 0 <= severity <= 100,
        "occluder": 0 < severity <= 1,
    }[condition]
    if not valid or not math.isfinite(severity):
        allowed = {"dark": "in (0, 1]", "noise": ">= 0", "blur": ">= 0",
                   "jpeg": "an integer 0-100", "occluder": "in (0, 1]"}[condition]
        raise ValueError(f"condition {condition!r}: {name} must be {allowed}, not {severity!r}")


def apply_condition(condition: str, severity: float, image: np.ndarray, truth: np.ndarray,
                    *, seed: int, image_id: str) -> tuple[np.ndarray, np.ndarray]:
    """(image, truth) under `condition` at `severity`; the inputs are not modified."""
    check_severity(condition, severity)
    if condition == "dark":
        return darken(image, severity), truth
    if condition == "noise":
        return add_noise(image, severity, seed, image_id), truth
    if condition == "blur":
        return motion_blur(image, severity), truth
    if condition == "jpeg":
        return jpeg_roundtrip(image, int(severity)), truth
    return occlude(image, truth, severity, seed, image_id)
