"""What every dataset format's loader shares: the optional attributes.csv beside the data,
the listing of image files, and putting the `Dataset` together as the folder loader does.

A format loader finds its rows (image, mask file, problems); attributes come from an
`attributes.csv` keyed by image stem in column `image`, with the folder layout's rules
(data/attributes.py): a row naming no image of the set stops the whole dataset.

Every file of an image folder is accounted for, as in the folder layout (data/folder.py):
a file of a format fairness-eval does not read is a row with a problem, a folder inside is
named in a note; hidden files (.DS_Store) aside.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from ..attributes import read_attributes_csv
from ..samples import (
    IMAGE_EXTENSIONS,
    Dataset,
    InvalidDataset,
    Problem,
    Sample,
    unsupported_format,
)

ATTRIBUTES_FILE = "attributes.csv"
# How many names a note shows before "and N more".
_SHOWN = 3


@dataclass(frozen=True)
class Row:
    """One image of a format's listing, before attributes are attached."""

    row: int
    image_id: str
    image: Path
    mask: Path


def folder_entries(folder: Path) -> tuple[list[Path], list[Path]]:
    """(files, subfolders) of a folder, each sorted by name; hidden entries left out."""
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    return [p for p in entries if not p.is_dir()], [p for p in entries if p.is_dir()]


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def unsupported_image(path: Path) -> str:
    """The problem of a file in an image folder that is not an image fairness-eval reads."""
    return f"{unsupported_format(path)}; convert it or move it out of {path.parent.name}/"


def subfolder_note(folder: Path, subfolders: list[Path]) -> str:
    """The note naming folders inside an image folder: their files are not rows."""
    shown = ", ".join(p.name for p in subfolders[:_SHOWN])
    more = f" and {len(subfolders) - _SHOWN} more" if len(subfolders) > _SHOWN else ""
    return (f"{folder.name}/ holds {len(subfolders)} folder(s) ({shown}{more}); their files "
            f"are not evaluated (only files directly in {folder.name}/ are)")


def image_rows(files: list[Path]) -> tuple[list[tuple[int, Path]], list[Problem]]:
    """(row, image) for each file of an image folder that is a usable image, and a problem
    for each other file: a format fairness-eval does not read, or a repeated stem."""
    seen: dict[str, int] = {}
    kept, problems = [], []
    for row, image in enumerate(files, start=1):
        if not is_image_file(image):
            problems.append(Problem(str(image), unsupported_image(image), row, image.stem))
            continue
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
    notes: list[str] | None = None,
    outside: Collection[str] = (),
) -> Dataset:
    """The Dataset of a format: `rows` become samples with their attributes.csv values.

    total: rows given (images listed, valid or not). listing: the bytes that identify the
    set (the annotation file, or the file names), hashed with attributes.csv into
    `source_sha256`. where: how a problem in attributes.csv names the image listing
    ("in PNGImages/"). notes: what the loader noticed that is no row's problem. outside:
    images of the dataset that are not rows of this set (a VOC image set): their
    attributes.csv rows are left aside, counted in a note, not refused as unknown images.
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
        aside = [stem for stem in table.lines if stem not in listed and stem in outside]
        table_problems += [
            Problem(str(attributes_path), f"no such image {where}", None, stem, line)
            for stem, line in table.lines.items() if stem not in listed and stem not in outside
        ]
        if aside:
            notes = [*(notes or ()), f"{attributes_path.name}: {len(aside)} row(s) of images "
                     f"not {where} left aside (only the set's images are evaluated)"]
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
        notes=list(notes or ()),
        source_sha256=hashlib.sha256(table_bytes + b"\0" + listing).hexdigest(),
        attribute_file=attributes_path if table else None,
        attribute_rows=dict(table.lines) if table else {},
    )
