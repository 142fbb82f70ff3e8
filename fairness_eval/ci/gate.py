"""The fairness gate: which gated criteria a results document violates, and the exit code.

`evaluate_gate` is the one decision `run --gate`, `card --gate`, `check`, the card's verdict
box, summary.md and `compare` all read. It reads the typed results document
(docs/results-schema.md) and never recomputes a number. Each (attribute, group, criterion)
becomes one `Check` (gate_checks.py): `fail` (violation; or inconclusive with --strict), `warn`
(inconclusive without --strict), `pass`, or `skip` with the reason (small group, not
annotated, a criterion that cannot fire or was not evaluated, a criterion not gated for
that attribute). Exit code 0 when nothing fails, 1 when a check fails, 2 when nothing was
gated at all (unless --allow-empty-gate): a gate that checked nothing has not passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config.rules import GATE_ON
from ..errors import UsageError
from ..results import document as results_module
from ..results.assessment import AttributeAssessment, CriterionA, CriterionB, GroupResult
from ..results.names import (
    CRITERIA,
    INCONCLUSIVE,
    NOT_EVALUATED,
    NOT_GATED,
    VIOLATION,
)
from ..results.names import (
    PASS as PASS_VERDICT,
)
from ..results.schema import ResultsDocument, as_document
from .condition_checks import degradation_checks
from .gate_checks import (
    FAIL,
    NEED_CONFIG,
    NEED_GROUPS,
    NEED_IAA,
    NEED_INTERVALS,
    NEED_ORDER,
    NEED_SIZE,
    NEED_VERDICT,
    PASS,
    SKIP,
    WARN,
    Check,
)

if TYPE_CHECKING:
    from ..config.command_options import CheckOptions

EXIT_PASS, EXIT_FAIL, EXIT_EMPTY = 0, 1, 2
# An attribute's outcome under the gate: the worst verdict of its gated checks, or
# "not gated" when it has none (reported only). Counted apart, never lumped together.
OUTCOMES = (VIOLATION, INCONCLUSIVE, PASS_VERDICT, NOT_GATED)
_SEVERITY = {VIOLATION: 0, INCONCLUSIVE: 1, PASS_VERDICT: 2}


@dataclass
class GateReport:
    """Every check of a results document under one gate policy."""

    checks: list[Check]
    gate_on: str = "statistical"
    strict: bool = False
    confidence: float = 0.95
    notes: list[str] = field(default_factory=list)  # e.g. an attribute with nothing gated
    allow_empty: bool = False
    attribute_names: list[str] = field(default_factory=list)  # in the document's order

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status == WARN]

    @property
    def gated(self) -> list[Check]:
        """The checks that were gated (not skipped)."""
        return [c for c in self.checks if c.status != SKIP]

    @property
    def empty(self) -> bool:
        """Whether nothing at all was gated."""
        return not self.gated

    @property
    def missing(self) -> list[str]:
        """What would have let the skipped checks be gated, most useful first."""
        needs = {c.need for c in self.checks if c.status == SKIP and c.need}
        if not self.checks:
            return ["no attribute to judge (--attribute)"]
        return [need for need in NEED_ORDER if need in needs] or ["no check could be gated"]

    @property
    def error(self) -> str | None:
        """The one line an empty gate exits 2 with; None when something was gated or an
        empty gate is allowed."""
        if not self.empty or self.allow_empty:
            return None
        return (f"fairness gate: nothing was checked ({len(self.checks)} checks, all "
                f"skipped): {'; '.join(self.missing)}; pass --allow-empty-gate to accept a "
                "gate that checks nothing")

    @property
    def exit_code(self) -> int:
        if self.failures:
            return EXIT_FAIL
        return EXIT_EMPTY if self.error else EXIT_PASS

    def for_attribute(self, attribute: str) -> list[Check]:
        return [c for c in self.checks if c.attribute == attribute]

    def attributes(self) -> list[str]:
        return list(dict.fromkeys([*self.attribute_names, *(c.attribute for c in self.checks)]))

    def outcome(self, attribute: str) -> str:
        """An attribute's outcome: the worst verdict its gated checks read, or "not gated"."""
        verdicts = [c.verdict for c in self.for_attribute(attribute) if c.status != SKIP]
        known = [v for v in verdicts if v in _SEVERITY]
        return min(known, key=_SEVERITY.__getitem__) if known else NOT_GATED

    def overall(self) -> str:
        """The headline: the worst gated verdict of any attribute, or "not gated"."""
        gated = [o for o in map(self.outcome, self.attributes()) if o != NOT_GATED]
        return min(gated, key=_SEVERITY.__getitem__) if gated else NOT_GATED

    def tally(self) -> dict[str, int]:
        """How many attributes have each outcome (OUTCOMES order, zeros kept)."""
        outcomes = [self.outcome(name) for name in self.attributes()]
        return {outcome: outcomes.count(outcome) for outcome in OUTCOMES}

    def detail(self) -> str:
        """'4 gated checks on statistical verdicts, 2 skipped, ...'."""
        skipped = len(self.checks) - len(self.gated)
        text = f"{len(self.gated)} gated checks on {self.gate_on} verdicts, {skipped} skipped"
        if self.warnings:
            text += f", {len(self.warnings)} inconclusive that pass without --strict"
        return text

    def outcome_line(self) -> str:
        """The gate's last line: failed, passed, or nothing checked."""
        if self.failures:
            attributes = sorted({c.attribute for c in self.failures})
            return (f"fairness gate: FAILED - {len(self.failures)} failing check(s) in "
                    f"{', '.join(attributes)} ({self.detail()})")
        if self.error:
            return self.error
        if self.empty:
            return (f"fairness gate: passed with nothing checked, as --allow-empty-gate "
                    f"allows ({self.detail()}): {'; '.join(self.missing)}")
        return f"fairness gate: passed ({self.detail()})"

    def closing_lines(self, *, outcome: bool = True) -> list[str]:
        """The lines `check` prints last: notes, warnings, each failure, then the outcome
        (left out with `outcome=False`, for a caller that reports it itself)."""
        lines = [f"note: {note}" for note in self.notes]
        lines += [f"WARN {c.describe(self.confidence, self.gate_on)}" for c in self.warnings]
        lines += [f"FAIL {c.describe(self.confidence, self.gate_on)}" for c in self.failures]
        return lines + ([self.outcome_line()] if outcome else [])


def read_results(run_dir: Path | str) -> ResultsDocument:
    """results.json of a run folder (or the file itself); UsageError if it cannot be gated."""
    return results_module.read_results(run_dir)


def evaluate_gate(
    results: ResultsDocument | Mapping[str, Any],
    *,
    gate_on: str | None = None,
    strict: bool = False,
    gated: Mapping[str, Sequence[str]] | None = None,
    allow_empty: bool = False,
) -> GateReport:
    """Judge every group and criterion of `results` under one gate policy.

    `gate_on` None reads the verdicts the document itself says to gate on: the run's
    recorded --gate-on, else statistical verdicts, or point verdicts for a published table
    without intervals (`ResultsDocument.default_gate_on`). `gated` maps attribute ->
    criteria to gate (e.g. from the configuration file); an attribute it does not name
    falls back to what the run recorded in its settings (`per_attribute`), and that to
    both criteria.
    """
    results = as_document(results)
    gate_on = resolved_gate_on(results, gate_on)
    report = GateReport(checks=[], gate_on=gate_on, strict=strict,
                        confidence=results.confidence, allow_empty=allow_empty,
                        attribute_names=list(results.attributes))
    for attribute, block in results.attributes.items():
        if gated is not None and attribute in gated:
            criteria = tuple(gated[attribute])
        else:
            criteria = results.gated_criteria(attribute)
        checks = list(_attribute_checks(block, criteria, gate_on, strict))
        if checks and all(c.status == SKIP for c in checks):
            reasons = {c.reason for c in checks}
            why = f" ({reasons.pop()})" if len(reasons) == 1 else ""
            report.notes.append(f"{attribute}: no criterion could be gated{why}")
        report.checks.extend(checks)
    if results.conditions is not None and results.settings.values.get("gate_on_conditions"):
        report.checks.extend(degradation_checks(results.conditions, gate_on, strict))
    return report


def gate_report(results: ResultsDocument | Mapping[str, Any],
                options: CheckOptions | None = None) -> GateReport:
    """`evaluate_gate` under a command's options (`check`, `run --gate`, `card --gate`);
    without options, under the policy the document recorded (what the card shows)."""
    results = as_document(results)
    if options is None:
        recorded = results.settings.values
        return evaluate_gate(results, strict=recorded.get("strict") is True,
                             allow_empty=recorded.get("allow_empty_gate") is True)
    return evaluate_gate(results, gate_on=options.gate_on, strict=options.strict,
                         gated=options.gated, allow_empty=options.allow_empty_gate)


def resolved_gate_on(results: ResultsDocument, gate_on: str | None) -> str:
    """The verdicts to gate on: `gate_on` when given, else the document's own."""
    if gate_on is None:
        recorded = results.settings.values.get("gate_on")
        gate_on = recorded if recorded in GATE_ON else results.default_gate_on()
    if gate_on not in GATE_ON:
        raise UsageError(f"--gate-on: {gate_on!r} is one of {GATE_ON}")
    return gate_on


def _attribute_checks(
    block: AttributeAssessment, criteria: Iterable[str], gate_on: str, strict: bool
) -> Iterable[Check]:
    criteria = tuple(criteria)
    rules = {"a": block.criterion_a, "b": block.criterion_b}
    for group, figures in block.groups.items():
        ci = figures.deviation_ci
        for criterion in CRITERIA:
            rule = rules[criterion]
            verdicts = figures.verdict(criterion)
            decided = verdicts.ci if verdicts.ci is not None and None not in verdicts.ci \
                else None
            common = dict(
                attribute=block.name,
                group=group,
                criterion=criterion,
                n=figures.n,
                value=figures.value,
                deviation=figures.deviation,
                deviation_ci=ci if ci is not None and None not in ci else None,
                threshold=rule.threshold,
                point_verdict=verdicts.point,
                statistical_verdict=verdicts.statistical,
                statistic=verdicts.statistic,
                estimate=verdicts.estimate,
                ci=decided,
                ci_confidence=verdicts.confidence,
                bound=verdicts.bound,
                verdict_reason=verdicts.reason,
                gate_on=gate_on,
            )
            verdict = verdicts.form(gate_on)
            skipped = _skip_reason(figures, criterion, rule, criteria, verdict, gate_on)
            if skipped is not None:
                reason, need = skipped
                yield Check(status=SKIP, verdict=verdict, reason=reason, need=need, **common)
            elif verdict == VIOLATION:
                yield Check(status=FAIL, verdict=verdict, **common)
            elif verdict == INCONCLUSIVE:
                yield Check(status=FAIL if strict else WARN, verdict=verdict, **common)
            else:  # the contract admits no other verdict that is not skipped above
                yield Check(status=PASS, verdict=verdict, **common)


def _skip_reason(
    group: GroupResult,
    criterion: str,
    rule: CriterionA | CriterionB,
    criteria: tuple[str, ...],
    verdict: str | None,
    gate_on: str,
) -> tuple[str, str | None] | None:
    """Why this check is not gated and what would let it be, or None when it is gated."""
    if group.is_not_annotated:
        return "not annotated: reported, never gated", None
    if group.small_group:
        return f"small group (n = {group.n}): reported, not gated", NEED_SIZE
    if not group.gated:
        return "group not gated", NEED_SIZE
    if criterion not in criteria:
        return (f"criterion ({criterion}) not gated for this attribute by configuration",
                NEED_CONFIG)
    if isinstance(rule, CriterionA) and not rule.can_fire:
        return rule.note or "criterion (a) cannot fire with this few groups", NEED_GROUPS
    if isinstance(rule, CriterionB) and not rule.evaluated:
        # Evaluated needs an inter-annotator IoU (a threshold) and two groups to compare.
        need = NEED_IAA if rule.threshold is None else NEED_GROUPS
        return rule.note or "criterion (b) not evaluated (no inter-annotator IoU)", need
    if verdict is None:
        return "no verdict recorded", NEED_VERDICT
    if verdict in (NOT_EVALUATED, NOT_GATED):
        need = NEED_INTERVALS if gate_on == "statistical" else NEED_VERDICT
        return group.note or rule.note or verdict, need
    return None


__all__ = [
    "EXIT_EMPTY", "EXIT_FAIL", "EXIT_PASS", "FAIL", "OUTCOMES", "PASS", "SKIP", "WARN",
    "Check", "GateReport", "evaluate_gate", "gate_report", "read_results", "resolved_gate_on",
]
