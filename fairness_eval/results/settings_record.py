"""The settings a run recorded in results.json, and the one rule of which criteria are gated.

The configuration stage validates settings; results.json records them as plain JSON. The
reporters, the gate and `compare` read that record through `RecordedSettings`, never the
configuration module, so a run folder is judged by what was recorded with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .codec import JsonRecord, json_field
from .names import CRITERIA
from .reading import Node


def gated_criteria(per_attribute: Mapping[str, Any] | None, attribute: str) -> tuple[str, ...]:
    """The criteria gated for `attribute`: its table's `gate` list, else every criterion.

    `per_attribute` is the `[attributes.<name>]` tables of the configuration, as recorded
    in results.json's settings (`{"region": {"gate": ["a"]}}`).
    """
    table = (per_attribute or {}).get(attribute) or {}
    gate = table.get("gate")
    return CRITERIA if gate is None else tuple(str(criterion) for criterion in gate)


def _check_gates(node: Node) -> None:
    """Each attribute's `gate` list names criteria only (the rest of the record is free)."""
    per_attribute = node.get("per_attribute")
    for _, table in (per_attribute.items() if per_attribute.value is not None else ()):
        table.mapping()
        gate = table.get("gate")
        if gate.value is not None:
            for criterion in gate.elements():
                criterion.choice(CRITERIA)


@dataclass(frozen=True)
class RecordedSettings(JsonRecord):
    """Every effective setting of the run, as recorded (`values`), with typed readers."""

    values: Mapping[str, Any] = json_field(default_factory=dict, whole=True, check=_check_gates)

    def _number(self, key: str) -> float | None:
        value = self.values.get(key)
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    def _text(self, key: str) -> str | None:
        value = self.values.get(key)
        return value if isinstance(value, str) else None

    @property
    def statistic(self) -> str | None:
        """ "mean" (of per-image IoU) or "pooled" (sum I / sum U)."""
        return self._text("statistic")

    @property
    def mask_threshold(self) -> float | None:
        """The probability above which a pixel is predicted person."""
        found = self._number("mask_threshold")
        return found if found is not None else self._number("threshold")

    @property
    def min_group_size(self) -> float | None:
        return self._number("min_group_size")

    @property
    def sd_factor(self) -> float | None:
        return self._number("sd_factor")

    @property
    def exif(self) -> str:
        """How images with an EXIF orientation were scored: "ignore" (stored pixels, the
        default, recorded only when set) or "rotate" (turned upright first)."""
        return self._text("exif") or "ignore"

    @property
    def per_attribute(self) -> Mapping[str, Mapping[str, Any]]:
        found = self.values.get("per_attribute")
        return found if isinstance(found, Mapping) else {}

    def gated_criteria(self, attribute: str) -> tuple[str, ...]:
        """The criteria the gate checks for `attribute` (both unless configured otherwise)."""
        return gated_criteria(self.per_attribute, attribute)
