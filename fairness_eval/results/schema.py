"""The results document (results.json) as a tree of frozen records: the contract between stages.

docs/results-schema.md describes every key; each record below mirrors one block of it, with
the same field names. `ResultsDocument.from_json` is the one reader: it checks
`schema_version` and turns any malformed shape into a UsageError naming the file and key.
`ResultsDocument.to_json` is the one writer: the document exactly as the schema lays it
out. The statistics stage produces the `overall`, `bootstrap`, `inter_annotator_iou` and
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
from .conditions_record import AdjustmentRecord, ConditionsRecord
from .names import LOWER_IS_BETTER_METRICS, RESULTS_FILE, SCHEMA_VERSION
from .provenance import (
    ConfigRecord,
    DatasetRecord,
    ModelRecord,
    SkippedRow,
    TableHashes,
    TableSource,
    without_absent,
)
from .reading import Node
from .settings_record import RecordedSettings

DOCUMENT_KINDS = ("run", "table")


def _interval_json(interval: Interval | None) -> list[float | None] | None:
    return None if interval is None else list(interval)


@dataclass(frozen=True)
class Overall:
    """All evaluated images together (for a table: only the given average, as `value`)."""

    n: int | None = None
    mean_iou: float | None = None
    pooled_iou: float | None = None
    ci: Interval | None = None  # bootstrap interval of the chosen statistic
    value: float | None = None  # the chosen statistic
    both_empty: int | None = None  # images with empty truth and prediction (IoU := 1)
    note: str | None = None

    @classmethod
    def from_json(cls, node: Node) -> Overall:
        node.mapping()
        return cls(n=node.get("n").optional_count(),
                   mean_iou=node.get("mean_iou").optional_number(),
                   pooled_iou=node.get("pooled_iou").optional_number(),
                   ci=node.get("ci").interval(), value=node.get("value").optional_number(),
                   both_empty=node.get("both_empty").optional_count(),
                   note=node.get("note").optional_text())

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "mean_iou": self.mean_iou, "pooled_iou": self.pooled_iou,
                "ci": _interval_json(self.ci), "value": self.value,
                "both_empty": self.both_empty, "note": self.note}


@dataclass(frozen=True)
class BootstrapRecord:
    """How every interval of the run was drawn; the seed makes them reproducible."""

    method: str | None = None  # "bca" or "percentile"
    resamples: int | None = None
    confidence: float | None = None
    seed: int | None = None
    statistic: str | None = None  # "mean" or "pooled"
    # What the criteria judge: "iou" (absent), "boundary_iou" or "flicker" (lower is better).
    metric: str | None = None
    # What was resampled: images (absent), or "clip" for a video run (a cluster bootstrap:
    # clips within each group; n counts clips).
    unit: str | None = None

    @classmethod
    def from_json(cls, node: Node) -> BootstrapRecord | None:
        if node.value is None:
            return None
        node.mapping()
        return cls(method=node.get("method").optional_text(),
                   resamples=node.get("resamples").optional_count(),
                   confidence=node.get("confidence").optional_number(),
                   seed=node.get("seed").optional_count(),
                   statistic=node.get("statistic").optional_text(),
                   metric=node.get("metric").optional_text(),
                   unit=node.get("unit").optional_text())

    def to_json(self) -> dict[str, Any]:
        found = {"method": self.method, "resamples": self.resamples,
                 "confidence": self.confidence, "seed": self.seed, "statistic": self.statistic}
        # Written only when not the default, so image runs judging IoU keep their shape.
        if self.metric not in (None, "iou"):
            found["metric"] = self.metric
        if self.unit not in (None, "image"):
            found["unit"] = self.unit
        return found


@dataclass(frozen=True)
class FamilywiseRecord:
    """How the gate's statistical verdicts were controlled across the run's checks."""

    method: str  # "holm" or "none" (each check at the run's confidence)
    checks: int  # the checks in the family: gated groups x gateable criteria

    @classmethod
    def from_json(cls, node: Node) -> FamilywiseRecord | None:
        if node.value is None:
            return None
        node.mapping()
        return cls(method=node.require("method").choice(("holm", "none")),
                   checks=node.require("checks").count())

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "checks": self.checks}


@dataclass(frozen=True)
class InterAnnotatorIoU:
    """The human agreement criterion (b) is measured against."""

    value: float | None = None  # None: not available, criterion (b) not evaluated
    ci: Interval | None = None
    source: str | None = None  # "dataset", "option" or None
    n_images: int | None = None
    annotators: tuple[str, ...] = ()
    note: str | None = None

    @classmethod
    def from_json(cls, node: Node) -> InterAnnotatorIoU:
        if node.value is None:
            return cls()
        node.mapping()
        return cls(value=node.get("value").optional_number(), ci=node.get("ci").interval(),
                   source=node.get("source").optional_text(),
                   n_images=node.get("n_images").optional_count(),
                   annotators=node.get("annotators").texts(),
                   note=node.get("note").optional_text())

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "ci": _interval_json(self.ci), "source": self.source,
                "n_images": self.n_images, "annotators": list(self.annotators),
                "note": self.note}


@dataclass(frozen=True)
class ResultsDocument:
    """results.json: what was evaluated, how, and every figure and verdict (the contract)."""

    overall: Overall
    attributes: Mapping[str, AttributeAssessment]  # in the document's order
    schema_version: str = SCHEMA_VERSION
    kind: str = "run"  # "run" (images evaluated) or "table" (card --from-table)
    model: ModelRecord | None = None
    dataset: DatasetRecord | None = None
    settings: RecordedSettings = field(default_factory=RecordedSettings)
    config: ConfigRecord | None = None
    versions: Mapping[str, Any] | None = None  # of everything that can change a number
    command: str | None = None
    started: str | None = None  # UTC, "2026-11-23T17:00:00Z"
    finished: str | None = None
    table: TableSource | None = None  # kind "table" only
    bootstrap: BootstrapRecord | None = None  # None for a published table
    inter_annotator_iou: InterAnnotatorIoU = field(default_factory=InterAnnotatorIoU)
    conditions: ConditionsRecord | None = None  # --conditions only (results/conditions_record.py)
    adjustment: AdjustmentRecord | None = None  # --adjust-for only
    tables: TableHashes | None = None  # SHA-256 of the tables written beside it
    # None: a document from before family-wise control (each check at its confidence)
    familywise: FamilywiseRecord | None = None

    _OPTIONAL = ("model", "dataset", "config", "versions", "command", "started", "finished",
                 "table", "conditions", "adjustment", "tables", "familywise")

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

    # -- the one reader and the one writer --------------------------------------------

    @classmethod
    def from_json(cls, data: Any, source: str = RESULTS_FILE) -> ResultsDocument:
        """The document in `data` (parsed JSON); `source` names it in error messages."""
        try:
            return cls._from_json(data, source)
        except RecursionError:
            raise UsageError(f"{source}: nested too deeply to be a results document") from None

    @classmethod
    def _from_json(cls, data: Any, source: str) -> ResultsDocument:
        node = Node(data, source)
        if not isinstance(data, Mapping) or "schema_version" not in data:
            raise UsageError(f"{source}: not a fairness-eval results document "
                             "(no schema_version)")
        version = str(data["schema_version"])
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise UsageError(f"{source}: schema version {version} is not readable by this "
                             f"fairness-eval (expects {SCHEMA_VERSION})")
        node.get("schema_version").text()
        attributes = node.require("attributes")
        return cls(
            schema_version=version,
            kind=node.get("kind").optional_choice(DOCUMENT_KINDS) or "run",
            model=ModelRecord.from_json(node.get("model")),
            dataset=DatasetRecord.from_json(node.get("dataset")),
            settings=RecordedSettings.from_json(node.get("settings")),
            config=ConfigRecord.from_json(node.get("config")),
            versions=None if node.get("versions").optional_mapping() is None
            else node.get("versions").plain(),
            command=node.get("command").optional_text(),
            started=node.get("started").optional_text(),
            finished=node.get("finished").optional_text(),
            table=TableSource.from_json(node.get("table")),
            overall=Overall.from_json(node.require("overall")),
            bootstrap=BootstrapRecord.from_json(node.get("bootstrap")),
            inter_annotator_iou=InterAnnotatorIoU.from_json(node.get("inter_annotator_iou")),
            attributes={name: AttributeAssessment.from_json(name, block)
                        for name, block in attributes.items()},
            conditions=ConditionsRecord.from_json(node.get("conditions")),
            adjustment=AdjustmentRecord.from_json(node.get("adjustment")),
            tables=TableHashes.from_json(node.get("tables")),
            familywise=FamilywiseRecord.from_json(node.get("familywise")),
        )

    def to_json(self) -> dict[str, Any]:
        """The document as plain JSON values, keys in the order docs/results-schema.md gives."""
        document = {
            "schema_version": self.schema_version,
            "kind": self.kind,
            "model": None if self.model is None else self.model.to_json(),
            "dataset": None if self.dataset is None else self.dataset.to_json(),
            "settings": self.settings.to_json(),
            "config": None if self.config is None else self.config.to_json(),
            "versions": None if self.versions is None else dict(self.versions),
            "command": self.command,
            "started": self.started,
            "finished": self.finished,
            "table": None if self.table is None else self.table.to_json(),
            "overall": self.overall.to_json(),
            "bootstrap": None if self.bootstrap is None else self.bootstrap.to_json(),
            "inter_annotator_iou": self.inter_annotator_iou.to_json(),
            "attributes": {name: a.to_json() for name, a in self.attributes.items()},
            "conditions": None if self.conditions is None else self.conditions.to_json(),
            "adjustment": None if self.adjustment is None else self.adjustment.to_json(),
            "tables": None if self.tables is None else self.tables.to_json(),
            "familywise": None if self.familywise is None else self.familywise.to_json(),
        }
        return without_absent(document, self._OPTIONAL)



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
