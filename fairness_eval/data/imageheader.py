"""Size, channels and bit depth of an image file, read from its header without decoding.

Validation must check every file before inference starts, yet decoding each image twice
would cost as much as the inference itself. PNG and JPEG (nearly every dataset) are read
from their headers, with a check that the file is not truncated; any other format falls
back to a full decode with OpenCV, except above a pixel cap, where BMP and WebP sizes are
read from their headers so that an oversized image is refused without being decoded. The
EXIF orientation of JPEG and PNG files is read too (orientation.py).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .orientation import UPRIGHT, orientation_from_tiff, png_orientation

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
# PNG colour type -> (channels, is_palette)
PNG_COLOUR_TYPES = {0: (1, False), 2: (3, False), 3: (1, True), 4: (2, False), 6: (4, False)}
JPEG_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class UnreadableImage(ValueError):
    """The file is not an image fairness-eval can read; the message says why."""


@dataclass(frozen=True)
class ImageInfo:
    """What validation needs to know about an image file."""

    width: int
    height: int
    channels: int
    bit_depth: int
    palette: bool = False
    orientation: int = UPRIGHT  # EXIF orientation (1: stored as displayed)

    @property
    def pixels(self) -> int:
        return self.width * self.height


def read_image_info(path: Path, max_pixels: int | None = None) -> ImageInfo:
    """Header facts of ``path``; raises UnreadableImage with a reason when it is not readable.

    With `max_pixels`, a file OpenCV would have to decode to learn its size (BMP, WebP) is
    not decoded when its header says it is larger: the caller refuses it by `pixels`.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise UnreadableImage(f"cannot read file: {error.strerror or error}") from None
    if not data:
        raise UnreadableImage("empty file (0 bytes)")
    if data.startswith(PNG_SIGNATURE):
        return _png_info(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_info(data)
    if max_pixels is not None:
        size = _bmp_or_webp_size(data)
        if size is not None and size[0] * size[1] > max_pixels:
            return ImageInfo(size[0], size[1], 0, 0)
    return _decoded_info(data)


def _png_info(data: bytes) -> ImageInfo:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise UnreadableImage("truncated PNG (no IHDR header)")
    width, height, bit_depth, colour_type = struct.unpack(">IIBB", data[16:26])
    if colour_type not in PNG_COLOUR_TYPES or width == 0 or height == 0:
        raise UnreadableImage("corrupt PNG header")
    if PNG_IEND not in data[-256:]:
        raise UnreadableImage("truncated PNG (no IEND chunk)")
    channels, palette = PNG_COLOUR_TYPES[colour_type]
    return ImageInfo(width, height, channels, bit_depth, palette, png_orientation(data))


def _jpeg_info(data: bytes) -> ImageInfo:
    offset = 2
    info: ImageInfo | None = None
    scan_start = None
    orientation = UPRIGHT
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            raise UnreadableImage("corrupt JPEG (bad marker)")
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        if marker == 0xE1 and data[offset + 4 : offset + 10] == b"Exif\0\0":  # APP1: EXIF
            orientation = orientation_from_tiff(data[offset + 4 : offset + 2 + length])
        if marker in JPEG_SOF_MARKERS and offset + 10 <= len(data):
            precision, height, width, components = struct.unpack(
                ">BHHB", data[offset + 4 : offset + 10]
            )
            info = ImageInfo(width, height, components, precision)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            scan_start = offset + 2 + length
            break
        offset += 2 + length
    if info is None or scan_start is None:
        raise UnreadableImage("truncated or corrupt JPEG (no frame header or scan)")
    if info.width == 0 or info.height == 0:
        raise UnreadableImage("corrupt JPEG header (zero size)")
    # Entropy-coded data cannot contain FF D9 except as the end-of-image marker.
    if data.rfind(b"\xff\xd9", scan_start) < 0:
        raise UnreadableImage("truncated JPEG (no end-of-image marker)")
    return ImageInfo(info.width, info.height, info.channels, info.bit_depth,
                     orientation=orientation)


def _bmp_or_webp_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a BMP or WebP header, None for other formats or odd headers."""
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            width = int.from_bytes(data[24:27], "little") + 1
            height = int.from_bytes(data[27:30], "little") + 1
            return width, height
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
    return None


def _decoded_info(data: bytes) -> ImageInfo:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise UnreadableImage("not a readable image (unknown or corrupt format)")
    channels = 1 if image.ndim == 2 else image.shape[2]
    return ImageInfo(image.shape[1], image.shape[0], channels, image.dtype.itemsize * 8)
