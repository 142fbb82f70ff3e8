"""Image to model size and prediction back to image size, for the spec's three methods.

- mediapipe: MediaPipe's exact stretch (preprocessing.warp_to_model_size), aspect ratio
  not kept; the probability map resized back with cv2.resize INTER_LINEAR.
- bilinear: cv2.resize INTER_LINEAR both ways, aspect ratio not kept.
- letterbox: the image scaled to fit inside the model size with its aspect ratio kept and
  centred, the margins filled by replicating the edge pixels (zero padding makes models
  see a dark frame and draws artifacts at it); the prediction is cropped back to the
  image's area before it is resized to the image size.

A `Placement` records where the image lies inside the model input, as fractions of the
model's size, so the crop also works on an output of another resolution than the input.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .preprocessing import to_image_size, warp_to_model_size


@dataclass(frozen=True)
class Placement:
    """The image's area inside the model input, as fractions of its height and width."""

    top: float = 0.0
    left: float = 0.0
    bottom: float = 1.0
    right: float = 1.0


WHOLE = Placement()


def to_model_size(image_rgb: np.ndarray, height: int, width: int, method: str
                  ) -> tuple[np.ndarray, Placement]:
    """The RGB uint8 image at the model's ``height x width`` and where it lies in it."""
    if method == "mediapipe":
        return warp_to_model_size(image_rgb, height, width), WHOLE
    _check_image(image_rgb)
    if method == "bilinear":
        return cv2.resize(image_rgb, (width, height), interpolation=cv2.INTER_LINEAR), WHOLE
    if method == "letterbox":
        return letterbox(image_rgb, height, width)
    raise ValueError(f"unknown resize method {method!r}")


def letterbox(image_rgb: np.ndarray, height: int, width: int) -> tuple[np.ndarray, Placement]:
    """Fit the image inside ``height x width`` keeping its aspect ratio, edge-replicated."""
    _check_image(image_rgb)
    rows, cols = image_rgb.shape[:2]
    scale = min(height / rows, width / cols)
    inner_h = min(height, max(1, round(rows * scale)))
    inner_w = min(width, max(1, round(cols * scale)))
    inner = cv2.resize(image_rgb, (inner_w, inner_h), interpolation=cv2.INTER_LINEAR)
    top, left = (height - inner_h) // 2, (width - inner_w) // 2
    padded = cv2.copyMakeBorder(inner, top, height - inner_h - top, left,
                                width - inner_w - left, cv2.BORDER_REPLICATE)
    return padded, Placement(top / height, left / width, (top + inner_h) / height,
                             (left + inner_w) / width)


def to_image(probability: np.ndarray, placement: Placement, height: int, width: int
             ) -> np.ndarray:
    """The model-resolution probability cropped to the image's area, at ``height x width``."""
    if placement != WHOLE:
        rows, cols = probability.shape
        top, left = round(placement.top * rows), round(placement.left * cols)
        bottom = max(top + 1, round(placement.bottom * rows))
        right = max(left + 1, round(placement.right * cols))
        probability = probability[top:bottom, left:right]
    return to_image_size(probability, height, width)


def _check_image(image_rgb: np.ndarray) -> None:
    if image_rgb.dtype != np.uint8 or image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 image of shape HxWx3, got {image_rgb.dtype} "
                         f"{image_rgb.shape}")
