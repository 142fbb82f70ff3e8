"""Decoding a row's files: the image as RGB, each mask as booleans, and the row's content hash.

Every file is decoded in stored pixel order: masks carry no EXIF orientation, so an
image rotated on display would no longer line up with its mask. Under --exif rotate the
image alone is turned upright (its mask was drawn on the displayed image). A file that passed
validation but cannot be decoded, or a JPEG that decodes with libjpeg reporting corrupt data
(jpeg_warnings.py), raises RowFailure: that row is skipped, not the run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np

from ..data.formats import PNG, decode_mask, mask_source
from ..data.maskfile import LabelIndexMask, MaskFileError, decode_gray8, person_pixels
from ..data.orientation import UPRIGHT, apply_orientation
from ..data.samples import Sample
from ..metrics.masks import to_binary
from .jpeg_warnings import imdecode_checked

_IMREAD_COLOR_RGB = getattr(cv2, "IMREAD_COLOR_RGB", None)


class RowFailure(Exception):
    """A row that passed validation but could not be evaluated (e.g. corrupt pixel data)."""


def sample_contents(sample: Sample) -> dict[Path, bytes]:
    """The bytes of every file a row reads; for a mask in a dataset format, the bytes its
    mask is decoded from (a COCO image's entry, not the whole annotation file)."""
    contents = {}
    for path in sample.files():
        if path == sample.mask and sample.mask_format != PNG:
            contents[path] = mask_source(sample)
        else:
            contents[path] = Path(path).read_bytes()
    return contents


def content_sha256(sample: Sample, contents: dict[Path, bytes] | None = None) -> str:
    """Hash of every file a row reads: the row's part of the resume key.

    `contents` holds the files' bytes when the caller has read them already.
    """
    contents = sample_contents(sample) if contents is None else contents
    digest = hashlib.sha256()
    for path in sample.files():
        digest.update(path.name.encode() + b"\0")
        digest.update(contents[path])
    return digest.hexdigest()


def read_truth(sample: Sample, shape: tuple[int, int], contents: dict[Path, bytes]
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """The row's (mask, ignore) as booleans, from its PNGs (read by the sample's
    `person_value`) or its dataset format."""
    if sample.mask_format == PNG:
        truth = read_mask(sample.mask, shape, "mask", contents[sample.mask],
                          sample.person_value)
        ignore = (read_mask(sample.ignore, shape, "ignore mask", contents[sample.ignore],
                            sample.person_value)
                  if sample.ignore else None)
        return truth, ignore
    try:
        decoded = decode_mask(sample, contents[sample.mask])
    except ValueError as error:
        raise RowFailure(f"{sample.mask}: mask could not be decoded ({error})") from None
    for mask in decoded:
        if mask is not None and mask.shape != shape:
            raise RowFailure(f"{sample.mask}: mask is {mask.shape[1]}x{mask.shape[0]} but "
                             f"the image is {shape[1]}x{shape[0]}")
    truth, ignore = decoded
    return to_binary(truth), (to_binary(ignore) if ignore is not None else None)


def read_rgb(path: Path, content: bytes | None = None, orientation: int = UPRIGHT
             ) -> np.ndarray:
    """The image at `path` (or its bytes `content`) as an RGB uint8 array.

    `orientation`: the EXIF orientation to apply (validation sets it under --exif rotate);
    see `read_bgr`.
    """
    if _IMREAD_COLOR_RGB is None:  # OpenCV before 4.10
        return cv2.cvtColor(read_bgr(path, content, orientation), cv2.COLOR_BGR2RGB)
    # libjpeg writes the RGB order itself: the same pixels, without a conversion pass.
    return _decoded(path, content, orientation, _IMREAD_COLOR_RGB)


def read_bgr(path: Path, content: bytes | None = None, orientation: int = UPRIGHT
             ) -> np.ndarray:
    """The image at `path` (or its bytes `content`) as a BGR uint8 array, as it is scored.

    The stored pixels are turned by `orientation` (the EXIF orientation the image's header
    gives, applied under --exif rotate) here, not by OpenCV, so that the pipeline and the
    card's example overlays turn an image the same way.
    """
    return _decoded(path, content, orientation, cv2.IMREAD_COLOR)


def _decoded(path: Path, content: bytes | None, orientation: int, mode: int) -> np.ndarray:
    data = np.frombuffer(Path(path).read_bytes() if content is None else content, np.uint8)
    image, corrupt = imdecode_checked(data, mode | cv2.IMREAD_IGNORE_ORIENTATION)
    if image is None:
        raise RowFailure(f"{path}: image could not be decoded")
    if corrupt:  # decoded, but with blocks that are not the photo's
        raise RowFailure(f"{path}: image data is corrupt ({corrupt[0]})")
    return apply_orientation(image, orientation)


def read_mask(path: Path, shape: tuple[int, int], role: str, content: bytes | None = None,
              person_value: int | None = None) -> np.ndarray:
    """The 8-bit single-channel mask at `path` as booleans: >= 128 is person, or with
    `person_value` (--mask-person-value) value == person_value (data/maskfile.py).

    `shape` is the image's (height, width); `role` names the mask in a failure message.
    A mask of 0 and values below 128 alone is a RowFailure without `person_value`.
    """
    try:
        mask = decode_gray8(Path(path).read_bytes() if content is None else content)
    except MaskFileError as error:
        raise RowFailure(f"{path}: {role} could not be decoded" if error.undecodable
                         else f"{path}: {role} is not a single-channel 8-bit mask") from None
    if mask.shape != shape:
        raise RowFailure(f"{path}: {role} is {mask.shape[1]}x{mask.shape[0]} but the image is "
                         f"{shape[1]}x{shape[0]}")
    try:
        return person_pixels(mask, person_value)
    except LabelIndexMask as error:
        raise RowFailure(f"{path}: {role} {error}") from None
