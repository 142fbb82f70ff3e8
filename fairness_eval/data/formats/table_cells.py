"""One cell of a dataset table (Hugging Face `datasets`, Parquet) as the bytes of an image
file: encoded PNG/JPEG/BMP/WebP/TIFF bytes as they are, a `datasets` Image feature's
{"bytes", "path"} dict, a path, or an array (encoded as a lossless PNG).

Encoded bytes are kept byte for byte, so an image decodes, and its content hash reads,
exactly as the same file in the folder layout. An array mask is read with the folder
layout's rules once written: 0/255 (>= 128 is person), or label indices with
--mask-person-value; a boolean array is person where True.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

# Leading bytes of each file format the image readers accept, and the suffix it is saved as.
_SIGNATURES = ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG\r\n\x1a\n", ".png"), (b"BM", ".bmp"),
               (b"II*\x00", ".tif"), (b"MM\x00*", ".tif"))


class CellProblem(ValueError):
    """Why a cell holds no usable image; the message is the row problem's reason."""


def file_suffix(content: bytes) -> str | None:
    """The suffix of an encoded image's format, read from its first bytes (None: none we read)."""
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return ".webp"
    return next((suffix for magic, suffix in _SIGNATURES if content.startswith(magic)), None)


def cell_file(value: object, column: str, base: Path, *, mask: bool) -> tuple[bytes, str]:
    """(bytes, suffix) of the image file a cell holds; CellProblem says why there is none.

    `base`: the folder a relative path in the cell is read from (the table's folder).
    `mask`: an array is a mask (2-D, 0..255 or boolean) rather than an RGB image.
    """
    if value is None:
        raise CellProblem(f"column '{column}' is empty")
    if isinstance(value, dict):
        if value.get("bytes") is not None:
            value = value["bytes"]
        elif value.get("path"):
            value = str(value["path"])
        else:
            raise CellProblem(f"column '{column}' holds neither bytes nor a path")
    if isinstance(value, str):
        return _path_file(value, column, base)
    if isinstance(value, (bytes, bytearray, memoryview)):
        content = bytes(value)
        suffix = file_suffix(content)
        if suffix is None:
            raise CellProblem(f"column '{column}' holds {len(content):,} bytes that are no "
                              "PNG, JPEG, BMP, WebP or TIFF image")
        return content, suffix
    return _array_file(value, column, mask=mask), ".png"


def _path_file(text: str, column: str, base: Path) -> tuple[bytes, str]:
    path = Path(text) if Path(text).is_absolute() else base / text
    try:
        content = path.read_bytes()
    except OSError as error:
        raise CellProblem(f"column '{column}': {path}: {error.strerror or error}") from None
    suffix = file_suffix(content)
    if suffix is None:
        raise CellProblem(f"column '{column}': {path} is no PNG, JPEG, BMP, WebP or TIFF image")
    return content, suffix


def _array_file(value: object, column: str, *, mask: bool) -> bytes:
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        array = np.asarray([], dtype=object)
    if array.dtype == object or array.size == 0:
        raise CellProblem(f"column '{column}' holds {type(value).__name__} values, neither "
                          "encoded image bytes nor a rectangular array")
    if mask and array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    expected = "a 2-D mask array" if mask else "a 2-D or height x width x 3 image array"
    if array.ndim != 2 and (mask or array.ndim != 3 or array.shape[2] != 3):
        raise CellProblem(f"column '{column}' holds an array of shape {array.shape}; "
                          f"expected {expected}")
    if array.dtype == bool:
        array = np.where(array, 255, 0).astype(np.uint8)
    elif not np.issubdtype(array.dtype, np.integer):
        raise CellProblem(f"column '{column}' holds {array.dtype} values; expected integers "
                          "0..255 or booleans")
    elif array.min() < 0 or array.max() > 255:
        raise CellProblem(f"column '{column}' holds {array.dtype} values outside 0..255; "
                          "expected 8-bit values")
    array = np.ascontiguousarray(array, dtype=np.uint8)
    if array.ndim == 3:
        array = np.ascontiguousarray(array[:, :, ::-1])  # RGB in the table, BGR for OpenCV
    ok, encoded = cv2.imencode(".png", array)
    if not ok:
        raise CellProblem(f"column '{column}': the array could not be written as a PNG")
    return encoded.tobytes()
