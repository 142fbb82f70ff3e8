"""Several models over the same images, compared (comparison.json of `compare A B C ...`).

The first run is the baseline. Each model keeps what its own run recorded (overall figure
with its interval, every attribute's groups, range and verdicts); each other model gets the
pairwise comparison against the baseline (results/comparison_record.py: the paired bootstrap
change of every group, verdict changes and that pair's gate failures). With two runs,
comparison.json stays the pairwise document it has always been; with more, it is this
record (`kind` "model_comparison"). The comparison card reads this record only.

The record also ranks the models by the comparison card's rule for the fairest model
(`FAIREST_RULE`; fairness/fairest.py applies it): `ranking`, one standing per model with the
figures the rule read, best first, and `fairest`, the label of each model ranked first
(several where they tie on every rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .assessment import AttributeAssessment
from .codec import JsonRecord, json_field, write_json
from .comparison_record import Comparison, RunSummary
from .schema import BootstrapRecord, ModelRecord, Overall

MODEL_COMPARISON_KIND = "model_comparison"
MODEL_COMPARISON_SCHEMA_VERSION = "1.0"

# The rule, said once: `compare --help`, the comparison card and comparison.md print it.
FAIREST_RULE = (
    "The fairest model has the fewest gated criterion violations in its own run; then the "
    "highest worst-group lower bound (the lowest interval lower end of any gated group, over "
    "the attributes every run assessed; for a metric where lower is better, such as flicker, "
    "the lowest worst-group upper end); then the smallest gap (its largest range, highest "
    "minus lowest gated group, over those attributes). Models equal on all three tie."
)
# The rules in order, as `FairnessStanding.decided_by` names them.
FAIREST_RULES = ("gated violations", "worst-group bound", "gap")


@dataclass(frozen=True)
class FairnessStanding(JsonRecord):
    """One model's place by the fairest-model rule, with the three figures the rule read."""

    label: str
    rank: int  # 1 = fairest; models tied on every rule share a rank
    gated_violations: int  # gated criterion violations in the model's own run
    # the worst gated group's interval end: its lower end, or, where lower is better, the
    # highest upper end (None: no gated group with an interval)
    worst_bound: float | None
    worst_group: str | None  # "attribute: group" of that end
    largest_gap: float | None  # the largest range over the attributes (None: none had one)
    # the rule that places this model ahead of the next one in the ranking; None where it
    # ties with the next one on every rule, and for the last
    decided_by: str | None = json_field(None, choices=FAIREST_RULES)


@dataclass(frozen=True)
class ComparedModel(JsonRecord):
    """One run of the comparison: which model, and the figures its own run recorded."""

    label: str  # how the card names it: the model's name, made unique among the runs
    run: RunSummary
    model: ModelRecord | None
    overall: Overall
    attributes: Mapping[str, AttributeAssessment]


def _comparisons(pairs: tuple[Comparison, ...], record: ModelComparison) -> list[Any]:
    """Each pair's comparison, headed by the label of the candidate it compares."""
    return [{"candidate_label": model.label, **write_json(pair)}
            for model, pair in zip(record.candidates, pairs, strict=True)]


@dataclass(frozen=True, kw_only=True)
class ModelComparison(JsonRecord):
    """Models over the same images: each model's figures, and each against the baseline."""

    json_derived = ("failures", "exit_code")  # written after the fields

    schema_version: str = MODEL_COMPARISON_SCHEMA_VERSION
    kind: str = MODEL_COMPARISON_KIND
    images: int  # images evaluated in every run
    bootstrap: BootstrapRecord  # the baseline's, applied to every paired interval
    max_drop: float | None
    gate_on: str
    models: tuple[ComparedModel, ...]  # the baseline first, then the runs in the order given
    # the baseline against models[1], models[2], ...
    pairs: tuple[Comparison, ...] = json_field(key="comparisons", write=_comparisons)
    # every model by the fairest-model rule (FAIREST_RULE), best first
    ranking: tuple[FairnessStanding, ...] = ()
    fairest: tuple[str, ...] = ()  # the labels ranked first: one, or several that tie

    @property
    def baseline(self) -> ComparedModel:
        return self.models[0]

    @property
    def candidates(self) -> tuple[ComparedModel, ...]:
        return self.models[1:]

    @property
    def failures(self) -> tuple[str, ...]:
        """Every failing check of every pair, named by the candidate it concerns."""
        return tuple(f"{model.label}: {line}"
                     for model, pair in zip(self.candidates, self.pairs, strict=True)
                     for line in pair.failures)

    @property
    def exit_code(self) -> int:
        return 1 if any(pair.failures for pair in self.pairs) else 0

    def attribute_names(self) -> list[str]:
        """Attributes assessed in every run, in the baseline's order."""
        return [name for name in self.baseline.attributes
                if all(name in model.attributes for model in self.candidates)]

    def pair_of(self, label: str) -> Comparison | None:
        """The comparison of the model `label` against the baseline (None: the baseline)."""
        for model, pair in zip(self.candidates, self.pairs, strict=True):
            if model.label == label:
                return pair
        return None


def unique_labels(names: list[str | None], run_dirs: list[str]) -> list[str]:
    """A label per run: the model's name, with the run folder's name where names repeat."""
    found = [name or "unnamed model" for name in names]
    labels = []
    for index, name in enumerate(found):
        if found.count(name) > 1:
            name = f"{name} ({run_dirs[index].rstrip('/').rsplit('/', 1)[-1]})"
        labels.append(name)
    repeated = {label for label in labels if labels.count(label) > 1}
    return [f"{label} #{index + 1}" if label in repeated else label
            for index, label in enumerate(labels)]


__all__ = ["FAIREST_RULE", "FAIREST_RULES", "MODEL_COMPARISON_KIND", "ComparedModel",
           "FairnessStanding", "ModelComparison", "unique_labels"]
