"""The vocabularies of the standard attributes (region, skin_tone, mst, gender).

Kept as data in `annotations/vocabularies.json`; this module loads them and maps a raw
annotation to its canonical value, so that "Male", "male" and "M" count as one group. Part
of the contract: the dataset reader canonicalises values with them and the card describes
groups with them, so they live here, below both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Vocabulary:
    """The allowed values of one standard attribute, with what each covers."""

    name: str
    description: str
    values: dict[str, str]
    aliases: dict[str, str]
    # Whether the values are ordered (in the order listed): Fitzpatrick types and the Monk
    # Skin Tone scale are, so label agreement on them is measured on the ordinal metric.
    ordinal: bool = False

    def canonical(self, raw: str) -> str | None:
        """The canonical value for a raw annotation, or None when it is not in the vocabulary."""
        key = raw.strip().lower()
        for value in self.values:
            if value.lower() == key:
                return value
        return self.aliases.get(key)


@cache
def standard_vocabularies() -> dict[str, Vocabulary]:
    """Vocabularies by attribute name."""
    text = resources.files("fairness_eval").joinpath("annotations/vocabularies.json").read_text()
    data = json.loads(text)
    return {
        name: Vocabulary(name, spec["description"], dict(spec["values"]), dict(spec["aliases"]),
                         bool(spec.get("ordinal", False)))
        for name, spec in data.items()
        if not name.startswith("_")
    }
