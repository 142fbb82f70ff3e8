"""The fairness gate: which gated criteria a results document violates, and the exit code.

Reads the typed results document (docs/results-schema.md) and never recomputes a number. Each
(attribute, group, criterion) becomes one `Check`: `fail` (violation; or inconclusive with
--strict), `warn` (inconclusive without --strict), `pass`, or `skip` with the reason (small
group, "(not annotated)", a criterion that cannot fire or was not evaluated, a criterion not
gated for that attribute). Exit code 0 when nothing fails, 1 otherwise; usage and input
errors raise UsageError (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.rules import GATE_ON
from ..errors import UsageError
from ..results import document as results_module
from ..results.assessment import AttributeAssessment, CriterionA, CriterionB, GroupResult
from ..results.names import CRITERIA, NOT_EVALUATED, NOT_GATED, VIOLATION
from ..results.schema import ResultsDocument, as_document

PASS, FAIL, WARN, SKIP = "pass", "fail", "warn", "skip"
EXIT_PASS, EXIT_FAIL = 0, 1


@dataclass(frozen=True)
class Check:
    """One gated (or skipped) criterion for one group of one attribute."""

    attribute: str
    group: str
    criterion: str  # "a" or "b"
    status: str  # pass | fail | warn | skip
    verdict: str | None  # the verdict the gate read ("violation", "inconclusive", ...)
    reason: str | None = None  # why skipped
    n: int | None = None
    value: float | None = None
    deviation: float | None = None
    deviation_ci: tuple[float, float] | None = None
    threshold: float | None = None
    point_verdict: str | None = None
    statistical_verdict: str | None = None

    def numbers(self, confidence: float) -> str:
        """The figures behind the verdict, one line: IoU, n, deviation, interval, threshold."""
        parts = []
        if self.value is not None:
            parts.append(f"IoU {self.value:.4f}")
        if self.n is not None:
            parts.append(f"n {self.n}")
        if self.deviation is not None:
            text = f"deviation {self.deviation:+.4f}"
            if self.deviation_ci is not None:
                low, high = self.deviation_ci
                text += f" [{confidence:.0%} CI {low:+.4f}, {high:+.4f}]"
            parts.append(text)
        if self.threshold is not None:
            parts.append(f"threshold +/-{self.threshold:.4f}")
        return ", ".join(parts)

    def describe(self, confidence: float, gate_on: str) -> str:
        """One line naming attribute, group, criterion, verdict and the numbers."""
        head = f"{self.attribute} / {self.group}: criterion ({self.criterion})"
        verdict = f"{self.verdict} ({gate_on})" if self.verdict else "no verdict"
        numbers = self.numbers(confidence)
        return f"{head} {verdict}" + (f" - {numbers}" if numbers else "")


@dataclass
class GateReport:
    """Every check of a results document under one gate policy."""

    checks: list[Check]
    gate_on: str = "statistical"
    strict: bool = False
    confidence: float = 0.95
    notes: list[str] = field(default_factory=list)  # e.g. an attribute with nothing gated

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status == WARN]

    @property
    def exit_code(self) -> int:
        return EXIT_FAIL if self.failures else EXIT_PASS

    def for_attribute(self, attribute: str) -> list[Check]:
        return [c for c in self.checks if c.attribute == attribute]

    def attributes(self) -> list[str]:
        return list(dict.fromkeys(c.attribute for c in self.checks))

    def closing_lines(self) -> list[str]:
        """The lines `check` prints last: warnings, each failure, then the outcome."""
        lines = [f"note: {note}" for note in self.notes]
        lines += [f"WARN {c.describe(self.confidence, self.gate_on)}" for c in self.warnings]
        lines += [f"FAIL {c.describe(self.confidence, self.gate_on)}" for c in self.failures]
        gated = [c for c in self.checks if c.status != SKIP]
        skipped = len(self.checks) - len(gated)
        detail = f"{len(gated)} gated checks on {self.gate_on} verdicts, {skipped} skipped"
        if self.warnings:
            detail += f", {len(self.warnings)} inconclusive that pass without --strict"
        if self.failures:
            attributes = sorted({c.attribute for c in self.failures})
            lines.append(
                f"fairness gate: FAILED - {len(self.failures)} failing check(s) in "
                f"{', '.join(attributes)} ({detail})"
            )
        else:
            lines.append(f"fairness gate: passed ({detail})")
        return lines


def read_results(run_dir: Path | str) -> ResultsDocument:
    """results.json of a run folder (or the file itself); UsageError if it cannot be gated."""
    return results_module.read_results(run_dir)


def evaluate_gate(
    results: ResultsDocument | Mapping[str, Any],
    *,
    gate_on: str = "statistical",
    strict: bool = False,
    gated: Mapping[str, Sequence[str]] | None = None,
) -> GateReport:
    """Judge every group and criterion of `results` under one gate policy.

    `gated` maps attribute -> criteria to gate (e.g. from the configuration file); an
    attribute it does not name falls back to what the run recorded in its settings
    (`per_attribute`), and that to both criteria.
    """
    if gate_on not in GATE_ON:
        raise UsageError(f"--gate-on: {gate_on!r} is one of {GATE_ON}")
    results = as_document(results)
    report = GateReport(checks=[], gate_on=gate_on, strict=strict,
                        confidence=results.confidence)
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
        from .condition_checks import degradation_checks  # it imports this module

        report.checks.extend(degradation_checks(results.conditions, gate_on, strict))
    return report


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
            )
            verdict = verdicts.form(gate_on)
            reason = _skip_reason(figures, criterion, rule, criteria, verdict)
            if reason is not None:
                yield Check(status=SKIP, verdict=verdict, reason=reason, **common)
            elif verdict == VIOLATION:
                yield Check(status=FAIL, verdict=verdict, **common)
            elif verdict == "inconclusive":
                yield Check(status=FAIL if strict else WARN, verdict=verdict, **common)
            else:  # the contract admits no other verdict that is not skipped above
                yield Check(status=PASS, verdict=verdict, **common)


def _skip_reason(
    group: GroupResult,
    criterion: str,
    rule: CriterionA | CriterionB,
    criteria: tuple[str, ...],
    verdict: str | None,
) -> str | None:
    """Why this check is not gated, or None when it is."""
    if group.is_not_annotated:
        return "not annotated: reported, never gated"
    if group.small_group:
        return f"small group (n = {group.n}): reported, not gated"
    if not group.gated:
        return "group not gated"
    if criterion not in criteria:
        return f"criterion ({criterion}) not gated for this attribute by configuration"
    if isinstance(rule, CriterionA) and not rule.can_fire:
        return rule.note or "criterion (a) cannot fire with this few groups"
    if isinstance(rule, CriterionB) and not rule.evaluated:
        return rule.note or "criterion (b) not evaluated (no inter-annotator IoU)"
    if verdict is None:
        return "no verdict recorded"
    if verdict in (NOT_EVALUATED, NOT_GATED):
        return group.note or rule.note or verdict
    return None
