"""Attributes: the attributes.csv of a folder, allowed column names, selection, vocabularies.

Decisions worth knowing:
- An empty attribute cell is "not annotated", its own group, reported and never gated.
- The standard attributes `region`, `skin_tone`, `gender` must use their vocabularies
  (`annotations/vocabularies.json`); values are stored in canonical form.
- Without --attribute, a column with more than MAX_AUTO_GROUPS distinct values looks
  continuous (a score, a fraction) and is left out with a note.
- Attribute names and values are labels on the card: one longer than MAX_ATTRIBUTE_LENGTH
  characters is refused (the row named), since nobody reads such a label and the PDF's
  layout time grows without bound with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..config.rules import MAX_ATTRIBUTE_LENGTH
from ..errors import UsageError
from ..results.names import ANNOTATOR_IOU_PREFIX, PER_IMAGE_COLUMNS
from ..results.vocabularies import standard_vocabularies
from .samples import IMAGE_EXTENSIONS, Dataset, Problem
from .tables import cell_text, parse_csv, read_table_file

# More distinct values than this and a column looks continuous: evaluated only when
# named with --attribute.
MAX_AUTO_GROUPS = 30


@dataclass
class AttributeTable:
    """The rows of an attributes.csv, keyed by image stem."""

    columns: list[str]
    rows: dict[str, dict[str, str | None]]  # image stem -> column -> value
    lines: dict[str, int]  # image stem -> data row number


def check_attribute_names(path: Path, columns: list[str]) -> None:
    """Refuse attribute columns named like the columns fairness-eval writes to per_image.csv."""
    clashing = [c for c in columns
                if c in PER_IMAGE_COLUMNS or c.startswith(ANNOTATOR_IOU_PREFIX)]
    if clashing:
        raise UsageError(f"{path}: attribute column(s) {', '.join(repr(c) for c in clashing)} "
                         "clash with columns fairness-eval writes to per_image.csv; rename them")
    long = [c for c in columns if len(c) > MAX_ATTRIBUTE_LENGTH]
    if long:
        raise UsageError(f"{path}: an attribute column name is {len(long[0])} characters long "
                         f"({long[0][:40]!r}...); names are limited to {MAX_ATTRIBUTE_LENGTH}")


def long_values(values: dict[str, str | None]) -> str | None:
    """Why a row's attribute values cannot be labels (one is too long), or None."""
    for column, value in values.items():
        if value is not None and len(value) > MAX_ATTRIBUTE_LENGTH:
            return (f"'{column}' value is {len(value):,} characters long "
                    f"({value[:40]!r}...); attribute values are limited to "
                    f"{MAX_ATTRIBUTE_LENGTH} characters")
    return None


def image_stem(cell: str) -> str:
    """The image id of an attributes.csv cell: the stem, or the cell minus an image suffix."""
    return cell[: -len(Path(cell).suffix)] if Path(cell).suffix.lower() in IMAGE_EXTENSIONS \
        else cell


def read_attributes_csv(path: Path) -> tuple[AttributeTable | None, list[Problem], bytes]:
    """The table (None when the file is absent), the problems of its rows, and its bytes."""
    if not path.exists():
        return None, [], b""
    raw = read_table_file(path)
    records = parse_csv(path, raw)
    if not records:
        return AttributeTable([], {}, {}), [], raw
    header = list(records[0].keys())
    if "image" not in header:
        raise UsageError(f"{path}: no 'image' column (columns: {', '.join(header)})")
    columns = [c for c in header if c != "image"]
    check_attribute_names(path, columns)
    table = AttributeTable(columns, {}, {})
    problems = []
    for number, record in enumerate(records, start=1):
        stem = image_stem((record.get("image") or "").strip())
        if not stem:
            problems.append(Problem(str(path), "empty 'image' cell", None, None, number))
            continue
        if stem in table.rows:
            problems.append(Problem(str(path), f"duplicate image (also row {table.lines[stem]})",
                                    None, stem, number))
            continue
        values = {c: cell_text(record.get(c)) for c in columns}
        too_long = long_values(values)
        if too_long:
            problems.append(Problem(str(path), too_long, None, stem, number))
            continue
        table.rows[stem] = values
        table.lines[stem] = number
    return table, problems, raw


def select_attributes(dataset: Dataset, requested: tuple[str, ...],
                      configured: tuple[str, ...] = ()) -> None:
    """Set `dataset.attributes` and move the samples whose standard attributes leave their
    vocabulary to the problems.

    The requested ones (--attribute) when given. Otherwise, on a dataset with a column of a
    standard vocabulary (annotations/vocabularies.json) or one `configured` (a
    configuration's [attributes.NAME] table), those columns, the others named in a note
    with how to add them; on a dataset with neither, every categorical column.
    """
    if requested:
        absent = [a for a in requested if a not in dataset.attribute_columns]
        if absent:
            available = ", ".join(dataset.attribute_columns) or "none"
            raise UsageError(
                f"--attribute: no column {', '.join(repr(a) for a in absent)} in "
                f"{dataset.source} (attribute columns: {available})"
            )
        dataset.attributes = list(dict.fromkeys(requested))
    elif chosen := [c for c in dataset.attribute_columns
                    if c in standard_vocabularies() or c in configured]:
        dataset.attributes = chosen
        others = [c for c in dataset.attribute_columns if c not in chosen]
        if others:
            dataset.notes.append(
                f"not evaluated by default (no standard vocabulary): {', '.join(others)}; "
                "add one with --attribute NAME (with the others wanted) or an "
                "[attributes.NAME] table in fairness-eval.toml")
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
    check_vocabularies(dataset)


def check_vocabularies(dataset: Dataset) -> None:
    """Canonicalise standard attribute values; a value outside its vocabulary is a problem."""
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
            valid.append(replace(sample, attributes=values))
    dataset.samples = valid
