"""The configuration file's keys: which setting each sets, and its value's type.

`RUN_KEYS`, `CHECK_KEYS`, `COMPARE_KEYS` and `ATTRIBUTE_KEYS` map each key of a table to
the settings field it sets and its kind (`RUN_KEYS` is built from `run`'s option
catalogue, `options.py`: each option's flags are its keys); `convert_value` checks a TOML
value's type by its kind and converts it (paths made relative to the file's folder). The
values' ranges are the settings records' rules (`field_rules.py`). `files.py` reads a file
with these tables.

The file's layout (keys are the long CLI option names; `min_group_size` and
`min-group-size` are the same key):

    # options of `fairness-eval run`
    dataset = "../shared/datasets/voc2012_person"
    attribute = ["region", "skin_tone"]
    threshold = 0.5          # the mask threshold; `mask-threshold` is the same key
    gate = true
    # model = "selfie"       # a registered name or a .tflite / .onnx file, or instead:
    # model-spec = "specs/sinet.toml", or a [model] table (a model spec, models/spec.py),
    # or predictions = "masks/" (supplied predictions: no model runs)

    [check]                  # options of `fairness-eval check` (fall back to the run's)
    strict = true
    gate-on = "statistical"

    [compare]                # options of `fairness-eval compare`
    max-drop = 0.01

    [attributes.region]      # per attribute
    gate = ["a", "b"]        # criteria gated for this attribute ([] : reported, not gated)
    min-group-size = 40
    intersect = ["skin_tone"]  # also evaluate region x skin_tone

    [attributes.skin_tone]   # labels from several annotators' votes (data/vote_labels.py)
    votes = "counts"         # count columns skin_tone_1 ... of attributes.csv (FACET's way)
    vocabulary = "mst"       # the Monk Skin Tone scale instead of Fitzpatrick
    bins = ["1-3", "4-7", "8-10"]  # groups of the ordinal scale

    [conditions]             # capture conditions evaluated, with their severities
    dark = [0.5, 0.25, 0.1]  # (--conditions chooses among them, defaults for the rest)
    blur = [0.02]

A top-level `conditions = ["dark", "blur"]` instead chooses conditions at their default
severities.

Relative paths in a file are relative to the file's folder.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..models.runtime_kinds import MODEL_FILE_WORDS, MODEL_SUFFIXES

# Key kinds: how a TOML value's type is checked and converted (each run option's catalogue
# entry, options.py, names the kind of its keys).
from .options import (
    BOOL,
    FLOAT,
    INT,
    INTERSECT,
    MODEL,
    PATH,
    RUN_OPTIONS,
    STR,
    STR_LIST,
)

# key (long CLI option name) -> (settings field, kind): the dataset, then each run option's
# keys (its flags without dashes), in the catalogue's order.
RUN_KEYS: dict[str, tuple[str, str]] = {
    "dataset": ("dataset", PATH),
    **{key: (option.name, option.kind) for option in RUN_OPTIONS for key in option.keys},
}
CHECK_KEYS: dict[str, tuple[str, str]] = {
    "strict": ("strict", BOOL),
    "gate-on": ("gate_on", STR),
    "allow-empty-gate": ("allow_empty_gate", BOOL),
}
COMPARE_KEYS: dict[str, tuple[str, str]] = {
    "max-drop": ("max_drop", FLOAT),
    "out": ("out", PATH),
    "gate-on": ("gate_on", STR),
    "redact-paths": ("redact_paths", BOOL),
}
ATTRIBUTE_KEYS: dict[str, tuple[str, str]] = {
    "gate": ("gate", STR_LIST),
    "min-group-size": ("min_group_size", INT),
    "intersect": ("intersect", STR_LIST),
    "votes": ("votes", STR),
    "vocabulary": ("vocabulary", STR),
    "bins": ("bins", STR_LIST),
}
# The tables of a file; every other top-level key is an option of `run`.
TABLES = ("check", "compare", "attributes", "conditions")


def canonical_key(key: str) -> str:
    """A key as the tables spell it: `min_group_size` is `min-group-size`."""
    return key.replace("_", "-")


def convert_value(value: Any, kind: str, key: str, path: Path, base: Path) -> Any:
    """`value` checked and converted by its kind; UsageError naming the file and key."""
    def wrong(expected: str) -> UsageError:
        return UsageError(f"{path}: key '{key}' must be {expected}, got {describe_value(value)}")

    if kind == BOOL:
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if kind == INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("an integer")
        return value
    if kind == FLOAT:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        if not math.isfinite(value):
            raise wrong("a finite number")
        return float(value)
    if kind == STR:
        if not isinstance(value, str):
            raise wrong("a string")
        return value
    if kind == PATH:
        if not isinstance(value, str) or not value:
            raise wrong("a path (a non-empty string)")
        return _resolve(value, base)
    if kind == MODEL:
        if not isinstance(value, str) or not value:
            raise wrong(f"a model name, a path to a {MODEL_FILE_WORDS} file, or a [model] table")
        # A registry name stays a name; a path is made relative to the file's folder.
        looks_like_path = (value.endswith((*MODEL_SUFFIXES, ".toml")) or "/" in value
                           or os.sep in value)
        return str(_resolve(value, base)) if looks_like_path else value
    if kind == STR_LIST:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong("a list of strings")
        return tuple(value)
    if kind == INTERSECT:
        # Accepted: "a,b" | ["a,b", "c,d"] | [["a", "b"], ["c", "d"]]; the crossings
        # themselves are checked by the settings' rule.
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(
            isinstance(item, str) or (isinstance(item, list)
                                      and all(isinstance(v, str) for v in item))
            for item in items
        ):
            raise wrong('a list such as ["region,skin_tone"] or [["region", "skin_tone"]]')
        return tuple(item if isinstance(item, str) else tuple(item) for item in items)
    raise AssertionError(f"unknown key kind {kind}")  # pragma: no cover


def _resolve(value: str, base: Path) -> Path:
    candidate = Path(value).expanduser()
    return candidate if candidate.is_absolute() else base / candidate


def describe_value(value: Any) -> str:
    """A TOML value as an error names it: "integer 3", "array ['a']", "a table"."""
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "table"}.get(type(value), type(value).__name__)
    return f"{kind} {value!r}" if kind != "table" else "a table"


__all__ = [
    "ATTRIBUTE_KEYS", "CHECK_KEYS", "COMPARE_KEYS", "RUN_KEYS", "STR_LIST", "TABLES",
    "canonical_key", "convert_value", "describe_value",
]
