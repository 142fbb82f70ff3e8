"""The results of a run: the per-image table and the results document, assembled, written, read.

`docs/results-schema.md` is the contract and `schema.py` its typed form. This module
assembles the document from the per-image table and the statistics stage (whose blocks are
read through the contract's checked reader, so the typed document is the one thing
written), writes the run folder atomically, and reads it back for the reporters, the gate
and `compare`, which never recompute a number.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomicwrite import write_atomically
from ..errors import UsageError
from .csvtext import plain_header, read_back_text, spreadsheet_safe
from .jsonvalues import to_jsonable
from .names import (
    ANNOTATOR_IOU_PREFIX,
    CONDITIONS_FILE,
    COUNT_COLUMNS,
    IMAGE_COLUMN,
    INTER_ANNOTATOR_COLUMN,
    NUMBER_COLUMNS,
    PER_CLIP_FILE,
    PER_FRAME_FILE,
    PER_IMAGE_FILE,
    REASON_COLUMN,
    RESULTS_FILE,
    ROW_COLUMN,
    SCHEMA_VERSION,
    STATUS_COLUMN,
    STATUS_OK,
)
from .provenance import (
    ConfigRecord,
    DatasetRecord,
    ModelRecord,
    SkippedRow,
    SubsetRecord,
    TableHashes,
)
from .schema import ResultsDocument, as_document
from .settings_record import RecordedSettings
from .versions import versions  # defined there without pandas; re-exported

# Kept under their earlier names for the modules that import them from here.
RESULTS_NAME = RESULTS_FILE
PER_IMAGE_NAME = PER_IMAGE_FILE
# The tables whose recorded hashes `verify_tables` checks.
_CHECKED_TABLES = (PER_IMAGE_FILE, PER_FRAME_FILE, PER_CLIP_FILE, CONDITIONS_FILE)
BASE_COLUMNS = (ROW_COLUMN, IMAGE_COLUMN, STATUS_COLUMN, REASON_COLUMN, *NUMBER_COLUMNS,
                "both_empty", "content_sha256")

__all__ = ["BASE_COLUMNS", "NUMBER_COLUMNS", "PER_IMAGE_NAME", "RESULTS_NAME", "SCHEMA_VERSION",
           "build_document", "build_table_document", "model_record", "per_image_table",
           "read_per_image", "read_results", "to_jsonable", "verify_tables", "versions",
           "write_run"]


def per_image_table(rows: list[dict[str, Any]], dataset: Any) -> pd.DataFrame:
    """One row per dataset row (evaluated or skipped), in dataset order, attributes attached."""
    frame = pd.DataFrame(rows)
    for column in BASE_COLUMNS:
        if column not in frame:
            frame[column] = None
    attributes = {s.row: s.attributes for s in dataset.samples}
    for column in dataset.attribute_columns:
        frame[column] = [attributes.get(r, {}).get(column) if s == STATUS_OK or r in attributes
                         else None
                         for r, s in zip(frame[ROW_COLUMN], frame[STATUS_COLUMN], strict=True)]
    annotator_columns = sorted(c for c in frame.columns if c.startswith(ANNOTATOR_IOU_PREFIX))
    extra = [INTER_ANNOTATOR_COLUMN] if INTER_ANNOTATOR_COLUMN in frame else []
    ordered = [*BASE_COLUMNS, *dataset.attribute_columns, *annotator_columns, *extra]
    frame = frame[ordered + [c for c in frame.columns if c not in ordered]]
    frame["_missing_row"] = frame[ROW_COLUMN].isna()
    frame = frame.sort_values(["_missing_row", ROW_COLUMN], kind="stable").drop(
        columns="_missing_row")
    for column in COUNT_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    frame[ROW_COLUMN] = frame[ROW_COLUMN].astype("Int64")
    return frame.reset_index(drop=True)


def _statistics_document(statistics: Mapping[str, Any]) -> ResultsDocument:
    """The statistics stage's blocks (overall, bootstrap, inter_annotator_iou, attributes,
    and for a table its `table` block) read through the contract's checked reader."""
    blocks = {k: v for k, v in to_jsonable(statistics).items() if k != "schema_version"}
    return ResultsDocument.from_json({"schema_version": SCHEMA_VERSION, **blocks},
                                     source="the statistics stage")


def build_document(*, per_image: pd.DataFrame, statistics: Mapping[str, Any], dataset: Any,
                   model: Any, spec: Any = None, settings: Any, command: str,
                   started: datetime, finished: datetime,
                   config: Mapping[str, Any] | None = None) -> ResultsDocument:
    """The results document of an image run, from its table and its statistics.

    `model` is what predicted the masks (see `model_record`), `spec` its tensors when
    `model` does not carry them.

    `settings` is the run's validated settings (anything with `as_dict()`, or a mapping);
    `config` the configuration entry (source, sha256, effective) or None.
    """
    evaluated = per_image[per_image[STATUS_COLUMN] == STATUS_OK]
    skipped = per_image[per_image[STATUS_COLUMN] != STATUS_OK]
    parts = _statistics_document(statistics)
    iaa = parts.inter_annotator_iou
    if iaa.source == "dataset":
        annotators = sorted({name for s in dataset.samples for name in s.annotators})
        iaa = dataclasses.replace(iaa, annotators=tuple(annotators))
    overall = dataclasses.replace(
        parts.overall, both_empty=int(evaluated["both_empty"].astype(bool).sum()))
    content = "\n".join(f"{r}:{h}" for r, h in zip(evaluated[ROW_COLUMN],
                                                     evaluated["content_sha256"], strict=True))
    recorded = settings.as_dict() if hasattr(settings, "as_dict") else dict(settings)
    return dataclasses.replace(
        parts,
        kind="run",
        model=model_record(model, spec),
        dataset=DatasetRecord(
            path=str(Path(dataset.source).resolve()), name=dataset.name,
            sha256=hashlib.sha256(
                (dataset.source_sha256 + "\n" + content).encode()).hexdigest(),
            rows=int(dataset.rows), evaluated=len(evaluated),
            skipped=tuple(
                SkippedRow(row=_plain(r), image=_plain(i), reason=str(why))
                for r, i, why in zip(skipped[ROW_COLUMN], skipped[IMAGE_COLUMN],
                                     skipped[REASON_COLUMN], strict=True)),
            attribute_columns=tuple(dataset.attribute_columns),
            notes=tuple(dataset.notes),
            images_dir=_optional_text(getattr(dataset, "images_dir", None)),
            image_set=_optional_text(getattr(dataset, "image_set", None)),
            subset=_subset_record(getattr(dataset, "subset", None)),
            table_columns=getattr(dataset, "table_columns", None) or None,
        ),
        settings=RecordedSettings(to_jsonable(recorded)),
        config=_config_record(config),
        versions=versions(),
        command=command,
        started=_timestamp(started),
        finished=_timestamp(finished),
        overall=overall,
        inter_annotator_iou=iaa,
    )


def _subset_record(subset: Any) -> SubsetRecord | None:
    """The dataset block's `subset` from data/subset.py's Subset (None: every row)."""
    if subset is None:
        return None
    return SubsetRecord(
        limit=subset.requested if subset.method == "limit" else None,
        sample=subset.requested if subset.method == "sample" else None,
        seed=subset.seed, available=int(subset.available), taken=int(subset.taken))


def model_record(model: Any, tensors: Any = None) -> ModelRecord:
    """results.json's `model` block from what predicted the masks.

    `model` is the evaluation's ModelFacts (a model with its effective spec and runtime, or
    supplied predictions), or a ModelFile with `tensors` (its TensorSpec).
    """
    tensors = model if tensors is None else tensors

    def shape(name: str) -> tuple[int, ...] | None:
        found = getattr(tensors, name, None)
        return None if found is None else tuple(int(s) for s in found)

    spec = getattr(model, "spec", None)
    return ModelRecord(
        name=model.name, path=str(model.path), sha256=model.sha256,
        size_bytes=int(model.size_bytes),
        input_shape=shape("input_shape"), input_dtype=getattr(tensors, "input_dtype", None),
        output_shape=shape("output_shape"), output_dtype=getattr(tensors, "output_dtype", None),
        output_layout=getattr(tensors, "output_layout", None),
        source=getattr(model, "source", None),
        spec=None if spec is None else to_jsonable(dict(spec)),
        runtime=getattr(model, "runtime", None), files=getattr(model, "files", None))


def build_table_document(statistics: Mapping[str, Any], *, settings: Mapping[str, Any],
                         command: str, started: datetime, finished: datetime,
                         config: Mapping[str, Any] | None = None) -> ResultsDocument:
    """The results document of `card --from-table`: the criteria without images.

    The statistics' `table` block names the table file (no `dataset` block: no images were
    read, and `ResultsDocument.evaluated_data` gives the table as the data); `config` is the
    configuration entry (source, sha256, effective), as for a run.
    """
    parts = _statistics_document(statistics)
    return dataclasses.replace(
        parts,
        kind="table",
        settings=RecordedSettings(to_jsonable(dict(settings))),
        config=_config_record(config),
        versions=versions(),
        command=command,
        started=_timestamp(started),
        finished=_timestamp(finished),
    )


def _config_record(config: Mapping[str, Any] | None) -> ConfigRecord:
    if config is None:
        return ConfigRecord()
    return ConfigRecord(source=config.get("source"), sha256=config.get("sha256"),
                        effective=to_jsonable(config["effective"]) if "effective" in config
                        else None)


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value


def write_run(run_dir: Path, document: ResultsDocument | Mapping[str, Any],
              per_image: pd.DataFrame | None) -> None:
    """Write results.json (and per_image.csv) atomically into the run folder."""
    document = as_document(document, "the results document to write")
    # An earlier results.json (--overwrite, --resume) must not outlive a failed write and
    # sit beside a per_image.csv it does not describe; results.json is written last.
    (run_dir / RESULTS_FILE).unlink(missing_ok=True)
    hashes: dict[str, str] = {}
    if per_image is not None:  # text cells that a spreadsheet would run are marked as text
        data = spreadsheet_safe(per_image).to_csv(index=False).encode()
        write_atomically(run_dir / PER_IMAGE_FILE, data, durable=True)
        hashes[PER_IMAGE_FILE] = hashlib.sha256(data).hexdigest()
    # The run's other tables were written just before this, by their stages.
    for name in _tables_beside(document):
        if (run_dir / name).is_file():
            hashes[name] = hashlib.sha256((run_dir / name).read_bytes()).hexdigest()
    if hashes:
        document = dataclasses.replace(document, tables=TableHashes(hashes))
    text = json.dumps(document.to_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_atomically(run_dir / RESULTS_FILE, text.encode(), durable=True)


def _tables_beside(document: ResultsDocument) -> tuple[str, ...]:
    """The tables other than per_image.csv that `document`'s run wrote beside it."""
    names = (PER_FRAME_FILE, PER_CLIP_FILE) if document.unit == "clip" else ()
    return names + ((CONDITIONS_FILE,) if document.conditions is not None else ())


def verify_tables(run_dir: Path | str, document: ResultsDocument) -> None:
    """Refuse (UsageError, one line) a table beside results.json whose bytes are not the
    ones the document recorded when it was written: figures built from an edited table
    would not be the run's. A document written before hashes were recorded has none to
    check."""
    if document.tables is None:
        return
    for name, expected in document.tables.sha256.items():
        if name not in _CHECKED_TABLES:
            continue  # only fairness-eval's own table names; never a path
        path = Path(run_dir) / name
        try:
            found = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as error:
            raise UsageError(f"{path}: cannot be read ({error.strerror or error}); "
                             f"{RESULTS_FILE} records it") from None
        if found != expected:
            raise UsageError(f"{path}: changed since the run wrote it (SHA-256 {found[:12]}, "
                             f"{RESULTS_FILE} records {str(expected)[:12]}); its figures "
                             "would not be the run's: rerun, or restore the file")


def read_results(run_dir: Path | str) -> ResultsDocument:
    """The results document of a run folder (or a results.json path), checked and typed."""
    path = Path(run_dir)
    if path.is_dir():
        path = path / RESULTS_FILE
    if not path.exists():
        raise UsageError(f"{path}: not found (is this a fairness-eval run folder?)")
    from ..config.rules import MAX_RESULTS_BYTES  # here: config imports the contract
    from ..userfiles import read_user_file

    raw = read_user_file(path, MAX_RESULTS_BYTES, RESULTS_FILE)  # never /dev/zero whole
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise UsageError(f"{path}: not a valid results document ({error})") from None
    return ResultsDocument.from_json(data, str(path))


def read_per_image(run_dir: Path | str) -> pd.DataFrame:
    """The per-image table of a run folder; attribute values stay text ("" = not annotated)."""
    path = Path(run_dir) / PER_IMAGE_FILE
    if not path.exists():
        raise UsageError(f"{path}: not found (runs from --from-table have no per-image table)")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    plain_header(frame)
    numeric = [c for c in frame.columns
               if c in (*NUMBER_COLUMNS, ROW_COLUMN, INTER_ANNOTATOR_COLUMN)
               or c.startswith(ANNOTATOR_IOU_PREFIX)]
    read_back_text(frame, [c for c in frame.columns if c not in numeric])
    for column in numeric:
        values = pd.to_numeric(frame[column].replace("", None), errors="coerce")
        bad = values.isna() & (frame[column] != "")
        if bad.any():
            line = int(bad.to_numpy().nonzero()[0][0]) + 2  # header is line 1
            raise UsageError(f"{path}, line {line}: column {column!r} holds "
                             f"{frame[column].iloc[line - 2]!r}, not a number")
        frame[column] = values
    if "both_empty" in frame:
        frame["both_empty"] = frame["both_empty"] == "True"
    return frame
