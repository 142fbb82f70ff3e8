"""The rules of the capture-condition settings: --conditions, the [conditions]
table's severity lists, --derive and --adjust-for.

Like every rule in rules.py, each converts a value from the command line, a configuration
file or a notebook and refuses a bad one in one line naming the option (or the table key,
"conditions.dark"). The names and ranges live with their definitions
(conditions/perturb.py, data/derived.py); those modules import OpenCV, so they are
imported when a rule runs, not with the settings.
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from .rules import fail, names, number


def _listed(value: Any, option: str) -> tuple[str, ...]:
    """Names from "a,b" text or a sequence of names, each once, in the order given."""
    if isinstance(value, str):
        items = tuple(part.strip() for part in value.split(",") if part.strip())
    else:
        items = names(value, option)
    return tuple(dict.fromkeys(items))


def conditions(value: Any, option: str = "--conditions") -> tuple[str, ...]:
    """Capture conditions to evaluate: "dark,blur" or a sequence; () for none."""
    from ..conditions.perturb import CONDITIONS

    chosen = _listed(value, option)
    unknown = [c for c in chosen if c not in CONDITIONS]
    if unknown:
        raise fail(option, unknown[0], f"is not a condition; conditions are "
                                       f"{', '.join(CONDITIONS)}")
    return chosen


def condition_severities(value: Any, option: str = "conditions") -> dict[str, tuple[float, ...]]:
    """Severity lists by condition ({"dark": [0.5, 0.2]}); a bad entry is named by key
    ("conditions.dark"), as the configuration file's [conditions] table spells it."""
    from ..conditions.perturb import CONDITIONS, check_severity

    if not hasattr(value, "items"):
        raise fail(option, value, "is not a table of severity lists by condition")
    checked: dict[str, tuple[float, ...]] = {}
    for name, levels in value.items():
        key = f"{option}.{name}"
        if name not in CONDITIONS:
            raise fail(key, name, f"is not a condition; conditions are {', '.join(CONDITIONS)}")
        items = (levels,) if isinstance(levels, (str, int, float)) else levels
        try:
            numbers = tuple(number(level, key) for level in items)
        except TypeError:
            raise fail(key, levels, "is not a list of severities") from None
        if not numbers:
            raise fail(key, list(items), "is empty; list one or more severities")
        if len(set(numbers)) != len(numbers):
            raise fail(key, list(numbers), "lists a severity twice")
        for level in numbers:
            try:
                check_severity(name, level)
            except ValueError as error:
                raise UsageError(f"{key}: {error}") from None
        checked[str(name)] = numbers
    return checked


def derived(value: Any, option: str = "--derive") -> tuple[str, ...]:
    """Derived attributes: "person_share,people" or a sequence; () for none."""
    from ..data.derived import DERIVED

    chosen = _listed(value, option)
    unknown = [d for d in chosen if d not in DERIVED]
    if unknown:
        raise fail(option, unknown[0], f"is not a derived attribute; they are "
                                       f"{', '.join(DERIVED)}")
    return chosen


def optional_name(value: Any, option: str) -> str | None:
    """One column name, or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise fail(option, value, "is not an attribute name")
    return value.strip()


__all__ = ["condition_severities", "conditions", "derived", "optional_name"]
