"""Family-wise control of the gate: Holm's step-down over every gated check of a run.

A run judges many checks at once (attributes x groups x criteria: 17 regions, 6 skin tones
and 2 genders make 50). Each statistical verdict reads a two-sided interval at the run's
confidence, so a check calls a violation with probability at most alpha / 2 when its group
does not violate (alpha = 1 - confidence); over m checks, a fair model would fail the gate
somewhere up to m times as often. Holm's procedure bounds that chance by alpha / 2 for the
whole run, with more power than Bonferroni. Stated with intervals, as the checks are:

    with j checks not yet found in violation, judge each of them on its interval at
    confidence 1 - alpha / j; those lying wholly beyond are violations; repeat until a
    round finds none.

This is Holm's step-down (the hypotheses rejected at threshold alpha / j are exactly those
whose interval at 1 - alpha / j excludes the criterion's region). Each check records the
interval at the confidence it was judged at: a violation, the round that found it; every
other check, the last round's. Pass and inconclusive are read from that same interval, so
the interval printed beside every verdict is the one it was decided on. With one check,
or `--familywise none`, every interval is at the run's confidence.

The family is the checks the gate will read: gated groups, criteria that can be
evaluated, and only the criteria the configuration gates for each attribute.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..results.names import CRITERIA, VERDICT_RANK, VIOLATION
from .criteria import Levels

Check = tuple[str, str, str]  # attribute, group, criterion
Blocks = dict[str, dict[str, Any]]


def gated_checks(blocks: Mapping[str, Mapping[str, Any]],
                 gated_criteria: Callable[[str], tuple[str, ...]]) -> list[Check]:
    """The (attribute, group, criterion) checks the gate will read, in document order."""
    checks = []
    for attribute, block in blocks.items():
        criteria = gated_criteria(attribute)
        for group, figures in block["groups"].items():
            for criterion in CRITERIA:
                verdict = figures["verdicts"].get(criterion, {}).get("statistical")
                if criterion in criteria and verdict in VERDICT_RANK:
                    checks.append((attribute, group, criterion))
    return checks


def _levels(chosen: Mapping[Check, float]) -> dict[str, Levels]:
    by_attribute: dict[str, dict[tuple[str, str], float]] = {}
    for (attribute, group, criterion), level in chosen.items():
        by_attribute.setdefault(attribute, {})[(group, criterion)] = level
    return by_attribute


def holm_levels(
    blocks: Blocks,
    assess: Callable[[dict[str, Levels]], Blocks],
    gated_criteria: Callable[[str], tuple[str, ...]],
    confidence: float,
) -> tuple[Blocks, int]:
    """The attributes' blocks judged by Holm's step-down, and the size of the family.

    `blocks` are the attributes judged at the run's confidence; `assess(levels)` judges
    them again with the given confidence per (group, criterion).
    """
    checks = gated_checks(blocks, gated_criteria)
    if len(checks) <= 1:
        return blocks, len(checks)
    alpha = 1.0 - confidence
    found: dict[Check, float] = {}  # violations, at the confidence that found them
    judged = blocks
    while True:
        remaining = [check for check in checks if check not in found]
        if not remaining:  # every check a violation: each as the round that found it
            return judged, len(checks)
        level = 1.0 - alpha / len(remaining)
        judged = assess(_levels({**found, **dict.fromkeys(remaining, level)}))
        newly = [check for check in remaining if _verdict(judged, check) == VIOLATION]
        if not newly:
            return judged, len(checks)
        found.update(dict.fromkeys(newly, level))


def _verdict(blocks: Blocks, check: Check) -> str | None:
    attribute, group, criterion = check
    return blocks[attribute]["groups"][group]["verdicts"][criterion]["statistical"]


__all__ = ["gated_checks", "holm_levels"]
