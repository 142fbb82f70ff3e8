"""Pascal VOC devkit segmentations: `JPEGImages/<id>.jpg` and `SegmentationClass/<id>.png`,
the class labels as a palette PNG, evaluated as they are distributed.

Pixels of the person class (index 15, or N of --mask-person-value N) are the mask and the
void band (index 255) is ignored, exactly as the folder layout's masks/ and ignore/ are made
from the same files.
Rows are the labelled images (every `SegmentationClass/*.png`, sorted), or those listed in
`ImageSets/Segmentation/<set>.txt` when an image set is named.

No file is skipped without a word: a label in SegmentationClass/ that is not a PNG is a row
with a problem, and so is a row whose image in JPEGImages/ is of a format fairness-eval
does not read. JPEGImages/ holds the whole challenge's images, most of them unlabelled, so
a file there that is no row is not a problem; one of a format fairness-eval does not read
is named in a note.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import UsageError
from ..samples import Dataset, Problem, Sample, unsupported_format
from .indexed import index_mask_problems, read_indices
from .layout import Row, assemble, folder_entries, is_image_file, unsupported_image

MASK_FORMAT = "voc-palette"
PERSON_CLASS = 15
VOID = 255
IMAGES, LABELS, IMAGE_SETS = "JPEGImages", "SegmentationClass", "ImageSets/Segmentation"


def is_voc(folder: Path) -> bool:
    """Whether `folder` is a VOC year folder (VOCdevkit/VOC2012 and the like)."""
    return (folder / IMAGES).is_dir() and (folder / LABELS).is_dir()


def load_voc(root: Path, image_set: str | None = None,
             person_class: int = PERSON_CLASS) -> Dataset:
    """The labelled images of a VOC year folder (or those of `image_set`, e.g. "val")."""
    if not 0 <= person_class < VOID:
        raise UsageError(f"--mask-person-value {person_class}: a VOC person class is 0..254 "
                         "(255 is void)")
    label_files, _ = folder_entries(root / LABELS)
    labels = {p.stem: p for p in label_files if p.suffix.lower() == ".png"}
    # Not a PNG: a label fairness-eval does not read (a .png of the same stem wins).
    other_labels = {p.stem: p for p in label_files if p.stem not in labels}
    image_files, _ = folder_entries(root / IMAGES)
    images: dict[str, Path] = {}
    unreadable: dict[str, Path] = {}  # stem -> a file of a format fairness-eval does not read
    for path in image_files:
        (images if is_image_file(path) else unreadable).setdefault(path.stem, path)
    if image_set is None:
        ids = sorted({*labels, *other_labels})
        listed_in, listing = f"in {LABELS}/", "\n".join(ids)
    else:
        ids, listed_in, listing = _image_set(root, image_set)
    rows, problems, seen = [], [], {}
    for row, image_id in enumerate(ids, start=1):
        if image_id in seen:
            problems.append(Problem(str(root / IMAGE_SETS / f"{image_set}.txt"),
                                    f"duplicate id (also row {seen[image_id]})", row, image_id))
            continue
        seen[image_id] = row
        if image_id not in images and image_id in unreadable:
            path = unreadable[image_id]
            problems.append(Problem(str(path), unsupported_image(path), row, image_id))
        elif image_id not in images:
            problems.append(Problem(str(root / IMAGES / f"{image_id}.jpg"), "missing image",
                                    row, image_id))
        elif image_id in other_labels:
            path = other_labels[image_id]
            problems.append(Problem(str(path), f"{unsupported_format(path, 'label', ('.png',))}"
                                    f"; convert it or move it out of {LABELS}/", row, image_id))
        elif image_id not in labels:
            problems.append(Problem(str(root / LABELS / f"{image_id}.png"),
                                    "missing label (SegmentationClass)", row, image_id))
        else:
            rows.append(Row(row, image_id, images[image_id], labels[image_id]))
    mask_format = MASK_FORMAT if person_class == PERSON_CLASS else f"{MASK_FORMAT}:{person_class}"
    unused = sorted(path for stem, path in unreadable.items() if stem not in seen)
    notes = [_unreadable_note(unused)] if unused else []
    # With an image set, attributes.csv may cover the whole devkit: the rows of its other
    # images are left aside (a note counts them), not refused as unknown images.
    outside = {*labels, *other_labels, *images} if image_set is not None else set()
    return assemble(root, root.resolve().name, root, rows, problems, len(ids), mask_format,
                    listing.encode(), listed_in, notes, outside)


def _unreadable_note(paths: list[Path]) -> str:
    shown = ", ".join(p.name for p in paths[:3]) + (f" and {len(paths) - 3} more"
                                                    if len(paths) > 3 else "")
    return (f"{IMAGES}/ holds {len(paths)} file(s) of a format fairness-eval does not read "
            f"({shown}); none is a row of this set")


def _image_set(root: Path, name: str) -> tuple[list[str], str, str]:
    path = root / IMAGE_SETS / f"{name}.txt"
    if not path.is_file():
        available = sorted(p.stem for p in (root / IMAGE_SETS).glob("*.txt"))
        raise UsageError(f"--image-set: no {path} (image sets: {', '.join(available) or 'none'})")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: cannot read the image set ({error})") from None
    # A line may carry a second column (the per-class lists do): the id comes first.
    ids = [line.split()[0] for line in text.splitlines() if line.strip()]
    return ids, f"in {IMAGE_SETS}/{name}.txt", text


def class_index(sample: Sample) -> int:
    """The class that is the mask: 15, or N of a mask format "voc-palette:N"."""
    argument = sample.mask_format.partition(":")[2]
    return int(argument) if argument else PERSON_CLASS


def decode(sample: Sample, source: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(mask, ignore) as 0/255 uint8: the person class, and the void label 255."""
    labels = read_indices(sample.mask, source)
    mask = np.where(labels == class_index(sample), 255, 0).astype(np.uint8)
    ignore = np.where(labels == VOID, 255, 0).astype(np.uint8)
    return mask, ignore


def mask_source(sample: Sample) -> bytes:
    """The bytes the mask is decoded from: the label file."""
    return Path(sample.mask).read_bytes()


def file_problems(sample: Sample) -> list[tuple[str, str]]:
    """(file, reason) for each file of the sample that cannot be used."""
    return index_mask_problems(sample.image, sample.mask, "VOC label")
