"""Which rule each field of the settings records obeys, and applying those rules.

`FIELD_RULES` maps a field name to the command-line option that sets it and its rule in
`rules.py` (or `condition_rules.py`). Every record (`settings.py`, `command_options.py`)
calls `apply_rules` on construction, so a field of the same name obeys the same rule, and
breaks it with the same one-line message, in each record and whoever set it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from ..errors import UsageError
from ..results.names import LABEL_POLICIES
from . import condition_rules, rules
from .rules import CI_METHODS, METRICS, REFERENCES, STATISTICS, UNITS

# field -> (the option that sets it, its rule). One table for every record: a field of the
# same name obeys the same rule in each.
FIELD_RULES: dict[str, tuple[str, rules.Rule]] = {
    "model": ("--model", rules.model),
    "model_spec": ("--model-spec", rules.model_spec),
    "predictions": ("--predictions", rules.folder),
    "out": ("--out", rules.path),
    "overwrite": ("--overwrite", rules.flag),
    "resume": ("--resume", rules.flag),
    "attributes": ("--attribute", rules.names),
    "intersect": ("--intersect", rules.crossings),
    "skip_invalid": ("--skip-invalid", rules.flag),
    "limit": ("--limit", rules.row_count),
    "sample": ("--sample", rules.row_count),
    "mask_threshold": ("--threshold", rules.mask_threshold),
    "mask_person_value": ("--mask-person-value", rules.mask_person_value),
    "threads": ("--threads", rules.threads),
    "workers": ("--workers", rules.at_least(1)),
    "executor": ("--executor", rules.one_of(rules.EXECUTORS)),
    "scheduler": ("--scheduler", rules.scheduler),
    "save_masks": ("--save-masks", rules.flag),
    "max_pixels": ("--max-pixels", rules.max_pixels),
    "exif": ("--exif", rules.one_of(rules.EXIF_CHOICES)),
    "conditions": ("--conditions", condition_rules.conditions),
    "condition_severities": ("conditions", condition_rules.condition_severities),
    "save_conditions": ("--save-conditions", rules.path),
    "derive": ("--derive", condition_rules.derived),
    "adjust_for": ("--adjust-for", condition_rules.optional_name),
    "gate_on_conditions": ("--gate-on-conditions", rules.flag),
    "bootstrap": ("--bootstrap", rules.bootstrap),
    "confidence": ("--confidence", rules.confidence),
    "ci_method": ("--ci-method", rules.one_of(CI_METHODS)),
    "familywise": ("--familywise", rules.one_of(rules.FAMILYWISE)),
    "seed": ("--seed", rules.at_least(0)),
    "statistic": ("--statistic", rules.one_of(STATISTICS)),
    "metric": ("--metric", rules.one_of(METRICS)),
    "boundary_ratio": ("--boundary-ratio", rules.boundary_ratio),
    "reference": ("--reference", rules.one_of(REFERENCES)),
    "min_group_size": ("--min-group-size", rules.at_least(1)),
    "sd_factor": ("--sd-factor", rules.sd_factor),
    "sd_ddof": ("--sd-ddof", rules.sd_ddof),
    "inter_annotator_iou": ("--inter-annotator-iou", rules.inter_annotator_iou),
    "formats": ("--format", rules.formats),
    "card": ("--card", rules.path),
    "examples": ("--examples", rules.at_least(0)),
    "redact_paths": ("--redact-paths", rules.flag),
    "gate": ("--gate", rules.flag),
    "strict": ("--strict", rules.flag),
    "gate_on": ("--gate-on", rules.gate_on),
    "allow_empty_gate": ("--allow-empty-gate", rules.flag),
    "average": ("--average", rules.average),
    "units": ("--units", rules.one_of(UNITS)),
    "max_drop": ("--max-drop", rules.max_drop),
    "attribute_votes": ("--attribute-votes", rules.path),
    "votes_image_key": ("--votes-image-key", rules.key_text),
    "labels": ("--labels", rules.one_of(LABEL_POLICIES)),
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
