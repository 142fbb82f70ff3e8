"""What a results document says was evaluated, and how: the model file, the dataset (or the
published table), the configuration, and the tables written beside it. Frozen records of
results.json's `model`, `dataset`, `table`, `config` and `tables` blocks
(docs/results-schema.md), each with a checked `from_json` and a `to_json` that writes the
block as the schema lays it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .reading import Node

# What predicted a run's masks: a model run here, or predictions supplied (--predictions).
MODEL_SOURCES = ("model", "predictions")


def without_absent(block: dict[str, Any], optional: tuple[str, ...]) -> dict[str, Any]:
    """`block` without the optional keys whose value is None (they were absent when read)."""
    return {k: v for k, v in block.items() if not (k in optional and v is None)}


@dataclass(frozen=True)
class ModelRecord:
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
    source: str | None = None  # "model" or "predictions"; absent in earlier documents
    spec: Mapping[str, Any] | None = None  # the effective model spec (models/spec.py)
    runtime: str | None = None  # litert-xnnpack, litert-builtin or onnxruntime X.Y.Z
    files: int | None = None  # prediction files in the folder (source "predictions")

    _OPTIONAL = ("source", "spec", "runtime", "files")

    @property
    def supplied(self) -> bool:
        """Whether the masks were supplied (--predictions) rather than predicted here."""
        return self.source == "predictions"

    @classmethod
    def from_json(cls, node: Node) -> ModelRecord | None:
        if node.value is None:
            return None
        node.mapping()
        shapes = {key: None if node.get(key).value is None else node.get(key).counts()
                  for key in ("input_shape", "output_shape")}
        spec = node.get("spec")
        spec.optional_mapping()
        return cls(name=node.get("name").optional_text(), path=node.get("path").optional_text(),
                   sha256=node.get("sha256").optional_text(),
                   size_bytes=node.get("size_bytes").optional_count(),
                   input_dtype=node.get("input_dtype").optional_text(),
                   output_dtype=node.get("output_dtype").optional_text(),
                   output_layout=node.get("output_layout").optional_text(),
                   source=node.get("source").optional_choice(MODEL_SOURCES),
                   spec=None if spec.value is None else spec.plain(),
                   runtime=node.get("runtime").optional_text(),
                   files=node.get("files").optional_count(), **shapes)

    def to_json(self) -> dict[str, Any]:
        block = {"name": self.name, "path": self.path, "sha256": self.sha256,
                 "size_bytes": self.size_bytes,
                 "input_shape": None if self.input_shape is None else list(self.input_shape),
                 "input_dtype": self.input_dtype,
                 "output_shape": None if self.output_shape is None else list(self.output_shape),
                 "output_dtype": self.output_dtype, "output_layout": self.output_layout,
                 "source": self.source, "spec": self.spec, "runtime": self.runtime,
                 "files": self.files}
        return without_absent(block, self._OPTIONAL)


@dataclass(frozen=True)
class SkippedRow:
    """A dataset row that was not evaluated, and why."""

    row: int | None
    image: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "image": self.image, "reason": self.reason}


@dataclass(frozen=True)
class DatasetRecord:
    """The images evaluated (for a published table: the table file, by name and hash)."""

    path: str | None = None
    name: str | None = None
    sha256: str | None = None  # over the manifest, the sorted file list and the rows' content
    rows: int | None = None
    evaluated: int | None = None
    skipped: tuple[SkippedRow, ...] | None = None
    attribute_columns: tuple[str, ...] | None = None
    notes: tuple[str, ...] | None = None
    images_dir: str | None = None  # COCO: the --images folder, when given
    image_set: str | None = None  # VOC devkit: the --image-set name, when given

    _OPTIONAL = ("rows", "evaluated", "skipped", "attribute_columns", "notes", "images_dir",
                 "image_set")

    @classmethod
    def from_json(cls, node: Node) -> DatasetRecord | None:
        if node.value is None:
            return None
        node.mapping()
        skipped = node.get("skipped")
        return cls(
            path=node.get("path").optional_text(), name=node.get("name").optional_text(),
            sha256=node.get("sha256").optional_text(), rows=node.get("rows").optional_count(),
            evaluated=node.get("evaluated").optional_count(),
            skipped=None if skipped.value is None else tuple(
                SkippedRow(row=s.get("row").optional_count(),
                           image=s.get("image").optional_text(),
                           reason=s.get("reason").optional_text() or "")
                for s in skipped.elements()),
            attribute_columns=node.get("attribute_columns").optional_texts(),
            notes=node.get("notes").optional_texts(),
            images_dir=node.get("images_dir").optional_text(),
            image_set=node.get("image_set").optional_text(),
        )

    def to_json(self) -> dict[str, Any]:
        block = {
            "path": self.path, "name": self.name, "sha256": self.sha256, "rows": self.rows,
            "evaluated": self.evaluated,
            "skipped": None if self.skipped is None else [s.to_json() for s in self.skipped],
            "attribute_columns": None if self.attribute_columns is None
            else list(self.attribute_columns),
            "notes": None if self.notes is None else list(self.notes),
            "images_dir": self.images_dir, "image_set": self.image_set,
        }
        return without_absent(block, self._OPTIONAL)


@dataclass(frozen=True)
class TableSource:
    """The published per-group table behind a document of kind "table"."""

    path: str | None
    sha256: str | None
    rows: int | None
    units: str | None  # "percent" or "fraction"

    @classmethod
    def from_json(cls, node: Node) -> TableSource | None:
        if node.value is None:
            return None
        node.mapping()
        return cls(path=node.get("path").optional_text(), sha256=node.get("sha256").optional_text(),
                   rows=node.get("rows").optional_count(), units=node.get("units").optional_text())

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "rows": self.rows, "units": self.units}


@dataclass(frozen=True)
class ConfigRecord:
    """Where the configuration came from and the hash of the settings that change a number."""

    source: str | None = None  # the file, or None for defaults and the command line
    sha256: str | None = None  # of the canonical JSON of `effective`
    effective: Mapping[str, Any] | None = None

    @classmethod
    def from_json(cls, node: Node) -> ConfigRecord | None:
        if node.value is None:
            return None
        node.mapping()
        effective = node.get("effective")
        effective.optional_mapping()
        return cls(source=node.get("source").optional_text(),
                   sha256=node.get("sha256").optional_text(),
                   effective=None if effective.value is None else effective.plain())

    def to_json(self) -> dict[str, Any]:
        block = {"source": self.source, "sha256": self.sha256, "effective": self.effective}
        return without_absent(block, ("effective",))


@dataclass(frozen=True)
class TableHashes:
    """The SHA-256 of each table written beside results.json (per_image.csv; a video run's
    per_frame.csv and per_clip.csv; conditions.csv), of the bytes as written. The readers
    that build figures from a table (the card, `compare`) refuse one that no longer matches:
    an edited cell would otherwise move a mean the document does not show."""

    sha256: Mapping[str, str]  # file name -> hex digest

    @classmethod
    def from_json(cls, node: Node) -> TableHashes | None:
        if node.value is None:
            return None
        node.mapping()
        return cls(sha256={name: value.text() for name, value in node.items()})

    def to_json(self) -> dict[str, str]:
        return dict(self.sha256)


__all__ = ["ConfigRecord", "DatasetRecord", "ModelRecord", "SkippedRow", "TableHashes",
           "TableSource", "without_absent"]
