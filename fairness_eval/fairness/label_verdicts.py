"""Every gated group of a voted attribute as the other label policy judges it.

A run given annotators' votes judges its groups under its label policy (`--labels`,
majority by default), and the gate reads those verdicts. This module records, beside each
gated group, what the same run under the other policy says of it: `label_resample` beside
a majority or unanimous run, `label_majority` beside a resample run. The other judgement is
the whole statistics stage run again with only the labels changed (`assess.evaluate` with
or without drawing the voted attributes' labels from their votes), so its figures,
thresholds and family-wise levels are exactly those `--labels <other>` would report: a
verdict that differs is one the label doubt turns.

Only groups both judgements hold are given the block: resampling has no `(disputed)`
group, and a value only minority votes name has no majority group.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..results.jsonvalues import to_jsonable

SECOND_OPINION = {"majority": "resample", "unanimous": "resample", "resample": "majority"}


def second_policy(policy: str) -> str:
    """The policy a run under `policy` is compared with."""
    return SECOND_OPINION[policy]


def add_second_opinion(statistics: dict[str, Any], other: Mapping[str, Any],
                       voted: list[str], policy: str) -> dict[str, Any]:
    """`statistics` with each voted attribute's gated groups given the figures and verdicts
    of `other` (the statistics under `second_policy(policy)`)."""
    key = f"label_{second_policy(policy)}"
    for name in voted:
        block = statistics.get("attributes", {}).get(name)
        theirs = other.get("attributes", {}).get(name)
        if block is None or theirs is None:
            continue
        for label, group in block["groups"].items():
            found = theirs["groups"].get(label)
            if not group.get("gated") or found is None:
                continue
            group[key] = to_jsonable({
                "images": found.get("expected_images", found["n"]),
                "value": found["value"],
                "ci": found["ci"],
                "deviation": found["deviation"],
                "deviation_ci": found["deviation_ci"],
                "verdicts": found["verdicts"],
                "margin_ci": _margin_ci(found),
                "empty_share": found.get("empty_share"),
            })
    return statistics


def _margin_ci(group: Mapping[str, Any]) -> Any:
    """Criterion (a)'s decided interval (the margin's), where the group has one."""
    return group.get("verdicts", {}).get("a", {}).get("ci")


__all__ = ["SECOND_OPINION", "add_second_opinion", "second_policy"]
