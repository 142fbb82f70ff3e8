"""One check of the gate (`Check`), its statuses, and how a person reads its numbers.

A `Check` is one (attribute, group, criterion) the gate looked at: `fail`, `warn`, `pass`,
or `skip` with the reason and what would have let it be gated (`need`). The gate
(`gate.py`) and the disparate-degradation checks (`condition_checks.py`) build them; the
CI outputs print them.

Units: a line a person reads gives IoU in % and differences, intervals and thresholds in
percentage points (pt); the machine outputs (results.json, junit properties, GitHub
outputs) keep fractions. The interval printed beside a statistical verdict is the one the
verdict was decided on (`CriterionVerdicts.ci` at its own confidence); a document that
records none (written before, or a published table) falls back to the deviation's
interval at the run's confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

PASS, FAIL, WARN, SKIP = "pass", "fail", "warn", "skip"

# What would have let a skipped check be gated; the empty gate's line names each.
NEED_IAA = ("criterion (b) needs the inter-annotator IoU: pass --inter-annotator-iou or "
            "add a masks_<annotator>/ folder")
NEED_GROUPS = ("too few groups to judge (criterion (a) cannot fire; (b) compares two or "
               "more): more groups, or a smaller --min-group-size")
NEED_SIZE = ("groups below --min-group-size are reported, not gated: more images per group, "
             "or a smaller --min-group-size")
NEED_CONFIG = "the configuration gates no criterion of an attribute ([attributes.NAME] gate)"
NEED_INTERVALS = "no statistical verdict (the table gives no intervals): --gate-on point"
NEED_VERDICT = "no verdict was recorded"
NEED_ORDER = (NEED_IAA, NEED_GROUPS, NEED_SIZE, NEED_INTERVALS, NEED_CONFIG, NEED_VERDICT)


def percent(value: float) -> str:
    """A fraction as a person reads it: 0.742 -> '74.20 %'."""
    return f"{100 * value:.2f} %"


def pt(value: float, signed: bool = True) -> str:
    """A difference of fractions in percentage points: 0.0156 -> '+1.56 pt'."""
    return f"{100 * value:+.2f} pt" if signed else f"{100 * value:.2f} pt"


def level(confidence: float) -> str:
    """A confidence as a label: 0.95 -> '95%', 0.99714 -> '99.71%'."""
    return f"{100 * confidence:.2f}".rstrip("0").rstrip(".") + "%"


def bracket(ci: tuple[float, float], confidence: float) -> str:
    """An interval of differences in pt: '[95% CI -7.07, +8.01]'."""
    return f"[{level(confidence)} CI {100 * ci[0]:+.2f}, {100 * ci[1]:+.2f}]"


@dataclass(frozen=True)
class Check:
    """One gated (or skipped) criterion for one group of one attribute."""

    attribute: str
    group: str
    criterion: str  # "a", "b" or "degradation"
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
    need: str | None = None  # skipped: what would have let it be gated (NEED_*)
    # The statistical verdict's own decision (CriterionVerdicts); None in older documents.
    statistic: str | None = None  # "margin" or "deviation"
    estimate: float | None = None
    ci: tuple[float, float] | None = None
    ci_confidence: float | None = None
    bound: float | None = None
    verdict_reason: str | None = None
    gate_on: str = "statistical"

    def numbers(self, confidence: float) -> str:
        """The figures behind the verdict, one line, in % and pt (see the module docstring)."""
        parts = []
        if self.value is not None:
            parts.append(f"IoU {percent(self.value)}")
        if self.n is not None:
            parts.append(f"n {self.n}")
        decided = (self.gate_on == "statistical" and self.statistic is not None
                   and self.ci is not None and self.estimate is not None)
        if decided:
            if self.statistic == "margin":
                if self.deviation is not None:
                    parts.append(f"deviation {pt(self.deviation)}")
                bound = self.bound if self.bound is not None else 0.0
                parts.append(f"margin {pt(self.estimate)} "
                             f"{bracket(self.ci, self.ci_confidence or confidence)}, "
                             f"violation when above {100 * bound:g}")
            else:
                parts.append(f"deviation {pt(self.estimate)} "
                             f"{bracket(self.ci, self.ci_confidence or confidence)}")
                bound = self.bound if self.bound is not None else self.threshold
                if bound is not None:
                    parts.append(f"threshold +/-{pt(bound, signed=False)}")
            if self.verdict_reason:
                parts.append(self.verdict_reason)
            return ", ".join(parts)
        if self.deviation is not None:
            text = f"deviation {pt(self.deviation)}"
            # A point verdict reads the deviation alone: no interval beside it.
            if self.deviation_ci is not None and self.gate_on == "statistical":
                text += f" {bracket(self.deviation_ci, confidence)}"
            parts.append(text)
        if self.threshold is not None:
            parts.append(f"threshold +/-{pt(self.threshold, signed=False)}")
        return ", ".join(parts)

    def describe(self, confidence: float, gate_on: str) -> str:
        """One line naming attribute, group, criterion, verdict and the numbers."""
        head = f"{self.attribute} / {self.group}: criterion ({self.criterion})"
        verdict = f"{self.verdict} ({gate_on})" if self.verdict else "no verdict"
        numbers = self.numbers(confidence)
        return f"{head} {verdict}" + (f" - {numbers}" if numbers else "")


__all__ = [
    "FAIL", "NEED_CONFIG", "NEED_GROUPS", "NEED_IAA", "NEED_INTERVALS",
    "NEED_ORDER", "NEED_SIZE", "NEED_VERDICT", "PASS", "SKIP", "WARN", "Check", "bracket",
    "level", "percent", "pt",
]
