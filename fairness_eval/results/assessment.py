"""One attribute's assessment as results.json records it: its groups' figures and verdicts.

Frozen records, one per block of docs/results-schema.md's `attributes` section, each with
`from_json` (checked: a malformed value is a UsageError naming the file and key) and
`to_json` (the block exactly as the schema writes it, keys in the schema's order). The
fairness stage produces these blocks; the reporters, the gate and `compare` read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .names import GROUP_VERDICTS, NOT_ANNOTATED, RESULTS_FILE, VERDICT_FORMS
from .reading import Node

Interval = tuple[float | None, float | None]
ATTRIBUTE_KINDS = ("attribute", "intersection")
VERDICT_BASES = ("statistical", "point")
# What a statistical verdict is decided on: criterion (a)'s margin, criterion (b)'s deviation.
DECISION_STATISTICS = ("margin", "deviation")


def _interval_json(interval: Interval | None) -> list[float | None] | None:
    return None if interval is None else list(interval)


@dataclass(frozen=True)
class CriterionVerdicts:
    """A group's two readings of one criterion and the interval its statistical one read.

    `statistic` says what the statistical verdict was decided on: criterion (a)'s "margin"
    (|deviation| - factor x SD, a violation when its interval lies wholly above `bound`, 0,
    a pass when wholly below) or criterion (b)'s "deviation" (a violation when its interval
    lies wholly beyond +/- `bound`, the threshold, a pass when wholly within). `ci` at
    `confidence` is that interval; under family-wise control its confidence exceeds the
    run's. Documents written before these fields existed leave them None.
    """

    point: str | None = None  # the card's literal reading: the deviation against the threshold
    statistical: str | None = None  # the reading with the interval below
    statistic: str | None = None  # "margin" (criterion a) or "deviation" (criterion b)
    estimate: float | None = None  # the statistic's point value
    ci: Interval | None = None  # the interval the statistical verdict read
    confidence: float | None = None  # that interval's confidence
    bound: float | None = None  # what the interval is compared with (0, or the threshold)
    reason: str | None = None  # why the verdict reads as it does, where that is not plain

    def form(self, name: str) -> str | None:
        """The verdict of one form, "statistical" or "point"."""
        return self.statistical if name == "statistical" else self.point

    @classmethod
    def from_json(cls, node: Node) -> CriterionVerdicts:
        node.mapping()
        found = {form: node.get(form).optional_choice(GROUP_VERDICTS) for form in VERDICT_FORMS}
        return cls(**found,
                   statistic=node.get("statistic").optional_choice(DECISION_STATISTICS),
                   estimate=node.get("estimate").optional_number(),
                   ci=node.get("ci").interval(),
                   confidence=node.get("confidence").optional_number(),
                   bound=node.get("bound").optional_number(),
                   reason=node.get("reason").optional_text())

    def to_json(self) -> dict[str, Any]:
        block: dict[str, Any] = {"point": self.point, "statistical": self.statistical}
        if self.statistic is not None:
            block.update({"statistic": self.statistic, "estimate": self.estimate,
                          "ci": _interval_json(self.ci), "confidence": self.confidence,
                          "bound": self.bound, "reason": self.reason})
        return block


@dataclass(frozen=True)
class GroupResult:
    """One group of one attribute: its figures, deviation from the reference and verdicts."""

    name: str  # the group label (see labels.py); the key of the group in results.json
    n: int | None  # images in the group (None: a published table gave only a share)
    mean_iou: float | None  # mean of the group's per-image IoU
    pooled_iou: float | None  # sum of intersections / sum of unions
    value: float | None  # the chosen statistic (mean_iou or pooled_iou, or the table's figure)
    ci: Interval | None  # bootstrap (or published) interval of `value`
    deviation: float | None  # value - the attribute's reference
    deviation_ci: Interval | None
    z: float | None  # deviation / SD of the gated group values; criterion (a)'s estimate
    z_ci: Interval | None
    verdicts: Mapping[str, CriterionVerdicts]  # criterion ("a", "b") -> its two verdicts
    small_group: bool  # fewer images than the minimum group size: reported, not gated
    not_annotated: bool  # the images without a value for the attribute
    gated: bool  # whether the criteria judge this group
    n_needed: int | None = None  # images for a CI half-width below threshold (b) / 2
    note: str | None = None  # e.g. "n = 1: the interval is the single value"
    share: float | None = None  # published tables: the group's share of the dataset

    def verdict(self, criterion: str) -> CriterionVerdicts:
        """The verdicts of one criterion (both None when the document records none)."""
        return self.verdicts.get(criterion) or CriterionVerdicts()

    @property
    def is_not_annotated(self) -> bool:
        """The images without a value for the attribute: the flag, never the group's name."""
        return self.not_annotated

    @classmethod
    def from_json(cls, name: str, node: Node) -> GroupResult:
        node.mapping()
        mean_iou = node.get("mean_iou").optional_number()
        small = node.get("small_group").flag(default=False)
        # Documents that predate the flag marked that group by its name alone.
        not_annotated = node.get("not_annotated").flag(default=name == NOT_ANNOTATED)
        verdicts_node = node.get("verdicts")
        verdicts = {} if verdicts_node.value is None else {
            key: CriterionVerdicts.from_json(child) for key, child in verdicts_node.items()
        }
        return cls(
            name=name,
            n=node.get("n").optional_count(),
            mean_iou=mean_iou,
            pooled_iou=node.get("pooled_iou").optional_number(),
            # Older hand-made documents name only mean_iou: it is then the value.
            value=node.get("value").optional_number() if node.has("value") else mean_iou,
            ci=node.get("ci").interval(),
            deviation=node.get("deviation").optional_number(),
            deviation_ci=node.get("deviation_ci").interval(),
            z=node.get("z").optional_number(),
            z_ci=node.get("z_ci").interval(),
            verdicts=verdicts,
            small_group=small,
            not_annotated=not_annotated,
            gated=node.get("gated").flag(default=not (small or not_annotated)),
            n_needed=node.get("n_needed").optional_count(),
            note=node.get("note").optional_text(),
            share=node.get("share").optional_number(),
        )

    def to_json(self) -> dict[str, Any]:
        block: dict[str, Any] = {
            "n": self.n, "mean_iou": self.mean_iou, "pooled_iou": self.pooled_iou,
            "value": self.value, "ci": _interval_json(self.ci), "deviation": self.deviation,
            "deviation_ci": _interval_json(self.deviation_ci), "z": self.z,
            "z_ci": _interval_json(self.z_ci),
            "verdicts": {key: v.to_json() for key, v in self.verdicts.items()},
            "small_group": self.small_group, "not_annotated": self.not_annotated,
            "gated": self.gated, "n_needed": self.n_needed, "note": self.note,
        }
        if self.share is not None:
            block["share"] = self.share
        return block


@dataclass(frozen=True)
class CriterionA:
    """Criterion (a): a group lies more than `factor` SDs of the group values from the reference."""

    threshold: float | None = None  # factor x SD, as a difference of IoU
    factor: float | None = None  # the recorded --sd-factor
    ddof: int | None = None  # the SD's delta degrees of freedom
    can_fire: bool = True  # false when no group can lie `factor` SDs out (too few groups)
    note: str | None = None

    @classmethod
    def from_json(cls, node: Node) -> CriterionA:
        if node.value is None:
            return cls()
        node.mapping()
        return cls(threshold=node.get("threshold").optional_number(),
                   factor=node.get("factor").optional_number(),
                   ddof=node.get("ddof").optional_count(),
                   can_fire=node.get("can_fire").flag(default=True),
                   note=node.get("note").optional_text())

    def to_json(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "factor": self.factor, "ddof": self.ddof,
                "can_fire": self.can_fire, "note": self.note}


@dataclass(frozen=True)
class CriterionB:
    """Criterion (b): a group lies further than 2 x (1 - inter-annotator IoU) from the reference."""

    threshold: float | None = None  # None: no inter-annotator IoU
    evaluated: bool = True
    note: str | None = None
    # From the inter-annotator IoU's interval: a statistical violation must lie beyond its
    # upper end, a pass within its lower end (None when the IoU was given, not estimated).
    threshold_range: Interval | None = None

    @classmethod
    def from_json(cls, node: Node) -> CriterionB:
        if node.value is None:
            return cls()
        node.mapping()
        return cls(threshold=node.get("threshold").optional_number(),
                   evaluated=node.get("evaluated").flag(default=True),
                   note=node.get("note").optional_text(),
                   threshold_range=node.get("threshold_range").interval())

    def to_json(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "evaluated": self.evaluated, "note": self.note,
                "threshold_range": _interval_json(self.threshold_range)}


@dataclass(frozen=True)
class ValueRange:
    """Highest minus lowest value among the gated groups, against criterion (b)'s threshold."""

    value: float | None
    min_group: str | None
    max_group: str | None
    threshold: float | None = None
    exceeds_threshold: bool | None = None  # None without a threshold

    @classmethod
    def from_json(cls, node: Node) -> ValueRange | None:
        if node.value is None:
            return None
        node.mapping()
        return cls(value=node.get("value").optional_number(),
                   min_group=node.get("min_group").optional_text(),
                   max_group=node.get("max_group").optional_text(),
                   threshold=node.get("threshold").optional_number(),
                   exceeds_threshold=node.get("exceeds_threshold").optional_flag())

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "min_group": self.min_group, "max_group": self.max_group,
                "threshold": self.threshold, "exceeds_threshold": self.exceeds_threshold}


@dataclass(frozen=True)
class AttributeAssessment:
    """One attribute (or intersection of attributes) judged by both criteria."""

    name: str  # the attribute, or the crossed attributes joined by "×"
    groups: Mapping[str, GroupResult]  # in the document's order
    kind: str = "attribute"  # or "intersection"
    columns: tuple[str, ...] | None = None  # an intersection's per-image columns
    k: int | None = None  # gated groups: annotated and not small
    reference: float | None = None  # the "average" deviations are measured from
    reference_kind: str | None = None  # "overall" or "group-mean"
    min_group_size: int | None = None
    sd: float | None = None  # SD of the gated groups' values
    max_attainable_sd: float | None = None  # largest |deviation| / sd possible with k groups
    range: ValueRange | None = None  # None with fewer than two gated groups
    criterion_a: CriterionA = field(default_factory=CriterionA)
    criterion_b: CriterionB = field(default_factory=CriterionB)
    verdict: str | None = None  # worst statistical verdict of the gated groups
    point_verdict: str | None = None  # the same over the point verdicts
    verdict_basis: str | None = None  # "statistical", "point" (no intervals) or None
    notes: tuple[str, ...] = ()

    @property
    def per_image_columns(self) -> tuple[str, ...]:
        """The per-image columns the groups come from: the attribute's, or the crossed ones."""
        if self.kind == "intersection" and self.columns:
            return self.columns
        return (self.name,)

    def gated_groups(self) -> list[GroupResult]:
        return [g for g in self.groups.values() if g.gated]

    @classmethod
    def from_json(cls, name: str, node: Node) -> AttributeAssessment:
        node.mapping()
        criteria = node.get("criteria")
        has_criteria = criteria.optional_mapping() is not None
        groups = node.require("groups")
        return cls(
            name=name,
            groups={label: GroupResult.from_json(label, child) for label, child in groups.items()},
            kind=node.get("kind").optional_choice(ATTRIBUTE_KINDS) or "attribute",
            columns=node.get("columns").optional_texts(),
            k=node.get("k").optional_count(),
            reference=node.get("reference").optional_number(),
            reference_kind=node.get("reference_kind").optional_text(),
            min_group_size=node.get("min_group_size").optional_count(),
            sd=node.get("sd").optional_number(),
            max_attainable_sd=node.get("max_attainable_sd").optional_number(),
            range=ValueRange.from_json(node.get("range")),
            criterion_a=CriterionA.from_json(criteria.get("a") if has_criteria else criteria),
            criterion_b=CriterionB.from_json(criteria.get("b") if has_criteria else criteria),
            verdict=node.get("verdict").optional_choice(GROUP_VERDICTS),
            point_verdict=node.get("point_verdict").optional_choice(GROUP_VERDICTS),
            verdict_basis=node.get("verdict_basis").optional_choice(VERDICT_BASES),
            notes=node.get("notes").texts(),
        )

    def to_json(self) -> dict[str, Any]:
        block: dict[str, Any] = {"kind": self.kind}
        if self.columns is not None:
            block["columns"] = list(self.columns)
        block.update({
            "k": self.k, "reference": self.reference, "reference_kind": self.reference_kind,
            "min_group_size": self.min_group_size, "sd": self.sd,
            "max_attainable_sd": self.max_attainable_sd,
            "range": None if self.range is None else self.range.to_json(),
            "criteria": {"a": self.criterion_a.to_json(), "b": self.criterion_b.to_json()},
            "verdict": self.verdict, "point_verdict": self.point_verdict,
            "verdict_basis": self.verdict_basis, "notes": list(self.notes),
            "groups": {label: g.to_json() for label, g in self.groups.items()},
        })
        return block


def as_attribute(name: str, attribute: AttributeAssessment | Mapping[str, Any],
                 source: str = RESULTS_FILE) -> AttributeAssessment:
    """`attribute` typed: returned as is, or read (checked) from its results.json block."""
    if isinstance(attribute, AttributeAssessment):
        return attribute
    return AttributeAssessment.from_json(name, Node(attribute, source, f"attributes.{name}"))


__all__ = ["AttributeAssessment", "CriterionA", "CriterionB", "CriterionVerdicts",
           "GroupResult", "Interval", "ValueRange",
           "as_attribute"]
