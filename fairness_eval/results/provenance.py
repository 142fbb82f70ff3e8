"""What a results document says was evaluated, and how: the model file, the dataset (or the
published table), the configuration, and the tables written beside it. Frozen records of
results.json's `model`, `dataset`, `table`, `config` and `tables` blocks
(docs/results-schema.md), read and written by the contract's one codec (codec.py): the
fields, in order, are the block's keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .codec import JsonRecord, json_field

# What predicted a run's masks: a model run here, or predictions supplied (--predictions).
MODEL_SOURCES = ("model", "predictions")
# Keys written only when set: documents written before they existed read and write back as
# they were.
_UNLESS_NONE = (None,)


@dataclass(frozen=True)
class ModelRecord(JsonRecord):
    """What predicted the masks (absent for published tables): a model file, or a folder of
    supplied predictions (`source` "predictions": no model ran, no tensors)."""

    name: str | None = None  # registry name, the spec's name, the file's stem (or predictions)
    path: str | None = None  # the model file, or the predictions folder
    sha256: str | None = None  # of the model file, or of the predictions folder
    size_bytes: int | None = None
    input_shape: tuple[int, ...] | None = None
    input_dtype: str | None = None
    output_shape: tuple[int, ...] | None = None
    output_dtype: str | None = None
    output_layout: str | None = None  # probability, two_class_logits, softmax, logit, labels
    # "model" or "predictions"; absent in earlier documents
    source: str | None = json_field(None, choices=MODEL_SOURCES, omit=_UNLESS_NONE)
    # the effective model spec (models/spec.py)
    spec: Mapping[str, Any] | None = json_field(None, omit=_UNLESS_NONE)
    # litert-xnnpack, litert-builtin or onnxruntime X.Y.Z
    runtime: str | None = json_field(None, omit=_UNLESS_NONE)
    # prediction files in the folder (source "predictions")
    files: int | None = json_field(None, omit=_UNLESS_NONE)

    @property
    def supplied(self) -> bool:
        """Whether the masks were supplied (--predictions) rather than predicted here."""
        return self.source == "predictions"


@dataclass(frozen=True)
class SkippedRow(JsonRecord):
    """A dataset row that was not evaluated, and why."""

    row: int | None
    image: str | None
    reason: str = json_field(read_default="")


@dataclass(frozen=True)
class SubsetRecord(JsonRecord):
    """The part of the dataset a run evaluated (--limit or --sample): the N asked for (one
    of `limit`, `sample`), a sample's seed, the rows the dataset had and the rows taken."""

    limit: int | None = json_field(None, omit=_UNLESS_NONE)  # the first N rows
    sample: int | None = json_field(None, omit=_UNLESS_NONE)  # N rows drawn with `seed`
    seed: int | None = json_field(None, omit=_UNLESS_NONE)
    available: int | None = None
    taken: int | None = None


@dataclass(frozen=True)
class DatasetRecord(JsonRecord):
    """The images evaluated (for a published table: the table file, by name and hash)."""

    path: str | None = None
    name: str | None = None
    sha256: str | None = None  # over the manifest, the sorted file list and the rows' content
    rows: int | None = json_field(None, omit=_UNLESS_NONE)
    evaluated: int | None = json_field(None, omit=_UNLESS_NONE)
    skipped: tuple[SkippedRow, ...] | None = json_field(None, omit=_UNLESS_NONE)
    attribute_columns: tuple[str, ...] | None = json_field(None, omit=_UNLESS_NONE)
    notes: tuple[str, ...] | None = json_field(None, omit=_UNLESS_NONE)
    # COCO: the --images folder, when given
    images_dir: str | None = json_field(None, omit=_UNLESS_NONE)
    # VOC devkit: the --image-set name, when given
    image_set: str | None = json_field(None, omit=_UNLESS_NONE)
    # --limit or --sample: the part evaluated (`rows` then counts the rows taken)
    subset: SubsetRecord | None = json_field(None, omit=_UNLESS_NONE)
    # a table dataset (Hugging Face, Parquet): the columns read as image and mask
    table_columns: Mapping[str, str] | None = json_field(None, omit=_UNLESS_NONE)


@dataclass(frozen=True)
class TableSource(JsonRecord):
    """The published per-group table behind a document of kind "table"."""

    path: str | None
    sha256: str | None
    rows: int | None
    units: str | None  # "percent" or "fraction"


@dataclass(frozen=True)
class ConfigRecord(JsonRecord):
    """Where the configuration came from and the hash of the settings that change a number."""

    source: str | None = None  # the file, or None for defaults and the command line
    sha256: str | None = None  # of the canonical JSON of `effective`
    effective: Mapping[str, Any] | None = json_field(None, omit=_UNLESS_NONE)


@dataclass(frozen=True)
class TableHashes(JsonRecord):
    """The SHA-256 of each table written beside results.json (per_image.csv; a video run's
    per_frame.csv and per_clip.csv; conditions.csv), of the bytes as written. The readers
    that build figures from a table (the card, `compare`) refuse one that no longer matches:
    an edited cell would otherwise move a mean the document does not show."""

    sha256: Mapping[str, str] = json_field(whole=True)  # file name -> hex digest


__all__ = ["ConfigRecord", "DatasetRecord", "ModelRecord", "SkippedRow", "SubsetRecord",
           "TableHashes", "TableSource"]
