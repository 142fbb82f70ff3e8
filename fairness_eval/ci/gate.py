"""The fairness gate: which gated criteria a results document violates, and the exit code.

Reads a results.json document (docs/results-schema.md) and never recomputes a number. Each
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

from ..config.settings import CRITERIA, GATE_ON, gated_criteria
from ..data.dataset import NOT_ANNOTATED
from ..errors import UsageError
from ..results import document as results_module

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


def read_results(run_dir: Path | str) -> dict[str, Any]:
    """results.json of a run folder (or the file itself); UsageError if it cannot be gated."""
    results = results_module.read_results(run_dir)
    if not isinstance(results.get("attributes"), dict):
        raise UsageError(f"{run_dir}: results document has no 'attributes' to gate")
    return results


def evaluate_gate(
    results: Mapping[str, Any],
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
    settings = results.get("settings") or {}
    confidence = float((results.get("bootstrap") or {}).get("confidence", 0.95))
    report = GateReport(checks=[], gate_on=gate_on, strict=strict, confidence=confidence)
    for attribute, block in results["attributes"].items():
        if gated is not None and attribute in gated:
            criteria = tuple(gated[attribute])
        else:
            criteria = gated_criteria(settings, attribute)
        checks = list(_attribute_checks(attribute, block, criteria, gate_on, strict))
        if checks and all(c.status == SKIP for c in checks):
            reasons = {c.reason for c in checks}
            why = f" ({reasons.pop()})" if len(reasons) == 1 else ""
            report.notes.append(f"{attribute}: no criterion could be gated{why}")
        report.checks.extend(checks)
    return report


def _attribute_checks(
    attribute: str, block: Mapping[str, Any], criteria: Iterable[str], gate_on: str, strict: bool
) -> Iterable[Check]:
    criteria = tuple(criteria)
    criteria_info = block.get("criteria") or {}
    for group, stats in (block.get("groups") or {}).items():
        for criterion in CRITERIA:
            info = criteria_info.get(criterion) or {}
            verdicts = (stats.get("verdicts") or {}).get(criterion) or {}
            ci = stats.get("deviation_ci")
            common = dict(
                attribute=attribute,
                group=group,
                criterion=criterion,
                n=stats.get("n"),
                value=stats.get("value", stats.get("mean_iou")),
                deviation=stats.get("deviation"),
                deviation_ci=tuple(ci) if ci is not None else None,
                threshold=info.get("threshold"),
                point_verdict=verdicts.get("point"),
                statistical_verdict=verdicts.get("statistical"),
            )
            verdict = verdicts.get(gate_on)
            reason = _skip_reason(group, stats, criterion, info, criteria, verdict)
            if reason is not None:
                yield Check(status=SKIP, verdict=verdict, reason=reason, **common)
            elif verdict == "violation":
                yield Check(status=FAIL, verdict=verdict, **common)
            elif verdict == "inconclusive":
                yield Check(status=FAIL if strict else WARN, verdict=verdict, **common)
            elif verdict == "pass":
                yield Check(status=PASS, verdict=verdict, **common)
            else:
                raise UsageError(
                    f"results.json: attributes.{attribute}.groups.{group}.verdicts.{criterion}."
                    f"{gate_on} is {verdict!r}; expected pass, violation, inconclusive, "
                    f"not evaluated or not gated"
                )


def _skip_reason(
    group: str,
    stats: Mapping[str, Any],
    criterion: str,
    info: Mapping[str, Any],
    criteria: tuple[str, ...],
    verdict: str | None,
) -> str | None:
    """Why this check is not gated, or None when it is."""
    if stats.get("not_annotated") or group == NOT_ANNOTATED:
        return "not annotated: reported, never gated"
    if stats.get("small_group"):
        return f"small group (n = {stats.get('n')}): reported, not gated"
    if stats.get("gated") is False:
        return "group not gated"
    if criterion not in criteria:
        return f"criterion ({criterion}) not gated for this attribute by configuration"
    if criterion == "a" and info.get("can_fire") is False:
        return info.get("note") or "criterion (a) cannot fire with this few groups"
    if criterion == "b" and info.get("evaluated") is False:
        return info.get("note") or "criterion (b) not evaluated (no inter-annotator IoU)"
    if verdict is None:
        return "no verdict recorded"
    if verdict in ("not evaluated", "not gated"):
        return stats.get("note") or info.get("note") or verdict
    return None
