"""Bins: an ordinal attribute's values grouped into ranges (`[attributes.<name>] bins`).

Ten Monk Skin Tone values make ten groups, several of them too small to judge; FACET and
the MST guidance group them (1-3, 4-7, 8-10). A configuration declares

    [attributes.skin_tone]
    vocabulary = "mst"
    bins = ["1-3", "4-7", "8-10"]

Each entry is a range `low-high` of the vocabulary's values, both ends included in the
vocabulary's order, or a single value; the entry, as written with canonical ends, is the
group's name. Bins need an ordinal vocabulary (a range of regions means nothing), and must
cover every value of it exactly once, in order, so that no image falls outside a group and
none into two. A vote is binned before a label policy counts votes: three votes 2, 3, 3 are
three votes for "1-3", unanimous on the binned scale, which is the scale the groups use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import UsageError
from ..results.vocabularies import Vocabulary
from .votes import AttributeVotes, ImageVotes


@dataclass(frozen=True)
class Bins:
    """Groups of an ordinal scale's values, in order: bin name -> its values."""

    groups: dict[str, tuple[str, ...]]

    def of(self, value: str) -> str:
        """The bin a canonical value falls in."""
        for name, values in self.groups.items():
            if value in values:
                return name
        raise KeyError(value)

    def to_json(self) -> dict[str, list[str]]:
        return {name: list(values) for name, values in self.groups.items()}


def parse_bins(spec: Sequence[str], vocabulary: Vocabulary | None, where: str) -> Bins:
    """The `Bins` a configuration's list of ranges declares; UsageError naming `where`."""
    def fail(reason: str) -> UsageError:
        return UsageError(f"{where}: {reason}")

    if vocabulary is None or not vocabulary.ordinal:
        raise fail("bins need an ordinal vocabulary (skin_tone, mst; name one with "
                   "vocabulary = ...)")
    if isinstance(spec, str) or not spec or not all(isinstance(e, str) for e in spec):
        raise fail('must be a list of ranges such as ["1-3", "4-7", "8-10"]')
    order = list(vocabulary.values)
    groups: dict[str, tuple[str, ...]] = {}
    expected = 0  # the position the next bin must start at
    for entry in spec:
        text = entry.strip()
        # The separator is a dash between two values ("1-3"; "type 1-type 3" reads too).
        low_text, _, high_text = text.partition("-") if "-" in text else (text, "", text)
        low, high = vocabulary.canonical(low_text), vocabulary.canonical(high_text)
        if low is None or high is None:
            raise fail(f"{entry!r} is not a value or range of the {vocabulary.name} scale "
                       f"({', '.join(order)})")
        start, stop = order.index(low), order.index(high)
        if stop < start:
            raise fail(f"{entry!r} runs backwards")
        if start != expected:
            missing = "overlaps the bin before it" if start < expected else \
                f"leaves out {', '.join(order[expected:start])}"
            raise fail(f"{entry!r} {missing}; bins cover every value once, in order")
        name = low if start == stop else f"{low}-{high}"
        groups[name] = tuple(order[start:stop + 1])
        expected = stop + 1
    if expected != len(order):
        raise fail(f"no bin holds {', '.join(order[expected:])}; bins cover every value once")
    return Bins(groups)


def binned(votes: AttributeVotes, bins: Bins) -> AttributeVotes:
    """The votes on the binned scale: each vote moved to its bin, counts merged."""
    images = {}
    for image, image_votes in votes.images.items():
        counts: dict[str, int] = {}
        for value, count in image_votes.counts.items():
            counts[bins.of(value)] = counts.get(bins.of(value), 0) + count
        images[image] = ImageVotes(
            counts, {a: bins.of(v) for a, v in image_votes.annotators.items()})
    return AttributeVotes(votes.attribute, tuple(bins.groups), votes.ordinal, images,
                          votes.named)


__all__ = ["Bins", "binned", "parse_bins"]
