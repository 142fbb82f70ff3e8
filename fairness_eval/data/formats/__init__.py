"""Dataset formats teams already have, loaded as they are into the same validated samples as
the folder layout: COCO instance annotations, the Pascal VOC devkit, the Penn-Fudan layout.

A format has a *layout* (how its files are found: `detect_layout`, `load_layout`) and a
*mask format* (how one sample's mask is read: `Sample.mask_format`, dispatched by
`decode_mask`). Every decoder returns the same thing as the folder layout's PNGs give: a
0/255 uint8 person mask and a 0/255 ignore mask (or None), at the image's size. The VOC
devkit's person class is --mask-person-value's N when given (default 15).

    mask_format     layout        mask file                      ignore
    "png"           folder, CSV   8-bit mask, >= 128 is person   sample.ignore (PNG)
                                  (== N: --mask-person-value N)
    "voc-palette"   voc           SegmentationClass palette PNG  label 255 (void)
    "instances"     penn-fudan    PedMasks instance PNG          none
    "coco"          coco          the annotations JSON           person crowds (iscrowd)
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import numpy as np

from ...errors import UsageError
from ..maskfile import LabelIndexMask, MaskFileError, decode_gray8, person_pixels
from ..samples import Dataset, Sample
from . import coco, pennfudan, voc

LAYOUTS = ("coco", "voc", "penn-fudan")
# Mask formats read by a decoder of this package, by the part before any ":" argument
# ("voc-palette:12" reads class 12).
MASK_FORMATS: dict[str, ModuleType] = {
    voc.MASK_FORMAT: voc,
    pennfudan.MASK_FORMAT: pennfudan,
    coco.MASK_FORMAT: coco,
}
PNG = "png"


def detect_layout(path: Path) -> str | None:
    """The format of `--dataset PATH`, or None for the folder and manifest layouts.

    A .json file is COCO; a folder is COCO when it holds annotations.json and images/ (and
    no masks/), VOC when it holds JPEGImages/ and SegmentationClass/, Penn-Fudan when it
    holds PNGImages/ and PedMasks/.
    """
    path = Path(path)
    if path.is_file():
        return "coco" if path.suffix.lower() == ".json" else None
    if not path.is_dir():
        return None
    if coco.is_coco_folder(path):
        return "coco"
    if voc.is_voc(path):
        return "voc"
    if pennfudan.is_penn_fudan(path):
        return "penn-fudan"
    return None


def load_layout(
    path: Path,
    layout: str | None = None,
    *,
    images: Path | None = None,
    image_set: str | None = None,
    person_class: int | None = None,
) -> Dataset:
    """Load a dataset in one of LAYOUTS (detected when `layout` is None).

    images: COCO only, the folder the `file_name`s are relative to. image_set: VOC only,
    a list of ImageSets/Segmentation/ ("val") instead of every labelled image.
    person_class: VOC only (--mask-person-value), the label index of person (default 15).
    Row problems are in `Dataset.problems`; file checks follow with `file_problems`.
    """
    path = Path(path)
    layout = layout or detect_layout(path)
    if layout not in LAYOUTS:
        raise UsageError(f"--dataset: {path} is not a COCO, VOC or Penn-Fudan dataset")
    if images is not None and layout != "coco":
        raise UsageError("--images: only for COCO annotation files")
    if person_class is not None and layout != "voc":
        raise UsageError("--mask-person-value: for mask files and VOC devkit folders only, "
                         f"not a {layout} dataset")
    if image_set is not None and layout != "voc":
        raise UsageError("--image-set: only for VOC devkit folders")
    if image_set is not None and (not image_set.strip() or re.search(r"[/\\]", image_set)
                                  or image_set.startswith(".")):
        raise UsageError(f"--image-set: {image_set!r} is not the name of a list in "
                         f"{voc.IMAGE_SETS}/ (e.g. val)")
    if layout == "coco":
        dataset = coco.load_coco(path, images)
    elif layout == "voc":
        dataset = voc.load_voc(path, image_set,
                               voc.PERSON_CLASS if person_class is None else person_class)
    else:
        dataset = pennfudan.load_penn_fudan(path)
    dataset.images_dir = None if images is None else Path(images).resolve()
    dataset.image_set = image_set
    return dataset


def decoder(mask_format: str) -> ModuleType:
    """The module reading `mask_format` (decode, mask_source, file_problems)."""
    module = MASK_FORMATS.get(mask_format.partition(":")[0])
    if module is None:
        raise ValueError(f"unknown mask format {mask_format!r}")
    return module


def decode_mask(sample: Sample, source: bytes | None = None
                ) -> tuple[np.ndarray, np.ndarray | None]:
    """(mask, ignore) of a sample as 0/255 uint8 arrays (ignore may be None).

    source: the bytes `mask_source(sample)` returned, when the caller has them (the bytes
    hashed are then the bytes decoded). Raises ValueError when they cannot be decoded.
    Any object with `image`, `mask` and `ignore` paths reads as PNG masks.
    """
    mask_format = getattr(sample, "mask_format", PNG)
    if mask_format == PNG:
        person_value = getattr(sample, "person_value", None)
        mask = _read_png(sample.mask, source, person_value)
        return mask, (_read_png(sample.ignore, None, person_value)
                      if sample.ignore is not None else None)
    return decoder(mask_format).decode(sample, source)


def mask_source(sample: Sample) -> bytes:
    """The bytes a sample's mask is decoded from: the mask file, or for COCO the image's
    entry in the annotation file (not the whole file, which every image shares)."""
    mask_format = getattr(sample, "mask_format", PNG)
    if mask_format == PNG:
        return Path(sample.mask).read_bytes()
    return decoder(mask_format).mask_source(sample)


def file_problems(sample: Sample) -> list[tuple[str, str]]:
    """(file, reason) for each file of a non-PNG sample that cannot be used (the header
    checks before inference; PNG samples are checked by data/file_checks.py)."""
    return decoder(sample.mask_format).file_problems(sample)


def _read_png(path: Path, content: bytes | None = None, person_value: int | None = None
              ) -> np.ndarray:
    try:
        mask = decode_gray8(Path(path).read_bytes() if content is None else content)
    except MaskFileError:
        raise ValueError(f"{path}: not a single-channel 8-bit mask") from None
    try:
        return np.where(person_pixels(mask, person_value), 255, 0).astype(np.uint8)
    except LabelIndexMask as error:
        raise ValueError(f"{path}: mask {error}") from None


__all__ = [
    "LAYOUTS", "MASK_FORMATS", "decode_mask", "decoder", "detect_layout", "file_problems",
    "load_layout", "mask_source",
]
