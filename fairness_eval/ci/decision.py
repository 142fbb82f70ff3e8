"""The gate's decision and its counts as a machine reads them: one word and a few numbers.

`gate_decision` names what the exit code of `check` / `run --gate` says (passed, failed,
nothing checked) and `gate_counts` counts the checks by what the gate decided on them.
The GitHub step outputs (`step_outputs.py`) and the notebook front door
(`fairness_eval.api`) both read these two, so neither can drift from the gate itself
(`gate.py`), which decides; nothing here reads a number the gate did not.
"""

from __future__ import annotations

from ..results.names import INCONCLUSIVE, VIOLATION
from .gate import EXIT_EMPTY, EXIT_FAIL, GateReport
from .gate_checks import PASS

PASSED, FAILED, NOTHING_CHECKED = "passed", "failed", "nothing-checked"
DECISIONS = (PASSED, FAILED, NOTHING_CHECKED)


def gate_decision(report: GateReport) -> str:
    """"failed" (exit 1), "nothing-checked" (exit 2: every check skipped and no
    --allow-empty-gate), else "passed" (exit 0; also an empty gate that is allowed)."""
    code = report.exit_code
    return FAILED if code == EXIT_FAIL else NOTHING_CHECKED if code == EXIT_EMPTY else PASSED


def gate_counts(report: GateReport) -> dict[str, int]:
    """The gate's checks counted by what it decided, each counted once:

    violations: gated checks whose verdict is a violation (they fail); inconclusive: gated
    checks whose interval straddles the bound (they fail only under --strict); passes:
    checks that passed; not_gated: checks skipped (small or not-annotated groups, criteria
    that cannot fire, not evaluated or not gated by configuration). failing: the checks
    that failed the gate (violations, plus inconclusive ones under --strict); checks: all.
    """
    gated = report.gated
    return {
        "violations": sum(c.verdict == VIOLATION for c in gated),
        "inconclusive": sum(c.verdict == INCONCLUSIVE for c in gated),
        "passes": sum(c.status == PASS for c in report.checks),
        "not_gated": len(report.checks) - len(gated),
        "failing": len(report.failures),
        "checks": len(report.checks),
    }


__all__ = ["DECISIONS", "FAILED", "NOTHING_CHECKED", "PASSED", "gate_counts", "gate_decision"]
