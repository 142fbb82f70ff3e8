"""What every dataset format's loader shares: the optional attributes.csv beside the data,
the listing of image files, and putting the `Dataset` together as the folder loader does.

A format loader finds its rows (image, mask file, problems); attributes come from an
`attributes.csv` keyed by image stem in column `image`, with the folder layout's rules
(data/attributes.py): a row naming no image of the set stops the whole dataset.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..attributes import read_attributes_csv
from ..samples import IMAGE_EXTENSIONS, Dataset, InvalidDataset, Problem, Sample

ATTRIBUTES_FILE = "attributes.csv"


@dataclass(frozen=True)
class Row:
    """One image of a format's listing, before attributes are attached."""

    row: int
    image_id: str
    image: Path
    mask: Path


def image_files(folder: Path) -> list[Path]:
    """The images of a folder, sorted by name."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def duplicate_stem_problems(images: list[Path]) -> tuple[list[tuple[int, Path]], list[Problem]]:
    """(row, image) for each image whose stem is new, and a problem for each repeat."""
    seen: dict[str, int] = {}
    kept, problems = [], []
    for row, image in enumerate(images, start=1):
        if image.stem in seen:
            problems.append(Problem(str(image), f"duplicate image stem (also row "
                                    f"{seen[image.stem]})", row, image.stem))
            continue
        seen[image.stem] = row
        kept.append((row, image))
    return kept, problems


def assemble(
    root: Path,
    name: str,
    source: Path,
    rows: list[Row],
    problems: list[Problem],
    total: int,
    mask_format: str,
    listing: bytes,
    where: str,
) -> Dataset:
    """The Dataset of a format: `rows` become samples with their attributes.csv values.

    total: rows given (images listed, valid or not). listing: the bytes that identify the
    set (the annotation file, or the file names), hashed with attributes.csv into
    `source_sha256`. where: how a problem in attributes.csv names the image listing
    ("in PNGImages/").
    """
    attributes_path = root / ATTRIBUTES_FILE
    table, table_problems, table_bytes = read_attributes_csv(attributes_path)
    columns = table.columns if table else []
    samples = []
    for entry in rows:
        values = table.rows.get(entry.image_id, {}) if table else {}
        samples.append(Sample(entry.row, entry.image_id, entry.image, entry.mask, None, {},
                              {c: values.get(c) for c in columns}, mask_format=mask_format))
    if table:
        listed = {entry.image_id for entry in rows} | {p.image for p in problems if p.image}
        table_problems += [
            Problem(str(attributes_path), f"no such image {where}", None, stem, line)
            for stem, line in table.lines.items() if stem not in listed
        ]
    if table_problems:
        # Evaluating around a bad attributes row would attach the wrong attributes to images.
        raise InvalidDataset(table_problems, f"{len(table_problems)} problem(s) in "
                             f"{attributes_path}; fix them (--skip-invalid skips images, not "
                             "attribute rows)")
    return Dataset(
        root=root,
        name=name,
        source=source,
        rows=total,
        samples=samples,
        problems=problems,
        attributes=[],
        attribute_columns=list(columns),
        source_sha256=hashlib.sha256(table_bytes + b"\0" + listing).hexdigest(),
        attribute_file=attributes_path if table else None,
        attribute_rows=dict(table.lines) if table else {},
    )
