"""Which rule each field of the settings records obeys, and applying those rules.

`FIELD_RULES` maps a field name to the command-line option that sets it and its rule in
`rules.py` (or `condition_rules.py`); `run`'s options bring theirs from their catalogue
(`options.py`). Every record (`settings.py`, `command_options.py`) calls `apply_rules` on
construction, so a field of the same name obeys the same rule, and breaks it with the same
one-line message, in each record and whoever set it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from ..errors import UsageError
from . import condition_rules, rules
from .options import RUN_OPTIONS
from .rules import UNITS

# field -> (the option that sets it, its rule). One table for every record: a field of the
# same name obeys the same rule in each. `run`'s options come from their catalogue
# (`options.py`); the rest are the fields of the other commands' records, and the
# severities only a configuration file's [conditions] table sets.
FIELD_RULES: dict[str, tuple[str, rules.Rule]] = {
    **{option.name: (option.option, option.rule) for option in RUN_OPTIONS},
    "condition_severities": ("conditions", condition_rules.condition_severities),
    "average": ("--average", rules.average),
    "units": ("--units", rules.one_of(UNITS)),
    "max_drop": ("--max-drop", rules.max_drop),
}

# Per-attribute settings (only from a configuration file's [attributes.NAME] tables).
# votes = "counts": the attribute's votes are count columns <name>_<value> of the dataset's
# table; vocabulary: the vocabulary its values follow (e.g. "mst" for a column "skin_tone");
# bins: ranges of an ordinal scale that form its groups (data/label_bins.py).
PER_ATTRIBUTE_KEYS = ("gate", "min_group_size", "votes", "vocabulary", "bins")
VOTE_SOURCES = ("counts",)


def option_name(field_name: str) -> str:
    """The command-line option that sets a field ("--threshold" for mask_threshold)."""
    return FIELD_RULES[field_name][0]


def apply_rules(record: Any) -> None:
    """Convert and check every field of a frozen record by its rule, in field order."""
    for item in fields(record):
        if item.name in FIELD_RULES and item.init:
            option, rule = FIELD_RULES[item.name]
            object.__setattr__(record, item.name, rule(getattr(record, item.name), option))


def min_group_size_rule(value: Any, option: str) -> int:
    """The rule of --min-group-size, also for an attribute's own minimum."""
    return FIELD_RULES["min_group_size"][1](value, option)


def per_attribute_tables(tables: Any) -> dict[str, dict[str, Any]]:
    """Per-attribute tables checked: {"region": {"gate": ("a",), "min_group_size": 40}}."""
    if not isinstance(tables, Mapping):
        raise rules.fail("attributes", tables, "is not a table of attribute tables")
    checked: dict[str, dict[str, Any]] = {}
    for name, table in tables.items():
        where = f"attributes.{name}"
        if not isinstance(table, Mapping):
            raise rules.fail(where, table, "is not a table")
        unknown = [key for key in table if key not in PER_ATTRIBUTE_KEYS]
        if unknown:
            raise UsageError(f"{where}: unknown key {unknown[0]!r} (known: gate, "
                             "min-group-size, votes, vocabulary, bins)")
        entry: dict[str, Any] = {}
        if "gate" in table:
            entry["gate"] = rules.criteria(table["gate"], f"{where}.gate")
        if table.get("min_group_size") is not None:
            entry["min_group_size"] = min_group_size_rule(
                table["min_group_size"], f"{where}.min-group-size")
        entry.update(_label_keys(str(name), table, where))
        checked[str(name)] = entry
    return checked


def _label_keys(name: str, table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """An attribute table's votes, vocabulary and bins, checked (bins against the scale)."""
    entry: dict[str, Any] = {}
    if table.get("votes") is not None:
        entry["votes"] = rules.choice(table["votes"], f"{where}.votes", VOTE_SOURCES)
    if table.get("vocabulary") is not None:
        from ..results.vocabularies import standard_vocabularies

        entry["vocabulary"] = rules.choice(table["vocabulary"], f"{where}.vocabulary",
                                           standard_vocabularies())
    if table.get("bins") is not None:
        from ..data.label_bins import parse_bins
        from ..results.vocabularies import standard_vocabularies

        vocabulary = standard_vocabularies().get(entry.get("vocabulary", name))
        spec = table["bins"]
        parse_bins(spec if isinstance(spec, str) else list(spec), vocabulary, f"{where}.bins")
        entry["bins"] = tuple(spec)
    return entry


__all__ = [
    "FIELD_RULES", "PER_ATTRIBUTE_KEYS", "apply_rules", "min_group_size_rule", "option_name",
    "per_attribute_tables",
]
