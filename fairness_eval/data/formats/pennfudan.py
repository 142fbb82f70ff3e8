"""The Penn-Fudan pedestrian layout, as distributed: `PNGImages/<stem>.png` and
`PedMasks/<stem>_mask.png`, an instance mask (0 background, 1..n one person each).

The mask is the union of the instances; there is no ignore region. The image's stem is
its id. Other folders of the download (`Annotation/` boxes) are not read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..samples import Dataset, Problem, Sample
from .indexed import index_mask_problems, read_indices
from .layout import Row, assemble, folder_entries, image_rows, subfolder_note

MASK_FORMAT = "instances"
IMAGES, MASKS, MASK_SUFFIX = "PNGImages", "PedMasks", "_mask.png"


def is_penn_fudan(folder: Path) -> bool:
    return (folder / IMAGES).is_dir() and (folder / MASKS).is_dir()


def load_penn_fudan(root: Path) -> Dataset:
    """Every file of PNGImages/ (sorted) as a row, each image with its PedMasks/ instance
    mask; a file that is not an image fairness-eval reads is a row with a problem."""
    images, subfolders = folder_entries(root / IMAGES)
    masks = {p.name for p in (root / MASKS).iterdir()}
    kept, problems = image_rows(images)
    rows = []
    for row, image in kept:
        mask = root / MASKS / f"{image.stem}{MASK_SUFFIX}"
        if mask.name not in masks:
            problems.append(Problem(str(mask), "missing mask", row, image.stem))
            continue
        rows.append(Row(row, image.stem, image, mask))
    listing = "\n".join(p.name for p in images).encode()
    notes = [subfolder_note(root / IMAGES, subfolders)] if subfolders else []
    return assemble(root, root.resolve().name, root, rows, problems, len(images), MASK_FORMAT,
                    listing, f"in {IMAGES}/", notes)


def decode(sample: Sample, source: bytes | None = None) -> tuple[np.ndarray, None]:
    """(mask, None): every instance (index > 0) as 255, background 0."""
    instances = read_indices(sample.mask, source)
    return np.where(instances > 0, 255, 0).astype(np.uint8), None


def mask_source(sample: Sample) -> bytes:
    """The bytes the mask is decoded from: the instance mask file."""
    return Path(sample.mask).read_bytes()


def file_problems(sample: Sample) -> list[tuple[str, str]]:
    """(file, reason) for each file of the sample that cannot be used."""
    return index_mask_problems(sample.image, sample.mask, "instance mask")
