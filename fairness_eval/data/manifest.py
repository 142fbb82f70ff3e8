"""The manifest layout: a CSV or JSON Lines file with columns `image`, `mask`, optional
`ignore`, optional `mask_<annotator>`, and attribute columns.

Paths are relative to the manifest. A relative path that climbs out of the manifest's
folder is refused (it is usually a manifest copied away from its data); an absolute path
is taken as given.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import UsageError
from .attributes import check_attribute_names, long_values
from .samples import Dataset, Problem, Sample
from .tables import cell_text, parse_csv, parse_jsonl, read_table_file

RESERVED_COLUMNS = ("image", "mask", "ignore")
MANIFEST_NAMES = ("manifest.csv", "manifest.jsonl")


def find_manifest(folder: Path) -> Path | None:
    """The manifest of a folder without images/ (None when it has images/)."""
    if (folder / "images").is_dir():
        return None
    candidates = [p for p in MANIFEST_NAMES if (folder / p).is_file()]
    if len(candidates) == 1:
        return folder / candidates[0]
    raise UsageError(
        f"--dataset: {folder} has no images/ folder and no manifest.csv or manifest.jsonl"
    )


def load_manifest(path: Path) -> Dataset:
    """The samples of a manifest; rows with an unusable path become problems."""
    raw = read_table_file(path)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        records = parse_jsonl(path, raw)
    elif path.suffix.lower() == ".csv":
        records = parse_csv(path, raw)
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
    check_attribute_names(path, attribute_columns)
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
        attributes = {c: cell_text(record.get(c)) for c in attribute_columns}
        too_long = long_values(attributes)
        if too_long:
            problems.append(Problem(str(path), too_long, row, image_id))
            continue
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
    text = cell_text(value)
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
    text = cell_text(value)
    return Path(text).stem if text else None
