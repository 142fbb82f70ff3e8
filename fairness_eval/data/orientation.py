"""EXIF orientation: reading the tag from a JPEG or PNG header, and turning pixels to match it.

A camera stores pixels as the sensor saw them and records in EXIF how to turn them for
display (tag 0x0112, values 1 to 8). A mask drawn on the displayed image does not line up
with the stored pixels when the orientation is not 1. fairness-eval scores stored pixels
by default (`--exif ignore`) and reports each such image; `--exif rotate` turns the image
to its displayed orientation first, so its mask must be drawn on the displayed image.
"""

from __future__ import annotations

import struct

import numpy as np

UPRIGHT = 1
_ORIENTATION_TAG = 0x0112
# Orientations that swap width and height (a quarter turn, with or without a flip).
_QUARTER_TURNS = (5, 6, 7, 8)


def orientation_from_tiff(data: bytes) -> int:
    """The orientation in a TIFF-structured EXIF block (1 when absent or unreadable)."""
    if data.startswith(b"Exif\0\0"):
        data = data[6:]
    if len(data) < 8 or data[:4] not in (b"II*\0", b"MM\0*"):
        return UPRIGHT
    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack(order + "I", data[4:8])
    if offset + 2 > len(data):
        return UPRIGHT
    (count,) = struct.unpack(order + "H", data[offset:offset + 2])
    for index in range(count):
        start = offset + 2 + 12 * index
        if start + 12 > len(data):
            break
        tag, kind = struct.unpack(order + "HH", data[start:start + 4])
        if tag == _ORIENTATION_TAG and kind == 3:  # SHORT, held in the value field
            (value,) = struct.unpack(order + "H", data[start + 8:start + 10])
            return value if 1 <= value <= 8 else UPRIGHT
    return UPRIGHT


def png_orientation(data: bytes) -> int:
    """The orientation of a PNG's eXIf chunk (which must precede the image data)."""
    offset = 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"eXIf":
            return orientation_from_tiff(data[offset + 8:offset + 8 + length])
        if kind in (b"IDAT", b"IEND"):
            break
        offset += 12 + length
    return UPRIGHT


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
