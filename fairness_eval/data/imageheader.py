"""Size, channels and bit depth of an image file, read from its header without decoding.

Validation must check every file before inference starts, yet decoding each image twice
would cost as much as the inference itself. Pillow reads the headers of PNG and JPEG files
(nearly every dataset) lazily, and a check that the file ends with its end marker follows,
so that a file cut short is reported as truncated; any other format falls back to a full
decode with OpenCV, except above a pixel cap, where Pillow reads a BMP, TIFF or WebP size so
that an oversized image is refused without being decoded. The EXIF orientation of JPEG and
PNG files is read too (orientation.py).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import (
    BmpImagePlugin,
    Image,
    ImageFile,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    WebPImagePlugin,
)

from .orientation import UPRIGHT, exif_orientation

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8"
PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
JPEG_EOI = b"\xff\xd9"
# The raw mode Pillow gives a PNG's pixel data names its IHDR bit depth and colour type;
# its `mode` does not (16-bit RGB opens as "RGB", 16-bit grey + alpha as "RGBA").
# raw mode -> (channels, bit depth)
PNG_RAWMODES = {
    "1": (1, 1), "L;2": (1, 2), "L;4": (1, 4), "L": (1, 8), "I;16B": (1, 16),
    "RGB": (3, 8), "RGB;16B": (3, 16),
    "P;1": (1, 1), "P;2": (1, 2), "P;4": (1, 4), "P": (1, 8),
    "LA": (2, 8), "LA;16B": (2, 16),
    "RGBA": (4, 8), "RGBA;16B": (4, 16),
}
# Formats whose size Pillow reads so that an image above the cap is never decoded.
SIZE_READERS: tuple[Callable[[BinaryIO], ImageFile.ImageFile], ...] = (
    BmpImagePlugin.BmpImageFile, TiffImagePlugin.TiffImageFile, WebPImagePlugin.WebPImageFile)


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


class _Refused(Exception):
    """Pillow could not read the header (the caller words the reason for its format)."""


def read_image_info(path: Path, max_pixels: int | None = None) -> ImageInfo:
    """Header facts of ``path``; raises UnreadableImage with a reason when it is not readable.

    With `max_pixels`, a file OpenCV would have to decode to learn its size (BMP, TIFF,
    WebP) is not decoded when its header says it is larger: the caller refuses it by `pixels`.
    """
    try:
        # The whole file: the end-marker check needs its tail, and Pillow's many small
        # reads of a header cost less from memory than from a file.
        data = Path(path).read_bytes()
    except OSError as error:
        raise UnreadableImage(f"cannot read file: {error.strerror or error}") from None
    if not data:
        raise UnreadableImage("empty file (0 bytes)")
    with warnings.catch_warnings():
        # Pillow warns of corrupt EXIF and of decompression bombs; the facts (or the
        # one-line refusal) say all there is to say, on no other channel.
        warnings.simplefilter("ignore")
        if data.startswith(PNG_SIGNATURE):
            return _png_info(data)
        if data.startswith(JPEG_SIGNATURE):
            return _jpeg_info(data)
        if max_pixels is not None:
            size = _header_size(data, max_pixels)
            if size is not None and size[0] * size[1] > max_pixels:
                return ImageInfo(size[0], size[1], 0, 0)
    return _decoded_info(data)


def _open(reader: Callable[[BinaryIO], ImageFile.ImageFile],
          stream: BinaryIO) -> ImageFile.ImageFile:
    """Pillow's lazy open of `stream` by one format's reader (headers only, nothing decoded).

    The format's reader is called directly rather than through `Image.open`, whose
    decompression-bomb check would refuse, before its size is known, an image that
    `--max-pixels` allows or refuses with its size in the reason.
    """
    try:
        return reader(stream)
    except (SyntaxError, OSError, ValueError, EOFError):  # OSError: a short read
        raise _Refused from None


def _png_info(data: bytes) -> ImageInfo:
    # 33 bytes: the signature, then the IHDR chunk (length, type, 13 bytes of data, CRC).
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise UnreadableImage("truncated PNG (no IHDR header)")
    if PNG_IEND not in data[-256:]:
        raise UnreadableImage("truncated PNG (no IEND chunk)")
    try:
        image = _open(PngImagePlugin.PngImageFile, io.BytesIO(data))
    except _Refused:
        image = None
    if image is None or not image.tile or image.tile[0][3] not in PNG_RAWMODES:
        raise UnreadableImage("corrupt PNG header")  # (or no image data before IEND)
    channels, bit_depth = PNG_RAWMODES[image.tile[0][3]]
    return ImageInfo(image.width, image.height, channels, bit_depth, image.mode == "P",
                     exif_orientation(image.info.get("exif")))


def _jpeg_info(data: bytes) -> ImageInfo:
    stream = io.BytesIO(data)
    try:
        image = _open(JpegImagePlugin.JpegImageFile, stream)
    except _Refused:
        image = None
    if image is None or not image.tile:  # no frame header, or no start of scan
        raise UnreadableImage("truncated or corrupt JPEG (no frame header or scan)")
    # Pillow stops reading at the start of scan. Entropy-coded data cannot contain FF D9
    # except as the end-of-image marker; one before the scan (an EXIF thumbnail's) is not
    # the image's.
    if data.rfind(JPEG_EOI, stream.tell()) < 0:
        raise UnreadableImage("truncated JPEG (no end-of-image marker)")
    # Pillow opens 8-bit JPEGs of 1, 3 or 4 components only, and refuses any other.
    return ImageInfo(image.width, image.height, len(image.getbands()), 8,
                     orientation=exif_orientation(image.info.get("exif")))


def _header_size(data: bytes, max_pixels: int) -> tuple[int, int] | None:
    """(width, height) from a BMP, TIFF or WebP header, None for other formats or odd headers."""
    for reader in SIZE_READERS:
        try:
            return _open(reader, io.BytesIO(data)).size
        except _Refused:
            continue
        except Image.DecompressionBombError:
            # Pillow's WebP reader checks the size itself, above twice its own limit, and
            # says no more than that the image is larger.
            limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
            if max_pixels < limit:
                raise UnreadableImage(f"image is above the limit of {max_pixels:,} pixels "
                                      "(--max-pixels)") from None
            raise UnreadableImage(f"image is above {limit:,} pixels, the most its header "
                                  "reader (Pillow) accepts") from None
    return None


def _decoded_info(data: bytes) -> ImageInfo:
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:  # a header OpenCV refuses outright (above its own pixel cap)
        image = None
    if image is None:
        raise UnreadableImage("not a readable image (unknown or corrupt format)")
    channels = 1 if image.ndim == 2 else image.shape[2]
    return ImageInfo(image.shape[1], image.shape[0], channels, image.dtype.itemsize * 8)
