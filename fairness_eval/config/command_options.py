"""The options of the commands other than `run`, as typed records checked when constructed.

`TableSettings` holds the options of `card --from-table`; `CheckOptions` and
`CompareOptions` those of `check` and `compare`. Like `Settings` (`settings.py`), each
passes every field through the rule of its name (`field_rules.py`) on construction, also
by `dataclasses.replace`, so a record that exists is valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .field_rules import apply_rules, per_attribute_tables
from .recording import json_ready

# --------------------------------------------------------------------------- card table


@dataclass(frozen=True)
class TableSettings:
    """Options of `card --from-table`: criteria applied to a published per-group table.

    `average` and `inter_annotator_iou` accept a fraction (0.9874), a percentage (98.74)
    or text ("98.74%") and hold the fraction; results.json records the fraction, as it
    records every IoU (the text typed is in the recorded command).
    `confidence` is the level of the table's own intervals (used for n_needed).
    """

    average: float | None = None  # None: each attribute's n- or share-weighted mean
    inter_annotator_iou: float | None = None  # None: criterion (b) is not evaluated
    units: str = "auto"
    reference: str = "overall"
    min_group_size: int = 30
    sd_factor: float = 3.0
    sd_ddof: int = 0
    confidence: float = 0.95
    familywise: str = "holm"

    def __post_init__(self) -> None:
        apply_rules(self)

    def as_dict(self) -> dict[str, Any]:
        """The settings as results.json records them (fractions, like every IoU there)."""
        recorded = {
            "average": self.average,
            "inter_annotator_iou": self.inter_annotator_iou,
            "units": self.units, "reference": self.reference,
            "min_group_size": self.min_group_size, "sd_factor": self.sd_factor,
            "sd_ddof": self.sd_ddof, "familywise": self.familywise,
        }
        if self.confidence != TableSettings.confidence:
            # Recorded only when changed, so that the records of earlier cards still match.
            recorded["confidence"] = self.confidence
        return json_ready(recorded)


# --------------------------------------------------------------------------- check, compare


@dataclass(frozen=True)
class CheckOptions:
    """Options of `fairness-eval check` (and of the gate after `run --gate`)."""

    strict: bool = False
    gate_on: str | None = None  # None: the verdicts the results document names
    allow_empty_gate: bool = False  # nothing gated passes instead of exiting 2
    # attribute -> gated criteria; None: use what the run recorded in results.json
    gated: Mapping[str, tuple[str, ...]] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        apply_rules(self)
        if self.gated is not None:
            object.__setattr__(self, "gated", {
                name: entry["gate"]
                for name, entry in per_attribute_tables(
                    {name: {"gate": gate} for name, gate in self.gated.items()}).items()
            })


@dataclass(frozen=True)
class CompareOptions:
    """Options of `fairness-eval compare`."""

    max_drop: float | None = None  # None: drops are reported, not gated
    out: Path | None = None  # None: the candidate run directory
    gate_on: str = "statistical"
    # the comparison card and comparison.md name run folders and model files by name
    # (report/redaction.py); comparison.json keeps the full paths
    redact_paths: bool = True

    def __post_init__(self) -> None:
        apply_rules(self)


__all__ = ["CheckOptions", "CompareOptions", "TableSettings"]
