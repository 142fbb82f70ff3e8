"""Capture conditions and adjusted figures in the contract: results.json's `conditions` and
`adjustment` blocks as frozen records, and conditions.csv.

`ConditionsRecord` holds, per attribute, condition and severity, each group's degraded
IoU, its paired change from clean and the disparate-degradation verdicts
(fairness/conditions_assessment.py computes them); `AdjustmentRecord` each group's raw figure beside
its figure standardised for a confounder (fairness/adjusted.py). Both blocks are absent
from runs that asked for neither. docs/results-schema.md documents every key.
conditions.csv holds one row per image, condition and severity (CONDITION_COLUMNS).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomicwrite import write_atomically
from ..errors import UsageError
from .csvtext import read_back_text, spreadsheet_safe
from .names import CONDITION_COLUMNS, CONDITIONS_FILE, GROUP_VERDICTS
from .reading import Node

if TYPE_CHECKING:  # pandas is imported where a table is read: parsing a command needs none
    import pandas as pd

Interval = tuple[float | None, float | None]
# The group name of the rows of an attribute's reference pool (fairness/degradation.py):
# shown to people, and read as the flag only in documents written before rows carried
# `reference` (a group in the data may take the same name).
REFERENCE_ROW = "(reference)"


def _interval(interval: Interval | None) -> list[float | None] | None:
    return None if interval is None else list(interval)


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class ConditionDefinition:
    """A condition evaluated and its severities (conditions/perturb.py defines each)."""

    condition: str
    parameter: str  # the severity's name: f, sigma, r, q or a
    severities: tuple[float, ...]


@dataclass(frozen=True)
class OverallDegradation:
    """Every evaluated image under one condition and severity."""

    condition: str
    severity: float
    n: int
    clean: float | None
    degraded: float | None
    degraded_ci: Interval | None
    change: float | None  # degraded - clean (negative: worse)
    change_ci: Interval | None  # paired bootstrap over the same images


@dataclass(frozen=True)
class GroupDegradation(OverallDegradation):
    """One group (or the reference pool, `reference` true) under one condition and severity."""

    group: str = ""
    excess_drop: float | None = None  # group drop - reference drop; None for the reference
    excess_drop_ci: Interval | None = None
    point: str = "not evaluated"
    statistical: str = "not evaluated"
    gated: bool = False  # judged: annotated and not smaller than the minimum group size
    reference: bool = False  # the reference pool's row, whatever its name


@dataclass(frozen=True)
class AttributeDegradation:
    """One attribute's (or crossing's) groups under every condition and severity."""

    kind: str  # "attribute" or "intersection"
    columns: tuple[str, ...] | None
    reference_groups: tuple[str, ...]
    min_group_size: int | None
    verdict: Mapping[str, str]  # form ("statistical", "point") -> worst judged verdict
    rows: tuple[GroupDegradation, ...]

    @property
    def groups(self) -> list[str]:
        """The groups in the card's order (the reference pool left out)."""
        return list(dict.fromkeys(r.group for r in self.rows if not r.reference))

    def series(self, condition: str, group: str) -> list[GroupDegradation]:
        """`group`'s rows under `condition`, in the order of the severities."""
        return [r for r in self.rows
                if r.condition == condition and r.group == group and not r.reference]

    def reference_series(self, condition: str) -> list[GroupDegradation]:
        """The reference pool's rows under `condition`, in the order of the severities."""
        return [r for r in self.rows if r.condition == condition and r.reference]


@dataclass(frozen=True)
class ConditionsRecord:
    """results.json's `conditions` block."""

    definitions: tuple[ConditionDefinition, ...]
    evaluations_per_image: int
    images: int
    threshold: float | None  # criterion (b)'s, against which an excess drop is judged
    inter_annotator_iou: float | None
    overall: tuple[OverallDegradation, ...]
    attributes: Mapping[str, AttributeDegradation]
    notes: tuple[str, ...] = ()

    @property
    def conditions(self) -> list[str]:
        return [d.condition for d in self.definitions]

    @classmethod
    def from_json(cls, node: Node) -> ConditionsRecord | None:
        if node.value is None:
            return None
        node.mapping()
        return cls(
            definitions=tuple(
                ConditionDefinition(d.require("condition").text(), d.require("parameter").text(),
                                    tuple(s.number() for s in d.require("severities").elements()))
                for d in node.require("definitions").elements()),
            evaluations_per_image=node.require("evaluations_per_image").count(),
            images=node.require("images").count(),
            threshold=node.get("threshold").optional_number(),
            inter_annotator_iou=node.get("inter_annotator_iou").optional_number(),
            overall=tuple(OverallDegradation(**_overall_fields(row))
                          for row in node.require("overall").elements()),
            attributes={name: _attribute_from_json(block)
                        for name, block in node.require("attributes").items()},
            notes=node.get("notes").texts(),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "definitions": [{"condition": d.condition, "parameter": d.parameter,
                             "severities": list(d.severities)} for d in self.definitions],
            "evaluations_per_image": self.evaluations_per_image,
            "images": self.images,
            "threshold": self.threshold,
            "inter_annotator_iou": self.inter_annotator_iou,
            "overall": [_overall_json(row) for row in self.overall],
            "attributes": {name: _attribute_json(a) for name, a in self.attributes.items()},
            "notes": list(self.notes),
        }


def _overall_fields(row: Node) -> dict[str, Any]:
    return {"condition": row.require("condition").text(),
            "severity": row.require("severity").number(), "n": row.require("n").count(),
            "clean": row.get("clean").optional_number(),
            "degraded": row.get("degraded").optional_number(),
            "degraded_ci": row.get("degraded_ci").interval(),
            "change": row.get("change").optional_number(),
            "change_ci": row.get("change_ci").interval()}


def _overall_json(row: OverallDegradation) -> dict[str, Any]:
    return {"condition": row.condition, "severity": row.severity, "n": row.n,
            "clean": row.clean, "degraded": row.degraded,
            "degraded_ci": _interval(row.degraded_ci), "change": row.change,
            "change_ci": _interval(row.change_ci)}


def _attribute_from_json(node: Node) -> AttributeDegradation:
    node.mapping()
    verdict = node.require("verdict")
    return AttributeDegradation(
        kind=node.require("kind").choice(("attribute", "intersection")),
        columns=node.get("columns").optional_texts(),
        reference_groups=node.get("reference_groups").texts(),
        min_group_size=node.get("min_group_size").optional_count(),
        verdict={form: verdict.require(form).choice(GROUP_VERDICTS)
                 for form in ("statistical", "point")},
        rows=tuple(_group_row(row) for row in node.require("rows").elements()),
    )


def _group_row(row: Node) -> GroupDegradation:
    group = row.require("group").text()
    return GroupDegradation(
        **_overall_fields(row), group=group,
        excess_drop=row.get("excess_drop").optional_number(),
        excess_drop_ci=row.get("excess_drop_ci").interval(),
        point=row.require("point").choice(GROUP_VERDICTS),
        statistical=row.require("statistical").choice(GROUP_VERDICTS),
        gated=row.get("gated").flag(False),
        # documents written before the flag: the pool's row was known by its name only
        reference=row.get("reference").flag(default=group == REFERENCE_ROW))


def _attribute_json(block: AttributeDegradation) -> dict[str, Any]:
    return {
        "kind": block.kind,
        "columns": None if block.columns is None else list(block.columns),
        "reference_groups": list(block.reference_groups),
        "min_group_size": block.min_group_size,
        "verdict": dict(block.verdict),
        "rows": [{"condition": r.condition, "severity": r.severity, "group": r.group,
                  **_overall_json(r), "excess_drop": r.excess_drop,
                  "excess_drop_ci": _interval(r.excess_drop_ci), "point": r.point,
                  "statistical": r.statistical, "gated": r.gated, "reference": r.reference}
                 for r in block.rows],
    }


# --------------------------------------------------------------------------- adjustment


@dataclass(frozen=True)
class AdjustedGroup:
    """A group's raw mean IoU beside its mean standardised to the whole set's strata."""

    n: int  # images with a stratum
    raw: float | None
    adjusted: float | None
    ci: Interval | None
    deviation: float | None  # adjusted - the whole set's mean
    deviation_ci: Interval | None
    coverage: float | None  # share of the set in the strata the group has (1: all)
    missing_strata: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdjustedAttribute:
    overall: float | None  # the whole set's mean over the images with a stratum
    unstratified: int  # images left out: no value for the adjusting attribute
    groups: Mapping[str, AdjustedGroup] = field(default_factory=dict)


@dataclass(frozen=True)
class AdjustmentRecord:
    """results.json's `adjustment` block (`--adjust-for`)."""

    attribute: str  # the attribute adjusted for
    statistic: str  # "mean": standardised means of per-image IoU
    weights: Mapping[str, float]  # stratum -> share of the whole set (the standard)
    attributes: Mapping[str, AdjustedAttribute]

    @classmethod
    def from_json(cls, node: Node) -> AdjustmentRecord | None:
        if node.value is None:
            return None
        node.mapping()
        return cls(
            attribute=node.require("attribute").text(),
            statistic=node.get("statistic").optional_text() or "mean",
            weights={k: v.number() for k, v in node.require("weights").items()},
            attributes={name: AdjustedAttribute(
                overall=block.get("overall").optional_number(),
                unstratified=block.get("unstratified").optional_count() or 0,
                groups={label: AdjustedGroup(
                    n=g.require("n").count(), raw=g.get("raw").optional_number(),
                    adjusted=g.get("adjusted").optional_number(), ci=g.get("ci").interval(),
                    deviation=g.get("deviation").optional_number(),
                    deviation_ci=g.get("deviation_ci").interval(),
                    coverage=g.get("coverage").optional_number(),
                    missing_strata=g.get("missing_strata").texts())
                    for label, g in block.require("groups").items()})
                for name, block in node.require("attributes").items()},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute, "statistic": self.statistic,
            "weights": dict(self.weights),
            "attributes": {name: {
                "overall": a.overall, "unstratified": a.unstratified,
                "groups": {label: {"n": g.n, "raw": g.raw, "adjusted": g.adjusted,
                                   "ci": _interval(g.ci), "deviation": g.deviation,
                                   "deviation_ci": _interval(g.deviation_ci),
                                   "coverage": g.coverage,
                                   "missing_strata": list(g.missing_strata)}
                           for label, g in a.groups.items()}}
                for name, a in self.attributes.items()},
        }


# --------------------------------------------------------------------------- conditions.csv


def write_conditions_table(run_dir: Path, table: pd.DataFrame) -> Path:
    """Write conditions.csv atomically (a partial file never takes its name); text cells
    a spreadsheet would run as formulas are marked as text (csvtext.py)."""
    path = Path(run_dir) / CONDITIONS_FILE
    safe = spreadsheet_safe(table[list(CONDITION_COLUMNS)])
    write_atomically(path, safe.to_csv(index=False).encode(), durable=True)
    return path


def read_conditions_table(run_dir: Path | str) -> pd.DataFrame:
    """conditions.csv of a run folder, numbers checked; UsageError names a bad line."""
    path = Path(run_dir) / CONDITIONS_FILE
    if not path.exists():
        raise UsageError(f"{path}: not found (the run evaluated no --conditions)")
    import pandas as pd

    frame = pd.read_csv(path, dtype={"image": str, "condition": str}, keep_default_na=False)
    missing = [c for c in CONDITION_COLUMNS if c not in frame.columns]
    if missing:
        raise UsageError(f"{path}: missing column(s) {', '.join(missing)}")
    read_back_text(frame, ("image", "condition"))
    for column in ("severity", "intersection", "union", "iou"):
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.isna().any():
            line = int(values.isna().to_numpy().nonzero()[0][0]) + 2  # the header is line 1
            raise UsageError(f"{path}, line {line}: column {column!r} is not a number")
        frame[column] = values
    return frame


__all__ = ["AdjustedAttribute", "AdjustedGroup", "AdjustmentRecord", "AttributeDegradation",
           "ConditionDefinition", "ConditionsRecord", "GroupDegradation", "OverallDegradation",
           "REFERENCE_ROW", "read_conditions_table", "write_conditions_table"]
