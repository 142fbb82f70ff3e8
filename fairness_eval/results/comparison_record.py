"""The comparison of two runs (comparison.json) as frozen records: changes, verdicts, gate.

`fairness-eval compare` matches two runs over the same images and records, per group, the
paired change in the statistic with its interval, every change of a fairness verdict, and
what failed the comparison gate. `Comparison.to_json` is the one writer of comparison.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .schema import BootstrapRecord

COMPARISON_SCHEMA_VERSION = "1.0"
# The group standing for all matched images together.
OVERALL = "(overall)"
DIRECTIONS = ("worse", "better", "no clear change")


@dataclass(frozen=True)
class GroupChange:
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

    def to_json(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute, "group": self.group, "n": self.n,
            "baseline": self.baseline, "candidate": self.candidate,
            "change": self.change, "change_ci": list(self.change_ci),
            "direction": self.direction, "gated": self.gated,
            "drop_beyond_tolerance": self.drop_beyond_tolerance, "note": self.note,
        }


@dataclass(frozen=True)
class AttributeChanges:
    """The changes of one attribute's groups, in the baseline's group order."""

    kind: str
    groups: Mapping[str, GroupChange]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "groups": {g: c.to_json() for g, c in self.groups.items()}}


@dataclass(frozen=True)
class VerdictChange:
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

    def to_json(self) -> dict[str, Any]:
        return {"attribute": self.attribute, "group": self.group, "criterion": self.criterion,
                "kind": self.kind, "baseline": self.baseline, "candidate": self.candidate}


@dataclass(frozen=True)
class RunSummary:
    """Which run a side of the comparison is."""

    run_dir: str
    model_name: str | None
    model_sha256: str | None
    dataset: str | None
    mask_threshold: float | None
    started: str | None

    def to_json(self) -> dict[str, Any]:
        return {"run_dir": self.run_dir,
                "model": {"name": self.model_name, "sha256": self.model_sha256},
                "dataset": self.dataset, "threshold": self.mask_threshold,
                "started": self.started}


@dataclass(frozen=True)
class Comparison:
    """Two runs over the same images compared, and the comparison gate's outcome."""

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

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": COMPARISON_SCHEMA_VERSION,
            "kind": "comparison",
            "baseline": self.baseline.to_json(),
            "candidate": self.candidate.to_json(),
            "images": self.images,
            "bootstrap": self.bootstrap.to_json(),
            "max_drop": self.max_drop,
            "gate_on": self.gate_on,
            "settings_changed": {k: list(v) for k, v in self.settings_changed.items()},
            "attributes_only_in_baseline": list(self.attributes_only_in_baseline),
            "attributes_only_in_candidate": list(self.attributes_only_in_candidate),
            "overall": self.overall.to_json(),
            "attributes": {name: a.to_json() for name, a in self.attributes.items()},
            "verdict_changes": [v.to_json() for v in self.verdict_changes],
            "failures": list(self.failures),
            "exit_code": self.exit_code,
        }
