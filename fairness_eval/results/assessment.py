"""One attribute's assessment as results.json records it: its groups' figures and verdicts.

Frozen records, one per block of docs/results-schema.md's `attributes` section, read (checked:
a malformed value is a UsageError naming the file and key) and written (the block exactly as
the schema writes it, keys in the schema's order: the fields' order) by the contract's one
codec (codec.py). The fairness stage produces these blocks; the reporters, the gate and
`compare` read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .codec import JsonRecord, json_field, read_record
from .names import GROUP_VERDICTS, NOT_ANNOTATED, RESULTS_FILE
from .reading import Node

Interval = tuple[float | None, float | None]
ATTRIBUTE_KINDS = ("attribute", "intersection")
VERDICT_BASES = ("statistical", "point")
# What a statistical verdict is decided on: criterion (a)'s margin, criterion (b)'s deviation.
DECISION_STATISTICS = ("margin", "deviation")


def _without_statistic(verdicts: CriterionVerdicts) -> bool:
    # Documents written before the statistical reading carried its interval have neither.
    return verdicts.statistic is None


def _decision(default: Any = None, **spec: Any) -> Any:
    return json_field(default, omit=_without_statistic, **spec)


@dataclass(frozen=True)
class CriterionVerdicts(JsonRecord):
    """A group's two readings of one criterion and the interval its statistical one read.

    `statistic` says what the statistical verdict was decided on: criterion (a)'s "margin"
    (|deviation| - factor x SD, a violation when its interval lies wholly above `bound`, 0,
    a pass when wholly below) or criterion (b)'s "deviation" (a violation when its interval
    lies wholly beyond +/- `bound`, the threshold, a pass when wholly within). `ci` at
    `confidence` is that interval; under family-wise control its confidence exceeds the
    run's. Documents written before these fields existed leave them None.
    """

    json_read_first = ("statistical",)  # the verdict the gate judges is named first

    # the card's literal reading: the deviation against the threshold
    point: str | None = json_field(None, choices=GROUP_VERDICTS)
    # the reading with the interval below
    statistical: str | None = json_field(None, choices=GROUP_VERDICTS)
    # "margin" (criterion a) or "deviation" (criterion b)
    statistic: str | None = _decision(choices=DECISION_STATISTICS)
    estimate: float | None = _decision()  # the statistic's point value
    ci: Interval | None = _decision()  # the interval the statistical verdict read
    confidence: float | None = _decision()  # that interval's confidence
    bound: float | None = _decision()  # what the interval is compared with (0, or the threshold)
    reason: str | None = _decision()  # why the verdict reads as it does, where that is not plain

    def form(self, name: str) -> str | None:
        """The verdict of one form, "statistical" or "point"."""
        return self.statistical if name == "statistical" else self.point


@dataclass(frozen=True)
class LabelPolicyFigures(JsonRecord):
    """One group as a run under the other label policy judges it: written beside the
    primary figures of a run given votes (fairness/label_verdicts.py)."""

    images: float | None  # n; under resample, the expected images (vote shares summed)
    value: float | None  # under resample, the vote-share-weighted group figure
    ci: Interval | None
    deviation: float | None  # from that policy's reference
    deviation_ci: Interval | None
    # criterion ("a", "b") -> its verdicts, by the same criteria code as the primary ones
    verdicts: Mapping[str, CriterionVerdicts] = json_field(read_default=lambda found: {})
    margin_ci: Interval | None = None  # criterion (a)'s decided interval (the margin's)
    empty_share: float | None = None  # under resample: share of resamples without an image


@dataclass(frozen=True)
class GroupResult(JsonRecord):
    """One group of one attribute: its figures, deviation from the reference and verdicts."""

    # the group label (see labels.py); the key of the group in results.json
    name: str = json_field(from_key=True)
    n: int | None  # images in the group (None: a published table gave only a share)
    mean_iou: float | None  # mean of the group's per-image IoU
    pooled_iou: float | None  # sum of intersections / sum of unions
    # the chosen statistic (mean_iou or pooled_iou, or the table's figure); older hand-made
    # documents name only mean_iou: it is then the value
    value: float | None = json_field(if_absent=lambda found: found["mean_iou"])
    ci: Interval | None  # bootstrap (or published) interval of `value`
    deviation: float | None  # value - the attribute's reference
    deviation_ci: Interval | None
    z: float | None  # deviation / SD of the gated group values; criterion (a)'s estimate
    z_ci: Interval | None
    # criterion ("a", "b") -> its two verdicts
    verdicts: Mapping[str, CriterionVerdicts] = json_field(read_default=lambda found: {})
    # fewer images than the minimum group size: reported, not gated
    small_group: bool = json_field(read_default=False)
    # the images without a value for the attribute; documents that predate the flag marked
    # that group by its name alone
    not_annotated: bool = json_field(read_default=lambda found: found["name"] == NOT_ANNOTATED)
    # whether the criteria judge this group
    gated: bool = json_field(
        read_default=lambda found: not (found["small_group"] or found["not_annotated"]))
    n_needed: int | None = None  # images for a CI half-width below threshold (b) / 2
    note: str | None = None  # e.g. "n = 1: the interval is the single value"
    # published tables: the group's share of the dataset
    share: float | None = json_field(None, omit=(None,))
    # labels drawn from votes (--labels resample): the images the group expects (vote
    # shares summed; n counts its majority-labelled images) and the share of the resamples
    # kept (those that left no gated group empty) that drew no image into it
    expected_images: float | None = json_field(None, omit=(None,))
    empty_share: float | None = json_field(None, omit=(None,))
    # a run given votes: the group judged under the other label policy, resample beside
    # majority or unanimous, majority beside resample
    label_resample: LabelPolicyFigures | None = json_field(None, omit=(None,))
    label_majority: LabelPolicyFigures | None = json_field(None, omit=(None,))

    @property
    def label_second_opinion(self) -> tuple[str, LabelPolicyFigures] | None:
        """(policy, figures) of the group judged under the other label policy, if any."""
        if self.label_resample is not None:
            return "resample", self.label_resample
        if self.label_majority is not None:
            return "majority", self.label_majority
        return None

    def verdict(self, criterion: str) -> CriterionVerdicts:
        """The verdicts of one criterion (both None when the document records none)."""
        return self.verdicts.get(criterion) or CriterionVerdicts()

    @property
    def is_not_annotated(self) -> bool:
        """The images without a value for the attribute: the flag, never the group's name."""
        return self.not_annotated


@dataclass(frozen=True)
class CriterionA(JsonRecord):
    """Criterion (a): a group lies more than `factor` SDs of the group values from the reference."""

    threshold: float | None = None  # factor x SD, as a difference of IoU
    factor: float | None = None  # the recorded --sd-factor
    ddof: int | None = None  # the SD's delta degrees of freedom
    can_fire: bool = True  # false when no group can lie `factor` SDs out (too few groups)
    note: str | None = None


@dataclass(frozen=True)
class CriterionB(JsonRecord):
    """Criterion (b): a group lies further than 2 x (1 - inter-annotator IoU) from the reference."""

    threshold: float | None = None  # None: no inter-annotator IoU
    evaluated: bool = True
    note: str | None = None
    # From the inter-annotator IoU's interval: a statistical violation must lie beyond its
    # upper end, a pass within its lower end (None when the IoU was given, not estimated).
    threshold_range: Interval | None = None


@dataclass(frozen=True)
class ValueRange(JsonRecord):
    """Highest minus lowest value among the gated groups, against criterion (b)'s threshold."""

    value: float | None
    min_group: str | None
    max_group: str | None
    threshold: float | None = None
    exceeds_threshold: bool | None = None  # None without a threshold


@dataclass(frozen=True, kw_only=True)
class AttributeAssessment(JsonRecord):
    """One attribute (or intersection of attributes) judged by both criteria."""

    # the attribute, or the crossed attributes joined by "×"
    name: str = json_field(from_key=True)
    # or "intersection"
    kind: str = json_field("attribute", choices=ATTRIBUTE_KINDS)
    # an intersection's per-image columns
    columns: tuple[str, ...] | None = json_field(None, omit=(None,))
    k: int | None = None  # gated groups: annotated and not small
    reference: float | None = None  # the "average" deviations are measured from
    reference_kind: str | None = None  # "overall" or "group-mean"
    min_group_size: int | None = None
    sd: float | None = None  # SD of the gated groups' values
    max_attainable_sd: float | None = None  # largest |deviation| / sd possible with k groups
    range: ValueRange | None = None  # None with fewer than two gated groups
    criterion_a: CriterionA = json_field(default_factory=CriterionA, key="criteria.a")
    criterion_b: CriterionB = json_field(default_factory=CriterionB, key="criteria.b")
    # worst statistical verdict of the gated groups
    verdict: str | None = json_field(None, choices=GROUP_VERDICTS)
    # the same over the point verdicts
    point_verdict: str | None = json_field(None, choices=GROUP_VERDICTS)
    # "statistical", "point" (no intervals) or None
    verdict_basis: str | None = json_field(None, choices=VERDICT_BASES)
    notes: tuple[str, ...] = ()
    groups: Mapping[str, GroupResult]  # in the document's order

    @property
    def per_image_columns(self) -> tuple[str, ...]:
        """The per-image columns the groups come from: the attribute's, or the crossed ones."""
        if self.kind == "intersection" and self.columns:
            return self.columns
        return (self.name,)

    def gated_groups(self) -> list[GroupResult]:
        return [g for g in self.groups.values() if g.gated]


def as_attribute(name: str, attribute: AttributeAssessment | Mapping[str, Any],
                 source: str = RESULTS_FILE) -> AttributeAssessment:
    """`attribute` typed: returned as is, or read (checked) from its results.json block."""
    if isinstance(attribute, AttributeAssessment):
        return attribute
    return read_record(AttributeAssessment, Node(attribute, source, f"attributes.{name}"), name)


__all__ = ["AttributeAssessment", "CriterionA", "CriterionB", "CriterionVerdicts",
           "GroupResult", "Interval", "LabelPolicyFigures", "ValueRange",
           "as_attribute"]
