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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomicwrite import write_atomically
from ..errors import UsageError
from .codec import JsonRecord, json_field
from .csvtext import read_back_text, spreadsheet_safe
from .names import CONDITION_COLUMNS, CONDITIONS_FILE, GROUP_VERDICTS

if TYPE_CHECKING:  # pandas is imported where a table is read: parsing a command needs none
    import pandas as pd

Interval = tuple[float | None, float | None]
# The group name of the rows of an attribute's reference pool (fairness/degradation.py):
# shown to people, and read as the flag only in documents written before rows carried
# `reference` (a group in the data may take the same name).
REFERENCE_ROW = "(reference)"


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class ConditionDefinition(JsonRecord):
    """A condition evaluated and its severities (conditions/perturb.py defines each)."""

    condition: str
    parameter: str  # the severity's name: f, sigma, r, q or a
    severities: tuple[float, ...]


@dataclass(frozen=True)
class OverallDegradation(JsonRecord):
    """Every evaluated image under one condition and severity."""

    condition: str
    severity: float
    n: int
    clean: float | None
    degraded: float | None
    degraded_ci: Interval | None
    change: float | None  # degraded - clean (negative: worse)
    change_ci: Interval | None  # paired bootstrap over the same images


@dataclass(frozen=True, kw_only=True)
class GroupDegradation(JsonRecord):
    """One group (or the reference pool, `reference` true) under one condition and severity:
    the figures of `OverallDegradation` for the group, and its verdicts."""

    condition: str
    severity: float
    group: str
    n: int
    clean: float | None
    degraded: float | None
    degraded_ci: Interval | None
    change: float | None  # degraded - clean (negative: worse)
    change_ci: Interval | None  # paired bootstrap over the same images
    excess_drop: float | None = None  # group drop - reference drop; None for the reference
    excess_drop_ci: Interval | None = None
    point: str = json_field(choices=GROUP_VERDICTS)
    statistical: str = json_field(choices=GROUP_VERDICTS)
    gated: bool = False  # judged: annotated and not smaller than the minimum group size
    # the reference pool's row, whatever its name; documents written before the flag knew
    # the pool's row by its name only
    reference: bool = json_field(
        False, read_default=lambda found: found["group"] == REFERENCE_ROW)


@dataclass(frozen=True)
class AttributeDegradation(JsonRecord):
    """One attribute's (or crossing's) groups under every condition and severity."""

    kind: str = json_field(choices=("attribute", "intersection"))
    columns: tuple[str, ...] | None
    reference_groups: tuple[str, ...] = json_field(read_default=())
    min_group_size: int | None
    # form ("statistical", "point") -> worst judged verdict
    verdict: Mapping[str, str] = json_field(choices=GROUP_VERDICTS,
                                            keys=("statistical", "point"))
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
class ConditionsRecord(JsonRecord):
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


# --------------------------------------------------------------------------- adjustment


@dataclass(frozen=True)
class AdjustedGroup(JsonRecord):
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
class AdjustedAttribute(JsonRecord):
    overall: float | None  # the whole set's mean over the images with a stratum
    # images left out: no value for the adjusting attribute
    unstratified: int = json_field(read_default=0)
    groups: Mapping[str, AdjustedGroup] = json_field(default_factory=dict, required=True)


@dataclass(frozen=True)
class AdjustmentRecord(JsonRecord):
    """results.json's `adjustment` block (`--adjust-for`)."""

    attribute: str  # the attribute adjusted for
    # "mean": standardised means of per-image IoU
    statistic: str = json_field(read_default="mean")
    weights: Mapping[str, float]  # stratum -> share of the whole set (the standard)
    attributes: Mapping[str, AdjustedAttribute]


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
