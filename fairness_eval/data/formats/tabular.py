"""Datasets as tables: a Hugging Face `datasets` folder written by `save_to_disk`, or Parquet
(one .parquet file, or a folder of them), one row per image.

Columns: the image (`--image-column`, default `image`), the ground-truth mask
(`--mask-column`, default `mask`), optionally an ignore mask (`ignore`) and the image's id
(`image_id`; else the file name a `datasets` Image feature recorded, else `row000001`...);
every other column of scalar values (text, numbers, booleans, a ClassLabel's names) is an
attribute. A cell is encoded image bytes, an Image feature's {"bytes", "path"} dict, a path
or an array (table_cells.py).

The rest of fairness-eval reads image files by path (header checks, decoding, hashing,
the card's example overlays), so each row's image and masks are written once, byte for
byte, into a cache folder keyed by the table's content
($XDG_CACHE_HOME/fairness-eval/tables/KEY, ~/.cache by default) and the rows become the
folder layout's samples: every file check, decoder and content hash then reads exactly what
the same files in images/ and masks/ would give, and a second run over the same table
reuses the files. A problem the file checks find in a cached file is named by the table
file, its row and the column (`TableDataset.name_table_files`).

pyarrow (Parquet) and `datasets` are optional: imported only when such a dataset is given,
and their absence is one line naming the `[hf]` extra.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ...errors import UsageError
from ..attributes import check_attribute_names, long_values
from ..samples import Dataset, Problem, Sample
from ..tables import cell_text
from .table_cells import CellProblem, cell_file

HF, PARQUET = "hf", "parquet"
DEFAULT_IMAGE_COLUMN, DEFAULT_MASK_COLUMN = "image", "mask"
IGNORE_COLUMN, ID_COLUMN = "ignore", "image_id"
EXTRA_HINT = "pip install 'fairness-eval[hf]'"
_BATCH = 32
_COMPLETE = ".complete"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,150}")


def detect_table(path: Path) -> str | None:
    """HF for a `save_to_disk` folder, PARQUET for a .parquet file or a folder holding .parquet
    files (and no images/ folder), else None. Looks at names only; imports nothing."""
    if path.is_file():
        return PARQUET if path.suffix.lower() == ".parquet" else None
    if not path.is_dir():
        return None
    if (path / "dataset_dict.json").is_file() or (
            (path / "state.json").is_file() and (path / "dataset_info.json").is_file()):
        return HF
    if not (path / "images").is_dir() and any(path.glob("*.parquet")):
        return PARQUET
    return None


@dataclass
class TableDataset(Dataset):
    """A table's rows as samples over cached files; `origins` says where each file came from:
    cached file -> (table file, row within it, column)."""

    origins: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    # The columns read as the image and the mask (--image-column, --mask-column).
    table_columns: dict[str, str] = field(default_factory=dict)

    def name_table_files(self) -> None:
        """Name a problem in a cached file by the table file, its row and the column."""
        named = []
        for problem in self.problems:
            origin = self.origins.get(problem.file)
            if origin is None:
                named.append(problem)
                continue
            file, line, column = origin
            reason = problem.reason.replace(problem.file, f"'{column}'")
            named.append(replace(problem, file=file, line=line,
                                 reason=f"column '{column}': {reason}"))
        self.problems = named


@dataclass(frozen=True)
class _Columns:
    image: str
    mask: str
    ignore: str | None
    id: str | None
    attributes: tuple[str, ...]


def load_table(path: Path, kind: str, image_column: str | None = None,
               mask_column: str | None = None) -> TableDataset:
    """The rows of a table dataset as samples (see the module docstring); a row whose image
    or mask cannot be read is a Problem naming the table file, its row and the reason."""
    image_column = image_column or DEFAULT_IMAGE_COLUMN
    mask_column = mask_column or DEFAULT_MASK_COLUMN
    files, schema, labels, batches = (_hf(path) if kind == HF else _parquet(path))
    columns = _columns(path, schema, image_column, mask_column)
    key = _content_key(files, columns)
    cache = cache_root() / key[:32]
    reuse = (cache / _COMPLETE).is_file()
    staging = None if reuse else Path(tempfile.mkdtemp(prefix=".staging-", dir=cache_root()))
    base = path if path.is_dir() else path.parent
    samples: list[Sample] = []
    problems: list[Problem] = []
    origins: dict[str, tuple[str, int, str]] = {}
    seen: dict[str, int] = {}
    row = 0
    try:
        for file, line, batch in batches():
            for index in range(len(batch[image_column])):
                row += 1
                record = {name: values[index] for name, values in batch.items()}
                problem, sample = _row(record, row, file, line + index, columns, labels,
                                       base, cache, staging, seen, origins)
                if problem is not None:
                    problems.append(problem)
                if sample is not None:
                    samples.append(sample)
        if staging is not None:
            (staging / _COMPLETE).write_text("")
            if cache.exists() and not (cache / _COMPLETE).is_file():
                shutil.rmtree(cache, ignore_errors=True)  # left half-written by a crash
            try:
                os.rename(staging, cache)
                staging = None
            except OSError:  # another process cached the same table meanwhile
                pass
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return TableDataset(
        root=base, name=path.stem if path.is_file() else path.resolve().name, source=path,
        rows=row, samples=samples, problems=problems, attributes=[],
        attribute_columns=list(columns.attributes), source_sha256=key, origins=origins,
        table_columns={"image": columns.image, "mask": columns.mask})


def cache_root() -> Path:
    """Where tables' rows are cached as files: $XDG_CACHE_HOME/fairness-eval/tables."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    root = Path(base) / "fairness-eval" / "tables"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _row(record: dict[str, Any], row: int, file: Path, line: int, columns: _Columns,
         labels: dict[str, Any], base: Path, cache: Path, staging: Path | None,
         seen: dict[str, int], origins: dict[str, tuple[str, int, str]]
         ) -> tuple[Problem | None, Sample | None]:
    image_cell = record[columns.image]
    image_id = _image_id(record, columns, image_cell, row)
    if image_id in seen:
        return Problem(str(file), f"duplicate image id (also row {seen[image_id]})", row,
                       image_id, line), None
    seen[image_id] = row
    values = {name: cell_text(labels[name](record[name]) if name in labels
                              and record[name] is not None else record[name])
              for name in columns.attributes}
    too_long = long_values(values)
    if too_long:
        return Problem(str(file), too_long, row, image_id, line), None
    written: dict[str, Path] = {}
    roles = [("images", columns.image, False), ("masks", columns.mask, True)]
    if columns.ignore is not None and record[columns.ignore] is not None:
        roles.append(("ignore", columns.ignore, True))
    for folder, column, is_mask in roles:
        try:
            content, suffix = cell_file(record[column], column, base, mask=is_mask)
        except CellProblem as problem:
            return Problem(str(file), str(problem), row, image_id, line), None
        # Named by the id, as the folder layout's files are (a row's content hash reads
        # the names too); an id that is no plain file name by the row, which no id can take.
        name = (image_id if _PLAIN_NAME.fullmatch(image_id) else f"~{row:06d}") + suffix
        if staging is not None:
            (staging / folder).mkdir(exist_ok=True)
            (staging / folder / name).write_bytes(content)
        written[folder] = cache / folder / name
        origins[str(written[folder])] = (str(file), line, column)
    return None, Sample(row, image_id, written["images"], written["masks"],
                        written.get("ignore"), {}, values)


def _image_id(record: dict[str, Any], columns: _Columns, image_cell: Any, row: int) -> str:
    if columns.id is not None and cell_text(record[columns.id]):
        return str(cell_text(record[columns.id]))
    if isinstance(image_cell, dict) and image_cell.get("path"):
        return Path(str(image_cell["path"])).stem
    return f"row{row:06d}"


def _columns(path: Path, schema: Any, image: str, mask: str) -> _Columns:
    import pyarrow as pa

    names = list(schema.names)
    for option, column in (("--image-column", image), ("--mask-column", mask)):
        if column not in names:
            raise UsageError(f"{option} {column}: no such column in {path} (columns: "
                             f"{', '.join(names)})")
    reserved = {image, mask, IGNORE_COLUMN, ID_COLUMN}

    def scalar(kind: Any) -> bool:
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        return (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                or pa.types.is_integer(kind) or pa.types.is_floating(kind)
                or pa.types.is_boolean(kind))

    attributes = tuple(name for name in names
                       if name not in reserved and scalar(schema.field(name).type))
    check_attribute_names(path, list(attributes))
    return _Columns(image, mask, IGNORE_COLUMN if IGNORE_COLUMN in names else None,
                    ID_COLUMN if ID_COLUMN in names else None, attributes)


def _content_key(files: list[Path], columns: _Columns) -> str:
    digest = hashlib.sha256(repr((columns.image, columns.mask, columns.ignore)).encode())
    for file in files:
        digest.update(file.name.encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


Batches = Iterator[tuple[Path, int, dict[str, list[Any]]]]


def _parquet(path: Path):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError(f"--dataset {path}: reading Parquet needs pyarrow: "
                         f"{EXTRA_HINT}") from None
    files = [path] if path.is_file() else sorted(path.glob("*.parquet"))
    try:
        schemas = [pq.read_schema(file) for file in files]
    except Exception as error:  # pyarrow's errors name no common base for a bad file
        raise UsageError(f"--dataset {path}: not a readable Parquet file "
                         f"({str(error).splitlines()[0]})") from None
    for file, schema in zip(files[1:], schemas[1:], strict=True):
        if schema.names != schemas[0].names:
            raise UsageError(f"--dataset {file}: its columns ({', '.join(schema.names)}) "
                             f"differ from {files[0].name}'s ({', '.join(schemas[0].names)})")

    def batches() -> Batches:
        for file in files:
            line = 1
            for batch in pq.ParquetFile(file).iter_batches(batch_size=_BATCH):
                yield file, line, batch.to_pydict()
                line += batch.num_rows

    return files, schemas[0], {}, batches


def _hf(path: Path):
    try:
        import datasets
    except ImportError:
        raise UsageError(f"--dataset {path}: a Hugging Face dataset folder needs the datasets "
                         f"package: {EXTRA_HINT}") from None
    if (path / "dataset_dict.json").is_file():
        splits = sorted(p.name for p in path.iterdir() if p.is_dir())
        raise UsageError(f"--dataset {path}: a DatasetDict of splits ({', '.join(splits)}); "
                         f"give one split's folder, e.g. --dataset {path / splits[0]}"
                         if splits else f"--dataset {path}: a DatasetDict without splits")
    try:
        dataset = datasets.load_from_disk(str(path))
    except Exception as error:  # datasets raises many kinds for a damaged folder
        raise UsageError(f"--dataset {path}: not a readable Hugging Face dataset folder "
                         f"({str(error).splitlines()[0] if str(error) else type(error).__name__})"
                         ) from None
    labels = {name: feature.int2str for name, feature in dataset.features.items()
              if isinstance(feature, datasets.ClassLabel)}
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".arrow", ".json"))
    schema = dataset.data.schema
    arrow = dataset.with_format("arrow")

    def batches() -> Batches:
        line = 1
        for table in arrow.iter(batch_size=_BATCH):
            yield path, line, table.to_pydict()
            line += table.num_rows

    return files, schema, labels, batches
