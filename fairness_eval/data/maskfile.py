"""Decoding one 8-bit single-channel image file: a ground-truth, ignore or annotator mask
of any layout, or a supplied prediction. One decoder, so every reader refuses the same
files; each caller words the failure for its own file."""

from __future__ import annotations

import cv2
import numpy as np


class MaskFileError(ValueError):
    """The bytes are no 8-bit single-channel image; `undecodable` tells the two cases apart."""

    def __init__(self, undecodable: bool) -> None:
        self.undecodable = undecodable
        super().__init__("could not be decoded" if undecodable
                         else "is not a single-channel 8-bit image")


def decode_gray8(content: bytes) -> np.ndarray:
    """The image's values (uint8, height x width) as stored; MaskFileError otherwise."""
    image = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise MaskFileError(undecodable=True)
    if image.ndim != 2 or image.dtype != np.uint8:
        raise MaskFileError(undecodable=False)
    return image
