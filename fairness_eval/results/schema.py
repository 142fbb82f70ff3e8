"""The results document (results.json) as a tree of frozen records: the contract between stages.

docs/results-schema.md describes every key; each record below mirrors one block of it, with
the same field names in the same order. `ResultsDocument.from_json` is the one reader: it
checks `schema_version`, then the contract's codec (codec.py) reads the tree from the
records' field types, turning any malformed shape into a UsageError naming the file and
key. `ResultsDocument.to_json` is the one writer: the document exactly as the schema lays
it out. The statistics stage produces the `overall`, `bootstrap`, `inter_annotator_iou` and
`attributes` blocks (and `conditions` and `adjustment` when asked for: conditions_record.py);
results/document.py adds the run's facts and writes the file; the reporters, the gate and
`compare` read typed attributes, never raw JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from .assessment import AttributeAssessment, Interval
from .codec import JsonRecord, json_field, read_record
from .conditions_record import AdjustmentRecord, ConditionsRecord
from .label_agreement import LabelAgreement
from .names import LOWER_IS_BETTER_METRICS, RESULTS_FILE, SCHEMA_VERSION
from .provenance import (
    ConfigRecord,
    DatasetRecord,
    ModelRecord,
    SkippedRow,
    TableHashes,
    TableSource,
)
from .reading import Node
from .settings_record import RecordedSettings

DOCUMENT_KINDS = ("run", "table")


# Blocks written only when present: documents written before they existed read and write
# back as they were.
_UNLESS_NONE = (None,)


@dataclass(frozen=True)
class Overall(JsonRecord):
    """All evaluated images together (for a table: only the given average, as `value`)."""

    n: int | None = None
    mean_iou: float | None = None
    pooled_iou: float | None = None
    ci: Interval | None = None  # bootstrap interval of the chosen statistic
    value: float | None = None  # the chosen statistic
    both_empty: int | None = None  # images with empty truth and prediction (IoU := 1)
    note: str | None = None


@dataclass(frozen=True)
class BootstrapRecord(JsonRecord):
    """How every interval of the run was drawn; the seed makes them reproducible."""

    method: str | None = None  # "bca" or "percentile"
    resamples: int | None = None
    confidence: float | None = None
    seed: int | None = None
    statistic: str | None = None  # "mean" or "pooled"
    # What the criteria judge: "iou" (absent), "boundary_iou" or "flicker" (lower is better).
    # Written only when not the default, so image runs judging IoU keep their shape.
    metric: str | None = json_field(None, omit=(None, "iou"))
    # What was resampled: images (absent), or "clip" for a video run (a cluster bootstrap:
    # clips within each group; n counts clips).
    unit: str | None = json_field(None, omit=(None, "image"))


@dataclass(frozen=True)
class FamilywiseRecord(JsonRecord):
    """How the gate's statistical verdicts were controlled across the run's checks."""

    # "holm" or "none" (each check at the run's confidence)
    method: str = json_field(choices=("holm", "none"))
    checks: int  # the checks in the family: gated groups x gateable criteria


@dataclass(frozen=True)
class InterAnnotatorIoU(JsonRecord):
    """The human agreement criterion (b) is measured against."""

    value: float | None = None  # None: not available, criterion (b) not evaluated
    ci: Interval | None = None
    source: str | None = None  # "dataset", "option" or None
    n_images: int | None = None
    annotators: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResultsDocument(JsonRecord):
    """results.json: what was evaluated, how, and every figure and verdict (the contract)."""

    json_read_first = ("attributes",)  # a document without any is named as such first

    schema_version: str = SCHEMA_VERSION
    # "run" (images evaluated) or "table" (card --from-table)
    kind: str = json_field("run", choices=DOCUMENT_KINDS)
    model: ModelRecord | None = json_field(None, omit=_UNLESS_NONE)
    dataset: DatasetRecord | None = json_field(None, omit=_UNLESS_NONE)
    settings: RecordedSettings = field(default_factory=RecordedSettings)
    config: ConfigRecord | None = json_field(None, omit=_UNLESS_NONE)
    # of everything that can change a number
    versions: Mapping[str, Any] | None = json_field(None, omit=_UNLESS_NONE)
    command: str | None = json_field(None, omit=_UNLESS_NONE)
    started: str | None = json_field(None, omit=_UNLESS_NONE)  # UTC, "2026-11-23T17:00:00Z"
    finished: str | None = json_field(None, omit=_UNLESS_NONE)
    table: TableSource | None = json_field(None, omit=_UNLESS_NONE)  # kind "table" only
    overall: Overall
    bootstrap: BootstrapRecord | None = None  # None for a published table
    inter_annotator_iou: InterAnnotatorIoU = field(default_factory=InterAnnotatorIoU)
    attributes: Mapping[str, AttributeAssessment]  # in the document's order
    # --conditions only (results/conditions_record.py)
    conditions: ConditionsRecord | None = json_field(None, omit=_UNLESS_NONE)
    adjustment: AdjustmentRecord | None = json_field(None, omit=_UNLESS_NONE)  # --adjust-for
    # SHA-256 of the tables written beside it
    tables: TableHashes | None = json_field(None, omit=_UNLESS_NONE)
    # None: a document from before family-wise control (each check at its confidence)
    familywise: FamilywiseRecord | None = json_field(None, omit=_UNLESS_NONE)
    # --attribute-votes or count columns only: each voted attribute's label agreement
    label_agreement: Mapping[str, LabelAgreement] | None = json_field(None, omit=_UNLESS_NONE)

    # -- readings of the record -------------------------------------------------------

    @property
    def is_table(self) -> bool:
        return self.kind == "table"

    @property
    def confidence(self) -> float:
        """The confidence level of the document's intervals (0.95 when none is recorded)."""
        recorded = self.bootstrap.confidence if self.bootstrap else None
        return float(recorded) if recorded else 0.95

    @property
    def statistic(self) -> str:
        """The statistic the intervals and verdicts are about: "mean" or "pooled"."""
        recorded = self.bootstrap.statistic if self.bootstrap else None
        return recorded or self.settings.statistic or "mean"

    @property
    def metric(self) -> str:
        """What the criteria judge: "iou", "boundary_iou" or "flicker" (lower is better)."""
        return (self.bootstrap.metric if self.bootstrap else None) or "iou"

    @property
    def unit(self) -> str:
        """What n counts and the bootstrap resamples: "image", or "clip" for a video run."""
        return (self.bootstrap.unit if self.bootstrap else None) or "image"

    @property
    def lower_is_better(self) -> bool:
        """Whether a higher value of the judged metric is the worse one (flicker)."""
        return self.metric in LOWER_IS_BETTER_METRICS

    @property
    def sd_factor(self) -> float | None:
        """Criterion (a)'s factor as recorded (the attributes' own, else the setting)."""
        factors = {a.criterion_a.factor for a in self.attributes.values()} - {None}
        if len(factors) == 1:
            return factors.pop()
        return self.settings.sd_factor

    @property
    def sd_ddof(self) -> int | None:
        """The delta degrees of freedom of criterion (a)'s SD, as recorded."""
        recorded = {a.criterion_a.ddof for a in self.attributes.values()} - {None}
        if len(recorded) == 1:
            return recorded.pop()
        value = self.settings.values.get("sd_ddof")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def model_name(self) -> str | None:
        return self.model.name if self.model else None

    @property
    def evaluated_data(self) -> DatasetRecord | None:
        """What the figures come from: the dataset, or for a published table its file (name:
        the file's stem; path, sha256 and rows of the `table` block)."""
        if self.dataset is not None or self.table is None:
            return self.dataset
        path = self.table.path or ""
        stem = path.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
        return DatasetRecord(path=self.table.path, name=stem or None, sha256=self.table.sha256,
                             rows=self.table.rows)

    def gated_criteria(self, attribute: str) -> tuple[str, ...]:
        """The criteria the gate checks for `attribute`, as the run's settings recorded."""
        return self.settings.gated_criteria(attribute)

    def default_gate_on(self) -> str:
        """"point" when some attribute's verdict rests on point verdicts (a table without
        intervals), else "statistical"."""
        bases = {a.verdict_basis for a in self.attributes.values()}
        return "point" if "point" in bases else "statistical"

    # -- tables for a notebook (frames.py; pandas is imported only when one is built) ---

    @classmethod
    def load(cls, path: Any) -> ResultsDocument:
        """The results document of a run folder or results.json path (checked)."""
        from .frames import load

        return load(path)

    def by_group(self, attribute: str | None = None) -> Any:
        """One attribute's groups as a pandas DataFrame, one row each (frames.py)."""
        from .frames import by_group

        return by_group(self, attribute)

    def to_frame(self) -> Any:
        """Every attribute's groups as one long pandas DataFrame (frames.py)."""
        from .frames import to_frame

        return to_frame(self)

    # -- the one reader (the codec writes: `to_json`) ----------------------------------

    @classmethod
    def from_json(cls, data: Any, source: str = RESULTS_FILE,
                  key: str = "") -> ResultsDocument:
        """The document in `data` (parsed JSON); `source` names it in error messages.

        Before any block is read, the document must say it is one, in a schema version
        this fairness-eval reads."""
        if not isinstance(data, Mapping) or "schema_version" not in data:
            raise UsageError(f"{source}: not a fairness-eval results document "
                             "(no schema_version)")
        version = str(data["schema_version"])
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise UsageError(f"{source}: schema version {version} is not readable by this "
                             f"fairness-eval (expects {SCHEMA_VERSION})")
        try:
            return read_record(cls, Node(data, source, key))
        except RecursionError:
            raise UsageError(f"{source}: nested too deeply to be a results document") from None


def as_document(results: ResultsDocument | Mapping[str, Any],
                source: str = RESULTS_FILE) -> ResultsDocument:
    """`results` as a typed document: returned as is, or read (checked) from parsed JSON."""
    if isinstance(results, ResultsDocument):
        return results
    return ResultsDocument.from_json(results, source)


__all__ = ["BootstrapRecord", "ConfigRecord", "DatasetRecord", "FamilywiseRecord",
           "InterAnnotatorIoU",
           "ModelRecord", "Overall", "ResultsDocument", "SkippedRow", "TableSource",
           "as_document"]
