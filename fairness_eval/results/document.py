"""The results of a run: the per-image table and the versioned results.json document.

`docs/results-schema.md` is the contract. This module assembles the document from the
per-image table and the statistics stage, writes the run folder atomically, and reads it
back for the reporters, the gate and `compare`, which never recompute a number.
"""

from __future__ import annotations

import json
import math
import os
import platform
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import UsageError
from .jsonvalues import to_jsonable

SCHEMA_VERSION = "2.0"
RESULTS_NAME = "results.json"
PER_IMAGE_NAME = "per_image.csv"
NUMBER_COLUMNS = ("intersection", "union", "iou", "gt_area", "pred_area", "ignored_pixels")
BASE_COLUMNS = ("row", "image", "status", "reason", *NUMBER_COLUMNS, "both_empty",
                "content_sha256")


def per_image_table(rows: list[dict[str, Any]], dataset: Any) -> pd.DataFrame:
    """One row per dataset row (evaluated or skipped), in dataset order, attributes attached."""
    frame = pd.DataFrame(rows)
    for column in BASE_COLUMNS:
        if column not in frame:
            frame[column] = None
    attributes = {s.row: s.attributes for s in dataset.samples}
    for column in dataset.attribute_columns:
        frame[column] = [attributes.get(r, {}).get(column) if s == "ok" or r in attributes
                         else None for r, s in zip(frame["row"], frame["status"], strict=True)]
    annotator_columns = sorted(c for c in frame.columns if c.startswith("iou_"))
    extra = ["inter_annotator_iou"] if "inter_annotator_iou" in frame else []
    ordered = [*BASE_COLUMNS, *dataset.attribute_columns, *annotator_columns, *extra]
    frame = frame[ordered + [c for c in frame.columns if c not in ordered]]
    frame["_missing_row"] = frame["row"].isna()
    frame = frame.sort_values(["_missing_row", "row"], kind="stable").drop(columns="_missing_row")
    for column in ("intersection", "union", "gt_area", "pred_area", "ignored_pixels"):
        frame[column] = frame[column].astype("Int64")
    frame["row"] = frame["row"].astype("Int64")
    return frame.reset_index(drop=True)


def versions() -> dict[str, str]:
    """Versions of everything that can change a number."""
    import cv2

    found = {"fairness_eval": __version__, "python": platform.python_version(),
             "numpy": np.__version__, "opencv": cv2.__version__, "pandas": pd.__version__}
    for package, key in (("ai-edge-litert", "litert"), ("scipy", "scipy")):
        try:
            found[key] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[key] = "not installed"
    return found


def build_document(*, per_image: pd.DataFrame, statistics: dict[str, Any], dataset: Any,
                   model: Any, spec: Any, settings: Any, command: str, started: datetime,
                   finished: datetime, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The results.json document of an image run, from its table and its statistics."""
    evaluated = per_image[per_image["status"] == "ok"]
    skipped = per_image[per_image["status"] != "ok"]
    statistics = dict(statistics)
    annotators = sorted({name for s in dataset.samples for name in s.annotators})
    if statistics.get("inter_annotator_iou", {}).get("source") == "dataset":
        statistics["inter_annotator_iou"]["annotators"] = annotators
    overall = statistics.get("overall", {})
    overall["both_empty"] = int(evaluated["both_empty"].astype(bool).sum())
    content = "\n".join(f"{r}:{h}" for r, h in zip(evaluated["row"], evaluated["content_sha256"],
                                                     strict=True))
    import hashlib

    document = {
        "schema_version": SCHEMA_VERSION,
        "kind": "run",
        "model": {
            "name": model.name, "path": str(model.path), "sha256": model.sha256,
            "size_bytes": model.size_bytes,
            "input_shape": list(spec.input_shape), "input_dtype": spec.input_dtype,
            "output_shape": list(spec.output_shape), "output_dtype": spec.output_dtype,
            "output_layout": spec.output_layout,
        },
        "dataset": {
            "path": str(Path(dataset.source).resolve()), "name": dataset.name,
            "sha256": hashlib.sha256(
                (dataset.source_sha256 + "\n" + content).encode()).hexdigest(),
            "rows": dataset.rows, "evaluated": len(evaluated), "skipped": [
                {"row": _plain(r), "image": _plain(i), "reason": str(why)}
                for r, i, why in zip(skipped["row"], skipped["image"], skipped["reason"],
                                     strict=True)
            ],
            "attribute_columns": list(dataset.attribute_columns),
            "notes": list(dataset.notes),
        },
        "settings": settings.as_dict(),
        "config": config or {"source": None, "sha256": None},
        "versions": versions(),
        "command": command,
        "started": _timestamp(started),
        "finished": _timestamp(finished),
        **statistics,
    }
    return to_jsonable(document)


def build_table_document(statistics: dict[str, Any], *, table_path: Path,
                         settings: dict[str, Any], command: str, started: datetime,
                         finished: datetime) -> dict[str, Any]:
    """The results.json document of `card --from-table`: the criteria without images."""
    import hashlib

    document = {
        "schema_version": SCHEMA_VERSION,
        "kind": "table",
        "dataset": {"path": str(Path(table_path).resolve()), "name": Path(table_path).stem,
                    "sha256": hashlib.sha256(Path(table_path).read_bytes()).hexdigest()},
        "settings": settings,
        "config": {"source": None, "sha256": None},
        "versions": versions(),
        "command": command,
        "started": _timestamp(started),
        "finished": _timestamp(finished),
        **{k: v for k, v in statistics.items() if k not in ("schema_version", "kind")},
    }
    return to_jsonable(document)


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value


def write_run(run_dir: Path, document: dict[str, Any], per_image: pd.DataFrame | None) -> None:
    """Write results.json (and per_image.csv) atomically into the run folder."""
    # An earlier results.json (--overwrite, --resume) must not outlive a failed write and
    # sit beside a per_image.csv it does not describe; results.json is written last.
    (run_dir / RESULTS_NAME).unlink(missing_ok=True)
    if per_image is not None:
        _atomic_write(run_dir / PER_IMAGE_NAME, per_image.to_csv(index=False).encode())
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    _atomic_write(run_dir / RESULTS_NAME, text.encode())


def _atomic_write(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def read_results(run_dir: Path | str) -> dict[str, Any]:
    """The results document of a run folder (or a results.json path)."""
    path = Path(run_dir)
    if path.is_dir():
        path = path / RESULTS_NAME
    if not path.exists():
        raise UsageError(f"{path}: not found (is this a fairness-eval run folder?)")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"{path}: not a valid results document ({error})") from None
    if not isinstance(document, dict) or "schema_version" not in document:
        raise UsageError(f"{path}: not a fairness-eval results document (no schema_version)")
    major = str(document["schema_version"]).split(".")[0]
    if major != SCHEMA_VERSION.split(".")[0]:
        raise UsageError(f"{path}: schema version {document['schema_version']} is not "
                         f"readable by this fairness-eval (expects {SCHEMA_VERSION})")
    return document


def read_per_image(run_dir: Path | str) -> pd.DataFrame:
    """The per-image table of a run folder; attribute values stay text ("" = not annotated)."""
    path = Path(run_dir) / PER_IMAGE_NAME
    if not path.exists():
        raise UsageError(f"{path}: not found (runs from --from-table have no per-image table)")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    numeric = [c for c in frame.columns if c in NUMBER_COLUMNS or c == "row"
               or c.startswith("iou_") or c == "inter_annotator_iou"]
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
