"""The dataset model every loader produces: samples, problems and the loaded set.

Each input form (folder, manifest, and the formats added later) reads its own layout and
returns a `Dataset`: the valid `Sample`s plus one `Problem` per row that cannot be
evaluated, each naming the file, the row and the reason, so that every problem is
reported at once. Nothing here reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..results.names import NOT_ANNOTATED

# The file suffixes a loader accepts as images, and as masks.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
MASK_EXTENSIONS = (".png", ".bmp", ".tif", ".tiff")


def unsupported_format(path: Path, kind: str = "image",
                       extensions: tuple[str, ...] = IMAGE_EXTENSIONS) -> str:
    """Why a file is not read as an image (or mask, frame, video: `kind`): its suffix is
    none of `extensions`. Every loader words it alike; the caller adds the way out."""
    suffix = f"'{path.suffix}'" if path.suffix else "without an extension"
    return f"unsupported {kind} format {suffix} (fairness-eval reads {', '.join(extensions)})"


@dataclass(frozen=True)
class Sample:
    """One row of the evaluation set: the files to read and the row's attribute values."""

    row: int  # 1-based data row of the manifest, or position in the sorted images/ folder
    image_id: str
    image: Path
    mask: Path
    ignore: Path | None = None
    annotators: dict[str, Path] = field(default_factory=dict)
    attributes: dict[str, str | None] = field(default_factory=dict)
    # How `mask` is read: "png" (0/255 file, the folder and manifest layouts) or a key of
    # data/formats MASK_FORMATS ("voc-palette", "instances", "coco"), whose decoder also
    # yields the ignore mask.
    mask_format: str = "png"
    # EXIF orientation (1-8) applied to the image before scoring: set by validation under
    # --exif rotate only, so that the stored pixels are scored by default.
    orientation: int = 1
    # How a "png" mask (and its ignore and annotator masks) is read: None, 8-bit with
    # >= 128 set; N (--mask-person-value), label indices with value == N set (maskfile.py).
    person_value: int | None = None

    def files(self) -> list[Path]:
        """Every file the row reads, in a fixed order (the content key of the row)."""
        paths = [self.image, self.mask]
        if self.ignore is not None:
            paths.append(self.ignore)
        paths.extend(self.annotators[name] for name in sorted(self.annotators))
        return paths


@dataclass(frozen=True)
class Problem:
    """A reason a row (or the whole dataset) cannot be evaluated."""

    file: str
    reason: str
    row: int | None = None  # the dataset row (manifest row, or position in images/)
    image: str | None = None
    line: int | None = None  # the row within `file`, where that is another table

    def __str__(self) -> str:
        in_file = self.line if self.line is not None else self.row
        where = self.file if in_file is None else f"{self.file}, row {in_file}"
        if self.image:
            where += f" ({self.image})"
        return f"{where}: {self.reason}"


class InvalidDataset(UsageError):
    """Validation found problems; each is listed, then this one-line summary."""

    def __init__(self, problems: list[Problem], summary: str | None = None) -> None:
        self.problems = problems
        super().__init__(summary or f"{len(problems)} invalid row(s); fix them or pass "
                         "--skip-invalid")


@dataclass
class Dataset:
    """A loaded evaluation set: the valid samples and the problems of the others."""

    root: Path
    name: str
    source: Path  # the manifest file, or the folder itself
    rows: int  # rows given: manifest rows, or images in images/ plus orphan attribute rows
    samples: list[Sample]
    problems: list[Problem]
    attributes: list[str]  # attributes selected for evaluation
    attribute_columns: list[str]  # every attribute column present
    notes: list[str] = field(default_factory=list)
    source_sha256: str = ""  # over the manifest / attributes.csv bytes and the file list
    # where attribute values come from: attributes.csv and its row per image (folders)
    attribute_file: Path | None = None
    attribute_rows: dict[str, int] = field(default_factory=dict)
    # How a dataset format was located beyond its path (recorded in results.json's dataset
    # block, so that the same rows can be loaded again): COCO's --images folder, VOC's
    # --image-set name; None when not given.
    images_dir: Path | None = None
    image_set: str | None = None
    # the part evaluated (--limit, --sample: data/subset.py's Subset); None: every row
    subset: Any = None

    def value_counts(self) -> dict[str, dict[str, int]]:
        """Per selected attribute, the number of valid samples with each value."""
        counts: dict[str, dict[str, int]] = {}
        for name in self.attributes:
            tally: dict[str, int] = {}
            for sample in self.samples:
                value = sample.attributes.get(name) or NOT_ANNOTATED
                tally[value] = tally.get(value, 0) + 1
            counts[name] = dict(sorted(tally.items()))
        return counts
