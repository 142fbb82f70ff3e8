"""`run`'s options as the keywords of a Python call (`fairness_eval.evaluate`, `assess`).

`--min-group-size 20` is `min_group_size=20`. This module says which keywords a call gave
(one left at its default is not given, as an option not typed on the command line is not:
the settings keep their own defaults), which options of the settings' key table a call may
name without a keyword of its own, how the call is recorded, and how a rule's message,
written for the command line, reads in the call's terms.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from difflib import get_close_matches
from typing import Any

from ..errors import UsageError
from .file_keys import RUN_KEYS


def keyword_only(function: Callable[..., Any]) -> tuple[str, ...]:
    """The keyword-only parameters of `function`, in order."""
    return tuple(name for name, parameter in inspect.signature(function).parameters.items()
                 if parameter.kind is inspect.Parameter.KEYWORD_ONLY)


def given_keywords(function: Callable[..., Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword-only arguments of a call (`values`: its locals) that differ from their
    defaults."""
    given = {}
    for name, parameter in inspect.signature(function).parameters.items():
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue
        value = values[name]
        try:
            same = value is parameter.default or bool(value == parameter.default)
        except (TypeError, ValueError):  # an array compared element by element
            same = False
        if not same:
            given[name] = value
    return given


def unknown_keyword(name: str, function_name: str, known: Collection[str]) -> str:
    """The one line refusing a keyword no option has, with the closest known name."""
    close = get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
    return f"{function_name}: unknown keyword {name!r} ({hint})"


def call_text(function_name: str, first: Any, given: Mapping[str, Any]) -> str:
    """The call as results.json records the command that made a run."""
    arguments = [repr(str(first))]
    arguments += [f"{name}={value!r}" for name, value in given.items() if value is not None]
    return f"{function_name}({', '.join(arguments)})"


def setting_names() -> dict[str, str]:
    """Each run option's name as a keyword (`mask_threshold`) -> its Settings field."""
    return {key.replace("-", "_"): field_name for key, (field_name, _) in RUN_KEYS.items()}


def options_without_keyword(own: Iterable[str]) -> set[str]:
    """The run options (as keywords) whose setting none of `own` sets, the dataset aside:
    `mask_threshold` is `threshold`'s other name, so it is not among them."""
    fields = setting_names()
    covered = {fields[name] for name in own if name in fields} | {"dataset"}
    return {name for name, field_name in fields.items() if field_name not in covered}


def one_name_each(given: Iterable[str]) -> None:
    """Refuses two names of one setting (`threshold` and `mask_threshold`): one would win
    silently."""
    fields = setting_names()
    seen: dict[str, str] = {}
    for name in given:
        other = seen.setdefault(fields.get(name, name), name)
        if other != name:
            raise UsageError(f"{other} and {name}: give only one (two names of one option)")


def flags_as_keywords(message: str, names: Collection[str], flags: Collection[str]) -> str:
    """A rule's message in a call's terms: `--min-group-size` names `min_group_size`, an
    option's other name the call's keyword for it (`--mask-threshold`: `threshold`), and a
    flag the message asks for (`pass --overwrite`) is `overwrite=True`. `names`: the
    call's keywords; `flags`: those of them that default to False."""
    fields = setting_names()
    by_setting = {fields.get(name, name): name for name in names}

    def keyword(match: re.Match[str]) -> str:
        name = match.group(1).replace("-", "_")
        name = by_setting.get(fields.get(name, name), name)
        if name not in names:
            return match.group(0)
        return f"{name}=True" if name in flags and match.start() > 0 else name

    return re.sub(r"(?<![\w-])--([a-z][a-z-]*)", keyword, message)


__all__ = [
    "call_text", "flags_as_keywords", "given_keywords", "keyword_only", "one_name_each",
    "options_without_keyword", "setting_names", "unknown_keyword",
]
