"""Image geometry that reproduces MediaPipe's CPU graph for the selfie segmentation model.

MediaPipe's ImageToTensorCalculator stretches the whole image to the model's input size
(aspect ratio not kept) with an affine warp of the uint8 image, zero border, then scales to
float [0, 1]. TensorsToSegmentationCalculator resizes the probability map back to the
image size. Matching this geometry is what makes our masks agree with MediaPipe's own.
"""

from __future__ import annotations

import cv2
import numpy as np


def to_model_input(image_rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """Stretch an RGB uint8 image to ``height x width`` and scale it to float32 in [0, 1]."""
    src_h, src_w = image_rgb.shape[:2]
    # ImageToTensor maps pixel corners to pixel corners (no half-pixel offset).
    matrix = np.array([[width / src_w, 0.0, 0.0], [0.0, height / src_h, 0.0]], dtype=np.float64)
    warped = cv2.warpAffine(
        image_rgb,
        matrix,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    return warped.astype(np.float32) / np.float32(255.0)


def to_image_size(probability: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a model-resolution probability map back to the image's ``height x width``."""
    return cv2.resize(
        probability.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR
    )
