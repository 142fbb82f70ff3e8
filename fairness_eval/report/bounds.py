"""How much of a run the card shows in full, so that it stays readable and its rendering
time stays bounded however many groups and attributes the data holds.

Per attribute the card's tables and charts show at most `GROUPS_SHOWN` groups: when there
are more, the `GROUPS_SHOWN - GROUPS_SHOWN // 2` worst by the judged figure and the
`GROUPS_SHOWN // 2` best (a flicker's worst is its highest), in the document's order, and a
line says how many more there are and where they are (results.json, per_image.csv). At most
`ATTRIBUTES_SHOWN` attributes get their sections and charts, those with the worst verdicts
first; every attribute keeps its row in the fairness summary and the criteria table.
Choosing what to show is presentation: no figure is computed here, the groups' values are
read from the results document.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..results.assessment import AttributeAssessment
from ..results.names import VERDICT_RANK
from .formatting import is_number

# The card's bounds. With them a card of 3,000 groups renders its HTML in a few seconds
# (tests/test_card_bounds.py holds it under CARD_SECONDS).
GROUPS_SHOWN = 25
ATTRIBUTES_SHOWN = 10


@dataclass(frozen=True)
class ShownAttribute:
    """An attribute as the card shows it: its shown groups only, and how many it leaves out."""

    index: int  # its position among all the document's attributes (the anchor's number)
    attribute: AttributeAssessment  # the recorded attribute with only the shown groups
    hidden_groups: int


def shown_groups(attribute: AttributeAssessment, lower_is_better: bool = False
                 ) -> tuple[str, ...]:
    """The names of the groups the card shows, in the document's order: all of them up to
    `GROUPS_SHOWN`, else the worst and the best by their recorded value."""
    names = list(attribute.groups)
    if len(names) <= GROUPS_SHOWN:
        return tuple(names)
    valued = [n for n in names if is_number(attribute.groups[n].value)]
    # Worst first; the stable sort keeps the document's order among equal values.
    ranked = sorted(valued, key=lambda n: attribute.groups[n].value, reverse=lower_is_better)
    best = GROUPS_SHOWN // 2
    chosen = set(ranked[:GROUPS_SHOWN - best]) | set(ranked[len(ranked) - best:] if best else ())
    unvalued = [n for n in names if n not in chosen and n not in valued]
    chosen |= set(unvalued[:max(0, GROUPS_SHOWN - len(chosen))])
    return tuple(n for n in names if n in chosen)


def shown_attributes(attributes: Sequence[AttributeAssessment], lower_is_better: bool = False
                     ) -> list[ShownAttribute]:
    """The attributes the card shows in full (at most `ATTRIBUTES_SHOWN`, the worst verdicts
    first, then the document's order), each with its shown groups."""
    def severity(index: int) -> tuple[int, int]:  # violation, inconclusive, pass, the rest
        return -VERDICT_RANK.get(attributes[index].verdict, -1), index

    kept = sorted(sorted(range(len(attributes)), key=severity)[:ATTRIBUTES_SHOWN])
    shown = []
    for index in kept:
        attribute = attributes[index]
        names = shown_groups(attribute, lower_is_better)
        trimmed = attribute if len(names) == len(attribute.groups) else dataclasses.replace(
            attribute, groups={n: attribute.groups[n] for n in names})
        shown.append(ShownAttribute(index, trimmed, len(attribute.groups) - len(names)))
    return shown


def hidden_attributes(attributes: Sequence[AttributeAssessment],
                      shown: Sequence[ShownAttribute]) -> list[dict[str, Any]]:
    """The attributes not shown in full, for the card's list of them: the anchor the
    fairness summary links to, the name and the number of groups."""
    kept = {s.index for s in shown}
    return [{"anchor": f"attribute-{index + 1}", "name": attribute.name,
             "groups": len(attribute.groups)}
            for index, attribute in enumerate(attributes) if index not in kept]


__all__ = ["ATTRIBUTES_SHOWN", "GROUPS_SHOWN", "ShownAttribute", "hidden_attributes",
           "shown_attributes", "shown_groups"]
