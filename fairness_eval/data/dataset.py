"""Evaluation sets: discovery, loading and validation, before any inference runs.

Two input forms, one result. A *folder* holds `images/`, `masks/` (same stem), optional
`ignore/`, optional `masks_<annotator>/` and an optional `attributes.csv` keyed by image
stem in column `image`. A *manifest* (CSV or JSON Lines) has columns `image`, `mask`,
optional `ignore`, optional `mask_<annotator>`, and attribute columns, with paths relative
to the manifest. Both become a list of `Sample`s plus a list of `Problem`s, each naming the
file, the row and the reason, so that every problem is reported at once.

Decisions worth knowing:
- A mask is 8-bit single-channel; pixels >= 128 are person, anything below is background
  (soft or anti-aliased masks are therefore accepted). Palette, 16-bit, RGB and
  grey+alpha masks are refused, since their meaning is ambiguous.
- A relative path that climbs out of the manifest's folder is refused (it is usually a
  manifest copied away from its data); an absolute path is taken as given.
- An empty attribute cell is "not annotated", its own group, reported and never gated.
- The standard attributes `region`, `skin_tone`, `gender` must use their vocabularies
  (`annotations/vocabularies.json`); values are stored in canonical form.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from .imageheader import ImageInfo, UnreadableImage, read_image_info
from .vocabularies import standard_vocabularies

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
MASK_EXTENSIONS = (".png", ".bmp", ".tif", ".tiff")
NOT_ANNOTATED = "(not annotated)"
RESERVED_COLUMNS = ("image", "mask", "ignore")
# Columns of per_image.csv that fairness-eval writes itself: an attribute may not take
# their names (nor the iou_ prefix of the annotator columns).
PER_IMAGE_COLUMNS = ("row", "image", "status", "reason", "intersection", "union", "iou",
                     "gt_area", "pred_area", "ignored_pixels", "both_empty", "content_sha256",
                     "inter_annotator_iou")
# More distinct values than this and a column looks continuous (a score, a fraction):
# evaluated only when named with --attribute.
MAX_AUTO_GROUPS = 30


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

    def files(self) -> list[Path]:
        """Every file the row reads, in a fixed order (the content key of the row)."""
        paths = [self.image, self.mask]
        if self.ignore is not None:
            paths.append(self.ignore)
        paths.extend(self.annotators[name] for name in sorted(self.annotators))
        return paths


class InvalidDataset(UsageError):
    """Validation found problems; each is listed, then this one-line summary."""

    def __init__(self, problems: list[Problem], summary: str | None = None) -> None:
        self.problems = problems
        super().__init__(summary or f"{len(problems)} invalid row(s); fix them or pass "
                         "--skip-invalid")


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


def load_dataset(
    path: Path | str,
    attributes: tuple[str, ...] | list[str] = (),
    check_files: bool = True,
) -> Dataset:
    """Load a dataset folder or manifest and validate every row.

    Raises UsageError for problems that stop the whole dataset (missing path, unreadable
    or malformed manifest, empty dataset, an --attribute that names no column). Row-level
    problems are returned in `Dataset.problems`; those rows are not in `samples`.
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"--dataset: {path} does not exist")
    if path.is_dir():
        manifest = _find_manifest(path)
        dataset = _load_manifest(manifest) if manifest else _load_folder(path)
    else:
        dataset = _load_manifest(path)
    if dataset.rows == 0:
        raise UsageError(f"{dataset.source}: empty dataset (no rows to evaluate)")
    _select_attributes(dataset, tuple(attributes))
    if check_files:
        _check_files(dataset)
    return dataset


def _find_manifest(folder: Path) -> Path | None:
    """A folder without images/ may hold a single manifest file."""
    if (folder / "images").is_dir():
        return None
    candidates = [p for p in ("manifest.csv", "manifest.jsonl") if (folder / p).is_file()]
    if len(candidates) == 1:
        return folder / candidates[0]
    raise UsageError(
        f"--dataset: {folder} has no images/ folder and no manifest.csv or manifest.jsonl"
    )


# --- folder layout -------------------------------------------------------------------


def _load_folder(root: Path) -> Dataset:
    images = sorted(p for p in (root / "images").iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    annotator_dirs = sorted(p for p in root.glob("masks_*") if p.is_dir())
    table, table_problems, table_bytes = _read_attributes_csv(root / "attributes.csv")
    problems: list[Problem] = []
    samples: list[Sample] = []
    seen: dict[str, int] = {}
    attribute_columns = table.columns if table else []
    # One listing per folder, not a stat per candidate file name.
    masks_by_stem = _index_by_stem(root / "masks")
    ignore_by_stem = _index_by_stem(root / "ignore")
    annotator_masks = {folder.name.removeprefix("masks_"): _index_by_stem(folder)
                       for folder in annotator_dirs}
    for row, image in enumerate(images, start=1):
        stem = image.stem
        if stem in seen:
            problems.append(
                Problem(str(image), f"duplicate image stem (also row {seen[stem]})", row, stem)
            )
            continue
        seen[stem] = row
        mask = masks_by_stem.get(stem)
        if mask is None:
            problems.append(Problem(str(root / "masks" / f"{stem}.png"), "missing mask", row, stem))
            continue
        ignore = ignore_by_stem.get(stem)
        annotators = {name: found[stem] for name, found in annotator_masks.items()
                      if stem in found}
        values = table.rows.get(stem, {}) if table else {}
        samples.append(
            Sample(row, stem, image, mask, ignore, annotators,
                   {c: values.get(c) for c in attribute_columns})
        )
    if table:
        table_problems += [
            Problem(str(root / "attributes.csv"), "no such image in images/", None, stem, line)
            for stem, line in table.lines.items() if stem not in seen
        ]
    if table_problems:
        # Rows of attributes.csv are not rows of the evaluation set: they cannot be skipped,
        # and evaluating around them would attach the wrong attributes to images.
        raise InvalidDataset(table_problems, f"{len(table_problems)} problem(s) in "
                             f"{root / 'attributes.csv'}; fix them (--skip-invalid skips "
                             "images, not attribute rows)")
    listing = "\n".join(p.name for p in images).encode()
    return Dataset(
        root=root,
        name=root.resolve().name,
        source=root,
        rows=len(images),
        samples=samples,
        problems=problems,
        attributes=[],
        attribute_columns=list(attribute_columns),
        source_sha256=hashlib.sha256(table_bytes + b"\0" + listing).hexdigest(),
        attribute_file=root / "attributes.csv" if table else None,
        attribute_rows=dict(table.lines) if table else {},
    )


def _index_by_stem(folder: Path) -> dict[str, Path]:
    """Files of a mask folder by stem; where several share a stem, .png comes first."""
    if not folder.is_dir():
        return {}
    preference = {ext: rank for rank, ext in enumerate(MASK_EXTENSIONS + IMAGE_EXTENSIONS)}
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir(), key=lambda p: preference.get(p.suffix.lower(), 99)):
        if path.suffix.lower() in preference:
            found.setdefault(path.stem, path)
    return found


@dataclass
class _AttributeTable:
    columns: list[str]
    rows: dict[str, dict[str, str | None]]  # image stem -> column -> value
    lines: dict[str, int]  # image stem -> data row number


def _image_stem(cell: str) -> str:
    """The image id of an attributes.csv cell: the stem, or the cell minus an image suffix."""
    return cell[: -len(Path(cell).suffix)] if Path(cell).suffix.lower() in IMAGE_EXTENSIONS \
        else cell


def _check_attribute_names(path: Path, columns: list[str]) -> None:
    clashing = [c for c in columns if c in PER_IMAGE_COLUMNS or c.startswith("iou_")]
    if clashing:
        raise UsageError(f"{path}: attribute column(s) {', '.join(repr(c) for c in clashing)} "
                         "clash with columns fairness-eval writes to per_image.csv; rename them")


def _read_attributes_csv(path: Path) -> tuple[_AttributeTable | None, list[Problem], bytes]:
    if not path.exists():
        return None, [], b""
    raw = path.read_bytes()
    records = _parse_csv(path, raw)
    if not records:
        return _AttributeTable([], {}, {}), [], raw
    header = list(records[0].keys())
    if "image" not in header:
        raise UsageError(f"{path}: no 'image' column (columns: {', '.join(header)})")
    columns = [c for c in header if c != "image"]
    _check_attribute_names(path, columns)
    table = _AttributeTable(columns, {}, {})
    problems = []
    for number, record in enumerate(records, start=1):
        stem = _image_stem((record.get("image") or "").strip())
        if not stem:
            problems.append(Problem(str(path), "empty 'image' cell", None, None, number))
            continue
        if stem in table.rows:
            problems.append(Problem(str(path), f"duplicate image (also row {table.lines[stem]})",
                                    None, stem, number))
            continue
        table.rows[stem] = {c: _cell(record.get(c)) for c in columns}
        table.lines[stem] = number
    return table, problems, raw


# --- manifest ------------------------------------------------------------------------


def _load_manifest(path: Path) -> Dataset:
    raw = path.read_bytes()
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        records = _parse_jsonl(path, raw)
    elif path.suffix.lower() == ".csv":
        records = _parse_csv(path, raw)
    else:
        raise UsageError(f"--dataset: {path} is neither a folder, a .csv nor a .jsonl manifest")
    header: list[str] = []
    for record in records:
        header.extend(k for k in record if k not in header)
    missing = [c for c in ("image", "mask") if c not in header]
    if records and missing:
        raise UsageError(f"{path}: missing column(s) {', '.join(missing)} (columns: "
                         f"{', '.join(header) or 'none'})")
    root = path.parent
    annotator_columns = [c for c in header if c.startswith("mask_")]
    attribute_columns = [c for c in header if c not in RESERVED_COLUMNS
                         and c not in annotator_columns]
    _check_attribute_names(path, attribute_columns)
    samples: list[Sample] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for row, record in enumerate(records, start=1):
        try:
            image = _resolve(root, record.get("image"), "image")
            mask = _resolve(root, record.get("mask"), "mask")
            ignore = _resolve(root, record.get("ignore"), "ignore", required=False)
            annotators = {}
            for column in annotator_columns:
                found = _resolve(root, record.get(column), column, required=False)
                if found is not None:
                    annotators[column.removeprefix("mask_")] = found
        except _RowError as error:
            problems.append(Problem(str(path), str(error), row, _stem(record.get("image"))))
            continue
        image_id = image.stem
        if image_id in seen:
            problems.append(
                Problem(str(path), f"duplicate image {image.name} (also row {seen[image_id]})",
                        row, image_id)
            )
            continue
        seen[image_id] = row
        attributes = {c: _cell(record.get(c)) for c in attribute_columns}
        samples.append(Sample(row, image_id, image, mask, ignore, annotators, attributes))
    return Dataset(
        root=root,
        name=path.stem if path.stem not in ("manifest",) else root.resolve().name,
        source=path,
        rows=len(records),
        samples=samples,
        problems=problems,
        attributes=[],
        attribute_columns=attribute_columns,
        source_sha256=hashlib.sha256(raw).hexdigest(),
    )


class _RowError(ValueError):
    pass


def _resolve(root: Path, value: object, column: str, required: bool = True) -> Path | None:
    text = _cell(value)
    if text is None:
        if required:
            raise _RowError(f"empty '{column}' cell")
        return None
    if "\0" in text:  # no file system accepts it; os calls would raise ValueError
        raise _RowError(f"{column} {text!r}: a path cannot contain a NUL character")
    candidate = Path(text)
    if candidate.is_absolute():
        return candidate
    try:
        resolved = (root / candidate).resolve()
    except (OSError, RuntimeError):
        raise _RowError(f"{column} {text}: symlink loop") from None
    if not resolved.is_relative_to(root.resolve()) and ".." in candidate.parts:
        raise _RowError(
            f"{column} {text}: relative path leaves the dataset folder {root}; "
            "use an absolute path if this is intended"
        )
    return root / candidate


def _stem(value: object) -> str | None:
    text = _cell(value)
    return Path(text).stem if text else None


def _cell(value: object) -> str | None:
    """A manifest cell as text; empty cells (and JSON null) are None."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{path}: not UTF-8 text (invalid byte at offset {error.start}); save it as UTF-8"
        ) from None


def _parse_csv(path: Path, raw: bytes) -> list[dict[str, str]]:
    text = _decode(path, raw)
    if not text.strip():
        raise UsageError(f"{path}: empty file (expected a header row)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as error:
        raise UsageError(f"{path}: malformed CSV ({error})") from None
    header = [h.strip() for h in rows[0]]
    if "" in header:
        raise UsageError(f"{path}: empty column name in the header row")
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise UsageError(f"{path}: duplicate column(s) {', '.join(duplicates)}")
    records = []
    for number, cells in enumerate(rows[1:], start=1):
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(header):
            raise UsageError(
                f"{path}, row {number}: {len(cells)} cells where the header has {len(header)}"
            )
        records.append(dict(zip(header, cells, strict=True)))
    return records


def _parse_jsonl(path: Path, raw: bytes) -> list[dict[str, object]]:
    text = _decode(path, raw)
    if not text.strip():
        raise UsageError(f"{path}: empty file (expected one JSON object per line)")
    records = []
    # JSON Lines separates records by "\n" only: str.splitlines() would also split at
    # U+2028 and other separators that JSON allows inside a string.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise UsageError(f"{path}, line {number}: not JSON ({error.msg})") from None
        except ValueError as error:  # e.g. an integer longer than Python converts
            raise UsageError(f"{path}, line {number}: not usable JSON ({error})") from None
        if not isinstance(record, dict):
            raise UsageError(f"{path}, line {number}: expected a JSON object")
        records.append(record)
    return records


# --- attributes and files ------------------------------------------------------------


def _select_attributes(dataset: Dataset, requested: tuple[str, ...]) -> None:
    if requested:
        absent = [a for a in requested if a not in dataset.attribute_columns]
        if absent:
            available = ", ".join(dataset.attribute_columns) or "none"
            raise UsageError(
                f"--attribute: no column {', '.join(repr(a) for a in absent)} in "
                f"{dataset.source} (attribute columns: {available})"
            )
        dataset.attributes = list(dict.fromkeys(requested))
    else:
        for column in dataset.attribute_columns:
            distinct = {s.attributes.get(column) for s in dataset.samples} - {None}
            if len(distinct) > MAX_AUTO_GROUPS and column not in standard_vocabularies():
                dataset.notes.append(
                    f"attribute '{column}' has {len(distinct)} distinct values and looks "
                    "continuous; not evaluated (name it with --attribute to evaluate it)"
                )
            else:
                dataset.attributes.append(column)
    _check_vocabularies(dataset)


def _check_vocabularies(dataset: Dataset) -> None:
    vocabularies = standard_vocabularies()
    valid = []
    for sample in dataset.samples:
        reasons = []
        values = dict(sample.attributes)
        for name in dataset.attributes:
            vocabulary = vocabularies.get(name)
            raw = values.get(name)
            if vocabulary is None or raw is None:
                continue
            canonical = vocabulary.canonical(raw)
            if canonical is None:
                allowed = ", ".join(vocabulary.values)
                reasons.append(f"{name} {raw!r} is not in the vocabulary ({allowed})")
            else:
                values[name] = canonical
        if reasons:
            file, line = dataset.source, None
            if dataset.attribute_file is not None:
                file, line = dataset.attribute_file, dataset.attribute_rows.get(sample.image_id)
            dataset.problems.append(
                Problem(str(file), "; ".join(reasons), sample.row, sample.image_id, line))
        else:
            valid.append(_replace_attributes(sample, values))
    dataset.samples = valid


def _replace_attributes(sample: Sample, values: dict[str, str | None]) -> Sample:
    return Sample(sample.row, sample.image_id, sample.image, sample.mask, sample.ignore,
                  sample.annotators, values)


def _check_files(dataset: Dataset) -> None:
    valid = []
    for sample in dataset.samples:
        reasons = _file_problems(sample)
        if reasons:
            file, reason = reasons[0]
            extra = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
            dataset.problems.append(Problem(file, reason + extra, sample.row, sample.image_id))
        else:
            valid.append(sample)
    dataset.samples = valid
    dataset.problems.sort(key=lambda p: (p.row is None, p.row or 0, p.file))


def _file_problems(sample: Sample) -> list[tuple[str, str]]:
    """(file, reason) for each file of the sample that cannot be used."""
    problems = []
    image = _info(sample.image, "image", problems)
    masks = [(sample.mask, "mask")]
    if sample.ignore is not None:
        masks.append((sample.ignore, "ignore mask"))
    masks.extend((path, f"mask of annotator {name}") for name, path in sample.annotators.items())
    for path, role in masks:
        info = _info(path, role, problems)
        if info is None:
            continue
        if info.palette:
            problems.append((str(path), f"{role} is a palette PNG; save it as 8-bit greyscale"))
        elif info.channels != 1:
            problems.append((str(path), f"{role} has {info.channels} channels; "
                             "expected a single-channel 8-bit mask"))
        elif info.bit_depth != 8:
            problems.append((str(path), f"{role} is {info.bit_depth}-bit; expected 8-bit"))
        elif image is not None and (info.width, info.height) != (image.width, image.height):
            problems.append((str(path), f"{role} is {info.width}x{info.height} but the image is "
                             f"{image.width}x{image.height}"))
    return problems


def _info(path: Path, role: str, problems: list[tuple[str, str]]) -> ImageInfo | None:
    try:
        if not path.exists():
            problems.append((str(path), f"{role} file not found"))
            return None
        if not path.is_file():
            problems.append((str(path), f"{role} is not a file"))
            return None
    except OSError as error:  # symlink loops surface here on some Pythons
        problems.append((str(path), f"{role}: {error.strerror or error}"))
        return None
    try:
        return read_image_info(path)
    except UnreadableImage as error:
        problems.append((str(path), f"unreadable {role}: {error}"))
        return None
