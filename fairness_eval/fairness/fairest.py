"""Which of several models is fairest: the comparison card's rule applied to each model's
own figures.

The rule (results/model_comparison_record.py `FAIREST_RULE`): fewest gated criterion
violations in the model's own run; then the highest worst-group lower bound (the lowest
interval lower end of any gated group over the attributes compared; where lower is better,
flicker, the highest upper end, and lower ranks better); then the smallest gap (the largest
range over those attributes). A figure that is missing ranks last on its rule. Models whose
three figures are equal (to 1e-12) tie and share a rank.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..results.assessment import AttributeAssessment
from ..results.model_comparison_record import FAIREST_RULES, FairnessStanding

_DIGITS = 12  # figures equal to this many decimals tie: the same run read twice is equal


def worst_bound(blocks: Sequence[AttributeAssessment], lower_is_better: bool
                ) -> tuple[float | None, str | None]:
    """The worst gated group's interval end over `blocks`, and "attribute: group" of it."""
    worst: tuple[float, str] | None = None
    for block in blocks:
        for group in block.groups.values():
            if not group.gated or group.ci is None:
                continue
            end = group.ci[1] if lower_is_better else group.ci[0]
            if end is None or not math.isfinite(end):
                continue
            if worst is None or (end > worst[0] if lower_is_better else end < worst[0]):
                worst = (end, f"{block.name}: {group.name}")
    return (None, None) if worst is None else worst


def largest_gap(blocks: Sequence[AttributeAssessment]) -> float | None:
    """The largest range (highest minus lowest gated group) over `blocks`."""
    gaps = [abs(block.range.value) for block in blocks
            if block.range is not None and block.range.value is not None]
    return max(gaps) if gaps else None


def rank_models(labels: Sequence[str], violations: Sequence[int],
                blocks: Sequence[Sequence[AttributeAssessment]], lower_is_better: bool
                ) -> tuple[FairnessStanding, ...]:
    """Every model's standing by the rule, best first (ties keep the order given).

    `violations[i]` counts the gated violations of model i's run and `blocks[i]` holds its
    assessments of the attributes compared, in the same order for every model.
    """
    entries = []
    for label, count, own in zip(labels, violations, blocks, strict=True):
        bound, group = worst_bound(own, lower_is_better)
        entries.append((label, count, bound, group, largest_gap(own)))

    def keys(entry: tuple) -> tuple[float, float, float]:
        _, count, bound, _, gap = entry
        # Smaller is better on every key; a missing figure ranks last.
        if bound is None:
            bound_key = math.inf
        else:
            bound_key = round(bound if lower_is_better else -bound, _DIGITS)
        gap_key = math.inf if gap is None else round(gap, _DIGITS)
        return (float(count), bound_key, gap_key)

    ordered = sorted(entries, key=keys)  # stable: ties keep the order given
    standings = []
    rank = 0
    for index, entry in enumerate(ordered):
        if index == 0 or keys(entry) != keys(ordered[index - 1]):
            rank = index + 1
        decided_by = None
        if index + 1 < len(ordered):
            mine, theirs = keys(entry), keys(ordered[index + 1])
            decided_by = next((rule for rule, a, b in zip(FAIREST_RULES, mine, theirs,
                                                          strict=True) if a != b), None)
        label, count, bound, group, gap = entry
        standings.append(FairnessStanding(label=label, rank=rank, gated_violations=count,
                                          worst_bound=bound, worst_group=group,
                                          largest_gap=gap, decided_by=decided_by))
    return tuple(standings)


def fairest_labels(standings: Sequence[FairnessStanding]) -> tuple[str, ...]:
    """The labels ranked first: one model, or several that tie on every rule."""
    return tuple(s.label for s in standings if s.rank == 1)


__all__ = ["fairest_labels", "largest_gap", "rank_models", "worst_bound"]
