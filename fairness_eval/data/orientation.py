"""EXIF orientation: reading the tag from an EXIF block, and turning pixels to match it.

A camera stores pixels as the sensor saw them and records in EXIF how to turn them for
display (tag 0x0112, values 1 to 8). A mask drawn on the displayed image does not line up
with the stored pixels when the orientation is not 1. fairness-eval scores stored pixels
by default (`--exif ignore`) and reports each such image; `--exif rotate` turns the image
to its displayed orientation first, so its mask must be drawn on the displayed image.
"""

from __future__ import annotations

import struct

import numpy as np
from PIL import Image

UPRIGHT = 1
_ORIENTATION_TAG = 0x0112
# Orientations that swap width and height (a quarter turn, with or without a flip).
_QUARTER_TURNS = (5, 6, 7, 8)


def exif_orientation(exif: bytes | None) -> int:
    """The orientation in a TIFF-structured EXIF block, as Pillow reads it (1 when absent or
    unreadable).

    The block is what a JPEG's APP1 segment or a PNG's eXIf chunk holds, with or without its
    "Exif" prefix. Only the EXIF tag counts: `Image.getexif` would also take an XMP
    orientation and, on a PNG with no eXIf chunk ahead of its pixels, decode the whole image
    to look for one after them.
    """
    if not exif:
        return UPRIGHT
    tags = Image.Exif()
    try:
        tags.load(exif)
        value = tags.get(_ORIENTATION_TAG)
    except (SyntaxError, ValueError, EOFError, OSError, KeyError, TypeError, struct.error):
        return UPRIGHT
    return value if isinstance(value, int) and 1 <= value <= 8 else UPRIGHT


def displayed_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    """(width, height) of the image as displayed under `orientation`."""
    return (height, width) if orientation in _QUARTER_TURNS else (width, height)


def apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """The stored pixels turned (and flipped) to their displayed orientation (EXIF 1-8)."""
    turned = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, k=-1),
        7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
        8: lambda a: np.rot90(a, k=1),
    }.get(orientation)
    return image if turned is None else np.ascontiguousarray(turned(image))
