"""COCO instance annotations: a JSON file with `images`, `annotations` and `categories`, and
the folder its images' `file_name`s are relative to.

Per image, the mask is the union of its `person` annotations that are not crowds (polygons
or RLE, decoded as the COCO API does: cocomask.py); the union of its person crowd regions
(`iscrowd: 1`) is ignored. Every image listed is a row, also one without a person (its
mask is empty). The JSON is parsed once per process and kept as an index of the person
annotations by image; a sample's mask is decoded from its entry (`mask_source`), so the
bytes that identify a row are that entry, not the whole file.

The annotation file lists the rows, so the images folder is not listed (it may hold a
larger set's images); an entry whose `file_name` is of a format fairness-eval does not read
is a problem of its row.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import UsageError
from ..samples import Dataset, Problem, Sample, unsupported_format
from ..tables import read_table_file
from .cocomask import SegmentationError, check_segmentation, segmentation_mask
from .indexed import header_info
from .layout import Row, assemble, is_image_file

MASK_FORMAT = "coco"
CATEGORY = "person"
ANNOTATIONS_FILE = "annotations.json"
IMAGES_FOLDER = "images"


@dataclass(frozen=True)
class CocoImage:
    """One entry of `images` with its person annotations (segmentation and crowd flag)."""

    row: int  # position in `images`, from 1
    file_name: str
    width: int
    height: int
    annotations: tuple[tuple[Any, bool], ...] = ()

    def source(self) -> bytes:
        """The entry as canonical JSON: what the image's masks are decoded from."""
        return json.dumps({"file_name": self.file_name, "width": self.width,
                           "height": self.height,
                           "annotations": [{"segmentation": s, "iscrowd": c}
                                           for s, c in self.annotations]},
                          sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class CocoIndex:
    """A parsed annotation file: usable images by stem, the problems of the others."""

    images: dict[str, CocoImage]
    problems: tuple[Problem, ...]
    listed: int  # entries in `images`
    sha256: bytes  # of the file: identifies the dataset (not kept whole in memory)


def is_coco_folder(folder: Path) -> bool:
    """A folder holding annotations.json and images/ (and no masks/: that is the folder
    layout)."""
    return ((folder / ANNOTATIONS_FILE).is_file() and (folder / IMAGES_FOLDER).is_dir()
            and not (folder / "masks").is_dir())


def images_folder(annotations: Path, images: Path | None = None) -> Path:
    """Where `file_name`s point: `images` if given, else images/ beside the JSON, else the
    JSON's own folder."""
    if images is not None:
        if not Path(images).is_dir():
            raise UsageError(f"--images: {images} is not a folder")
        return Path(images)
    beside = annotations.parent / IMAGES_FOLDER
    return beside if beside.is_dir() else annotations.parent


def load_coco(annotations: Path, images: Path | None = None) -> Dataset:
    """The images of a COCO annotation file, each with its person annotations validated."""
    annotations = Path(annotations)
    if annotations.is_dir():
        annotations = annotations / ANNOTATIONS_FILE
    folder = images_folder(annotations, images)
    index = read_index(annotations)
    rows, problems = [], list(index.problems)
    for stem, entry in index.images.items():
        image = Path(entry.file_name)
        if image.is_absolute() or ".." in image.parts:
            problems.append(Problem(str(annotations), f"file_name {entry.file_name!r} leaves "
                                    f"the images folder {folder}", entry.row, stem))
            continue
        if not is_image_file(image):
            problems.append(Problem(str(annotations), f"file_name {entry.file_name!r}: "
                                    f"{unsupported_format(image)}; convert the image and "
                                    "change its file_name", entry.row, stem))
            continue
        rows.append(Row(entry.row, stem, folder / image, annotations))
    problems.sort(key=lambda p: (p.row is None, p.row or 0))
    name = (annotations.parent.resolve().name if annotations.name == ANNOTATIONS_FILE
            else annotations.stem)
    return assemble(annotations.parent, name, annotations, rows, problems, index.listed,
                    MASK_FORMAT, index.sha256, f"in {annotations.name}")


def read_index(path: Path) -> CocoIndex:
    """The parsed annotation file (cached per process while the file is unchanged)."""
    try:
        status = os.stat(path)
    except OSError as error:
        raise UsageError(f"--dataset: {path}: {error.strerror or error}") from None
    return _cached_index(str(Path(path).resolve()), status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=2)
def _cached_index(path: str, mtime_ns: int, size: int) -> CocoIndex:
    del mtime_ns, size  # part of the cache key only: a changed file is parsed again
    raw = read_table_file(Path(path))
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"{path}: not a COCO annotation file (not JSON: {error})") from None
    except RecursionError:
        raise UsageError(f"{path}: not a COCO annotation file (JSON nested too deeply)"
                         ) from None
    if not isinstance(document, dict) or not all(
            isinstance(document.get(key), list) for key in ("images", "annotations",
                                                            "categories")):
        raise UsageError(f"{path}: not a COCO annotation file (expected lists 'images', "
                         "'annotations' and 'categories')")
    person = _category_ids(path, document["categories"])
    entries, problems, rejected = _images(path, document["images"])
    reasons: dict[Any, list[str]] = {}
    kept: dict[Any, list[tuple[Any, bool]]] = {}
    for number, annotation in enumerate(document["annotations"], start=1):
        if not isinstance(annotation, dict) or not _hashable(annotation.get("category_id")) \
                or annotation["category_id"] not in person:
            continue
        name = f"annotation {annotation.get('id', f'#{number}')}"
        image_id = annotation.get("image_id")
        if _hashable(image_id) and image_id in rejected:
            continue  # its image is reported already
        if not _hashable(image_id) or image_id not in entries:
            problems.append(Problem(path, f"{name}: image_id {image_id!r} is not in 'images'"))
            continue
        entry = entries[image_id]
        crowd = annotation.get("iscrowd", 0)
        if crowd not in (0, 1):  # True and False compare equal to 1 and 0
            reasons.setdefault(image_id, []).append(f"{name}: iscrowd {crowd!r} is not 0 or 1")
            continue
        try:
            check_segmentation(annotation.get("segmentation"), entry.height, entry.width)
        except SegmentationError as error:
            reasons.setdefault(image_id, []).append(f"{name}: {error}")
            continue
        kept.setdefault(image_id, []).append((annotation["segmentation"], bool(crowd)))
    images: dict[str, CocoImage] = {}
    for image_id, entry in entries.items():
        stem = Path(entry.file_name).stem
        if image_id in reasons:
            first, more = reasons[image_id][0], len(reasons[image_id]) - 1
            problems.append(Problem(path, first + (f" (and {more} more)" if more else ""),
                                    entry.row, stem))
            continue
        images[stem] = CocoImage(entry.row, entry.file_name, entry.width, entry.height,
                                 tuple(kept.get(image_id, ())))
    return CocoIndex(images, tuple(problems), len(document["images"]),
                     hashlib.sha256(raw).digest())


def _category_ids(path: str, categories: list) -> set[Any]:
    found = {c.get("id") for c in categories
             if isinstance(c, dict) and c.get("name") == CATEGORY and _hashable(c.get("id"))}
    if not found:
        names = [str(c.get("name")) for c in categories if isinstance(c, dict)]
        raise UsageError(f"{path}: no '{CATEGORY}' category (categories: "
                         f"{', '.join(names[:12]) or 'none'}{', …' if len(names) > 12 else ''})")
    return found


def _images(path: str, records: list
            ) -> tuple[dict[Any, CocoImage], list[Problem], set[Any]]:
    """The usable `images` entries by id; a problem for each other one, and their ids."""
    entries: dict[Any, CocoImage] = {}
    stems: dict[str, int] = {}
    problems = []
    rejected = set()
    for row, record in enumerate(records, start=1):
        record = record if isinstance(record, dict) else {}
        file_name = record.get("file_name")
        stem = Path(file_name).stem if isinstance(file_name, str) and file_name else None
        reason = None
        if stem is None:
            reason = "image without a 'file_name'"
        elif not _hashable(record.get("id")) or isinstance(record.get("id"), bool):
            reason = f"image {file_name!r} without an integer or text 'id'"
        elif not all(_positive_int(record.get(k)) for k in ("width", "height")):
            reason = f"image {file_name!r}: 'width' and 'height' must be positive integers"
        elif record["id"] in entries:
            reason = f"duplicate image id {record['id']!r} (also row {entries[record['id']].row})"
        elif stem in stems:
            reason = f"duplicate image stem {stem!r} (also row {stems[stem]})"
        if reason:
            problems.append(Problem(path, reason, row, stem))
            if _hashable(record.get("id")) and record.get("id") not in entries:
                rejected.add(record.get("id"))
            continue
        stems[stem] = row
        entries[record["id"]] = CocoImage(row, file_name, record["width"], record["height"])
    return entries, problems, rejected


def _hashable(value: object) -> bool:
    return isinstance(value, (int, str))


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _entry(sample: Sample) -> CocoImage:
    entry = read_index(sample.mask).images.get(sample.image_id)
    if entry is None:
        raise ValueError(f"{sample.mask}: no usable image {sample.image_id!r}")
    return entry


def mask_source(sample: Sample) -> bytes:
    """The bytes the sample's masks are decoded from: its image entry and annotations."""
    return _entry(sample).source()


def decode(sample: Sample, source: bytes | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(mask, ignore) as 0/255 uint8: the union of the person instances, and of the person
    crowd regions (None when the image has none)."""
    entry = json.loads(source if source is not None else mask_source(sample))
    height, width = entry["height"], entry["width"]
    person = np.zeros((height, width), dtype=bool)
    crowd = np.zeros((height, width), dtype=bool)
    for annotation in entry["annotations"]:
        target = crowd if annotation["iscrowd"] else person
        target |= segmentation_mask(annotation["segmentation"], height, width)
    ignore = (crowd * np.uint8(255)) if any(a["iscrowd"] for a in entry["annotations"]) else None
    return person * np.uint8(255), ignore


def file_problems(sample: Sample) -> list[tuple[str, str]]:
    """(file, reason): the image is missing, unreadable, or not the size the JSON gives."""
    problems: list[tuple[str, str]] = []
    info = header_info(sample.image, "image", problems)
    entry = _entry(sample)
    if info is not None and (info.width, info.height) != (entry.width, entry.height):
        problems.append((str(sample.image), f"image is {info.width}x{info.height} but "
                         f"{Path(sample.mask).name} gives {entry.width}x{entry.height}"))
    return problems
