"""The comparison of two runs (comparison.json) as frozen records: changes, verdicts, gate.

`fairness-eval compare` matches two runs over the same images and records, per group, the
paired change in the statistic with its interval, every change of a fairness verdict, and
what failed the comparison gate. `Comparison.to_json` (the contract's codec, codec.py) is the
one writer of comparison.json: the fields, in order, are its keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .codec import JsonRecord, json_field
from .schema import BootstrapRecord

COMPARISON_SCHEMA_VERSION = "1.0"
# The group standing for all matched images together.
OVERALL = "(overall)"
DIRECTIONS = ("worse", "better", "no clear change")


@dataclass(frozen=True)
class GroupChange(JsonRecord):
    """One group's change (candidate - baseline) over the images both runs evaluated."""

    attribute: str  # OVERALL for all images
    group: str
    n: int
    baseline: float
    candidate: float
    change: float
    change_ci: tuple[float, float]  # paired bootstrap interval of the change
    # "worse" / "better" (the whole interval on one side of 0, read in the judged metric's
    # direction: for flicker a rise is worse) or neither
    direction: str
    gated: bool  # small and not-annotated groups are reported, never gated
    # The whole interval lies below -max_drop, or above +max_drop where lower is better
    # (flicker: a rise is the drop the tolerance is about).
    drop_beyond_tolerance: bool
    note: str | None = None

    @property
    def where(self) -> str:
        """'overall' or 'attribute / group', as messages name a group."""
        return "overall" if self.attribute == OVERALL else f"{self.attribute} / {self.group}"


@dataclass(frozen=True)
class AttributeChanges(JsonRecord):
    """The changes of one attribute's groups, in the baseline's group order."""

    kind: str
    groups: Mapping[str, GroupChange]


@dataclass(frozen=True)
class VerdictChange(JsonRecord):
    """A fairness verdict that differs between the runs: an attribute's, or a group's."""

    attribute: str
    group: str | None  # None: the attribute's own verdict
    criterion: str | None  # "a" or "b" for a group's verdict
    kind: str  # "attribute", "statistical" or "point"
    baseline: str | None
    candidate: str | None

    def describe(self) -> str:
        """'region / south: criterion (b) statistical pass -> violation'."""
        where = self.attribute + (f" / {self.group}" if self.group is not None else "")
        what = f"criterion ({self.criterion}) {self.kind}" if self.criterion else "verdict"
        return f"{where}: {what} {self.baseline} -> {self.candidate}"


@dataclass(frozen=True)
class RunSummary(JsonRecord):
    """Which run a side of the comparison is."""

    run_dir: str
    model_name: str | None = json_field(key="model.name")
    model_sha256: str | None = json_field(key="model.sha256")
    dataset: str | None
    mask_threshold: float | None = json_field(key="threshold")
    started: str | None


@dataclass(frozen=True, kw_only=True)
class Comparison(JsonRecord):
    """Two runs over the same images compared, and the comparison gate's outcome."""

    json_derived = ("exit_code",)  # written after the fields

    schema_version: str = COMPARISON_SCHEMA_VERSION
    kind: str = "comparison"
    baseline: RunSummary
    candidate: RunSummary
    images: int  # images evaluated in both runs
    # The baseline's, applied to every paired interval; its metric and unit say what was
    # compared (IoU per image unless the runs judged another --metric or were video runs).
    bootstrap: BootstrapRecord
    max_drop: float | None  # None: drops are reported, not gated
    gate_on: str
    settings_changed: Mapping[str, tuple[Any, Any]]  # setting -> (baseline, candidate)
    attributes_only_in_baseline: tuple[str, ...]
    attributes_only_in_candidate: tuple[str, ...]
    overall: GroupChange
    attributes: Mapping[str, AttributeChanges]
    verdict_changes: tuple[VerdictChange, ...]
    failures: tuple[str, ...]  # one line per failing check of the comparison gate

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def all_groups(self) -> list[GroupChange]:
        """The overall change, then every group of every attribute."""
        return [self.overall, *(g for a in self.attributes.values() for g in a.groups.values())]

