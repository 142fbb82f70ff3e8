"""Checked reading of a JSON document: every malformed shape becomes one line naming file and key.

The typed records of the contract build themselves from JSON through a `Node`: a value with
the file it came from and the dotted key that leads to it. Asking a node for a shape it does
not have (a list where a mapping belongs, an interval of one element, a count of 10**400,
a missing required key) raises a `UsageError` such as
"run/results.json: 'attributes.region.groups' must be a mapping, not null", never a
traceback.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..errors import UsageError

# The largest count the contract accepts: beyond it a float (and JavaScript) loses integers.
MAX_COUNT = 2**53
_MISSING = object()


class Node:
    """One value of a document, where it sits (file and dotted key) and how to read it."""

    def __init__(self, value: Any, source: str, key: str = "") -> None:
        self.value = value
        self.source = source
        self.key = key

    # -- navigation -------------------------------------------------------------------

    def child(self, key: str, value: Any) -> Node:
        return Node(value, self.source, f"{self.key}.{key}" if self.key else key)

    def has(self, key: str) -> bool:
        return key in self.mapping()

    def get(self, key: str) -> Node:
        """The child `key`; its value is None when the key is absent or null."""
        return self.child(key, self.mapping().get(key))

    def require(self, key: str) -> Node:
        """The child `key`, which must be present (it may still be null)."""
        mapping = self.mapping()
        if key not in mapping:
            where = f"{self.key!r} has" if self.key else "has"
            raise UsageError(f"{self.source}: {where} no {key!r}")
        return self.child(key, mapping[key])

    def items(self) -> Iterator[tuple[str, Node]]:
        """The (key, child) pairs of a mapping, in document order."""
        for key, value in self.mapping().items():
            yield key, self.child(key, value)

    def elements(self) -> Iterator[Node]:
        """The children of a list, keyed by position."""
        for position, value in enumerate(self.sequence()):
            yield self.child(str(position), value)

    # -- shapes -----------------------------------------------------------------------

    def fail(self, rule: str) -> UsageError:
        where = repr(self.key) if self.key else "the document"
        return UsageError(f"{self.source}: {where} {rule}, not {_describe(self.value)}")

    def mapping(self) -> Mapping[str, Any]:
        if not isinstance(self.value, Mapping):
            raise self.fail("must be a mapping")
        return self.value

    def sequence(self) -> Sequence[Any]:
        if not isinstance(self.value, list | tuple):
            raise self.fail("must be a list")
        return self.value

    def optional_mapping(self) -> Mapping[str, Any] | None:
        return None if self.value is None else self.mapping()

    def text(self) -> str:
        if not isinstance(self.value, str):
            raise self.fail("must be text")
        return self.value

    def optional_text(self) -> str | None:
        return None if self.value is None else self.text()

    def choice(self, allowed: Sequence[str]) -> str:
        if self.value not in allowed:
            raise self.fail(f"must be one of {', '.join(allowed)}")
        return self.value

    def optional_choice(self, allowed: Sequence[str]) -> str | None:
        return None if self.value is None else self.choice(allowed)

    def flag(self, default: bool | None = None) -> bool:
        if self.value is None and default is not None:
            return default
        if not isinstance(self.value, bool):
            raise self.fail("must be true or false")
        return self.value

    def optional_flag(self) -> bool | None:
        return None if self.value is None else self.flag()

    def number(self) -> float:
        """A finite number; an integer stays an integer so that it is written back as read."""
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail("must be a number")
        if isinstance(value, int) and abs(value) > MAX_COUNT or (
                isinstance(value, float) and not math.isfinite(value)):
            raise self.fail("must be a finite number of sensible size")
        return value

    def optional_number(self) -> float | None:
        return None if self.value is None else self.number()

    def count(self) -> int:
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            raise self.fail(f"must be a whole number from 0 to {MAX_COUNT}")
        return value

    def optional_count(self) -> int | None:
        return None if self.value is None else self.count()

    def interval(self) -> tuple[float | None, float | None] | None:
        """[low, high] or null; a bound may be null where the statistic was undefined."""
        if self.value is None:
            return None
        if not isinstance(self.value, list | tuple) or len(self.value) != 2:
            raise self.fail("must be an interval [low, high] or null")
        low, high = (node.optional_number() for node in self.elements())
        return (low, high)

    def texts(self) -> tuple[str, ...]:
        """A list of text (null reads as empty)."""
        if self.value is None:
            return ()
        return tuple(node.text() for node in self.elements())

    def optional_texts(self) -> tuple[str, ...] | None:
        return None if self.value is None else self.texts()

    def counts(self) -> tuple[int, ...]:
        return tuple(node.count() for node in self.elements())

    def plain(self) -> Any:
        """Any JSON value (settings, versions): checked only for numbers JSON can hold."""
        value = self.value
        if isinstance(value, Mapping):
            return {str(k): node.plain() for k, node in self.items()}
        if isinstance(value, list | tuple):
            return [node.plain() for node in self.elements()]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self.number()
        if value is None or isinstance(value, bool | str):
            return value
        raise self.fail("must be a JSON value")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} element{'s' if len(value) != 1 else ''}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return repr(shown)
    if isinstance(value, int) and abs(value) > MAX_COUNT:
        return f"a number of {len(str(abs(value)))} digits"
    return repr(value)
