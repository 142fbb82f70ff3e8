"""PNG label images whose pixel values are indices (a class or an instance number), read as
those indices: palette PNGs (Pascal VOC) and 8-bit greyscale PNGs (Penn-Fudan and others);
and the header checks such a mask passes before inference.

OpenCV turns a palette PNG into colours, losing the indices. A palette PNG's pixel data is
laid out exactly as a greyscale PNG's of the same bit depth, so the file is handed to
OpenCV with its header saying greyscale (and without the chunks that only mean something
with a palette); OpenCV then returns the indices themselves. No other image library needed.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

from ..imageheader import ImageInfo, UnreadableImage, read_image_info

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GREY, PALETTE = 0, 3  # PNG colour types
# Chunks that describe the pixels alone; every other chunk concerns colour or metadata.
_PIXEL_CHUNKS = (b"IHDR", b"IDAT", b"IEND")


class NotAnIndexImage(ValueError):
    """The file is not a PNG of indices; the message says why."""


def read_indices(path: Path, content: bytes | None = None) -> np.ndarray:
    """The (height, width) uint8 index image of a palette or greyscale PNG (bit depth <= 8).

    `content`: the file's bytes, when already read. Raises NotAnIndexImage otherwise.
    """
    data = Path(path).read_bytes() if content is None else content
    chunks = _chunks(data)
    header = chunks[0][1]
    width, height, bit_depth, colour_type = struct.unpack(">IIBB", header[:10])
    if colour_type not in (GREY, PALETTE):
        kind = {2: "RGB", 4: "greyscale with alpha", 6: "RGBA"}.get(colour_type, "unknown")
        raise NotAnIndexImage(f"a {kind} PNG, not a palette or greyscale index image")
    if bit_depth > 8:
        raise NotAnIndexImage(f"a {bit_depth}-bit PNG; expected at most 8 bits per index")
    if colour_type == PALETTE:
        grey_header = header[:9] + bytes([GREY]) + header[10:]
        data = PNG_SIGNATURE + b"".join(
            _chunk(b"IHDR", grey_header) if name == b"IHDR" else _chunk(name, body)
            for name, body in chunks if name in _PIXEL_CHUNKS)
    indices = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if indices is None or indices.shape != (height, width) or indices.dtype != np.uint8:
        raise NotAnIndexImage("PNG pixel data could not be decoded")
    if bit_depth < 8:
        # Greyscale below 8 bits comes back scaled to 0..255 (index 1 of 2 bits -> 85).
        indices = indices // (255 // (2**bit_depth - 1))
    return indices


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if not data.startswith(PNG_SIGNATURE):
        raise NotAnIndexImage("not a PNG file")
    chunks, offset = [], len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        length, name = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if len(body) != length:
            break
        chunks.append((name, body))
        offset += 12 + length
        if name == b"IEND":
            break
    if not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
        raise NotAnIndexImage("PNG without a valid IHDR header")
    if chunks[-1][0] != b"IEND":
        raise NotAnIndexImage("truncated PNG (no IEND chunk)")
    return chunks


def _chunk(name: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + name + body + struct.pack(">I", zlib.crc32(name + body))


def index_mask_problems(image: Path, mask: Path, role: str) -> list[tuple[str, str]]:
    """(file, reason) for each reason the image and its index mask cannot be used: missing
    or unreadable files, a mask that is not a PNG of indices, or sizes that differ."""
    problems: list[tuple[str, str]] = []
    image_info = header_info(image, "image", problems)
    mask_info = header_info(mask, role, problems)
    if mask_info is None:
        return problems
    with open(mask, "rb") as handle:
        is_png = handle.read(len(PNG_SIGNATURE)) == PNG_SIGNATURE
    if not is_png:
        problems.append((str(mask), f"{role} is not a PNG"))
    elif mask_info.channels != 1:
        problems.append((str(mask), f"{role} has {mask_info.channels} channels; expected "
                         "a palette or greyscale PNG of indices"))
    elif mask_info.bit_depth > 8:
        problems.append((str(mask), f"{role} is {mask_info.bit_depth}-bit; expected at most "
                         "8 bits per index"))
    elif image_info is not None and (mask_info.width, mask_info.height) != (
            image_info.width, image_info.height):
        problems.append((str(mask), f"{role} is {mask_info.width}x{mask_info.height} but the "
                         f"image is {image_info.width}x{image_info.height}"))
    return problems


def header_info(path: Path, role: str, problems: list[tuple[str, str]]) -> ImageInfo | None:
    """The header facts of an image file, or None with the reason added to `problems`."""
    try:
        if not path.is_file():
            problems.append((str(path), f"{role} file not found" if not path.exists()
                             else f"{role} is not a file"))
            return None
        return read_image_info(path)
    except OSError as error:
        problems.append((str(path), f"{role}: {error.strerror or error}"))
    except UnreadableImage as error:
        problems.append((str(path), f"unreadable {role}: {error}"))
    return None
