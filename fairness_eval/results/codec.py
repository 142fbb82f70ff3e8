"""The one reader and the one writer of the contract's records, driven by their field types.

A record is a frozen dataclass; its fields, in the order declared, are its JSON keys in the
order written. `read_record` walks the fields' type hints through a `Node` (reading.py), so
every malformed value is one line naming the file and the dotted key; `write_json` turns a
record tree back into plain JSON values. What the types cannot say is said once per field
with `json_field(...)`:

- `key`: the JSON key when it is not the field's name; a dotted key ("criteria.a") nests.
- `choices`: the allowed texts (a verdict, a kind).
- `read_default`: what a null or absent value reads as, when not the dataclass default
  (a callable gets the fields read so far: a default that depends on an earlier field).
- `if_absent`: what an absent key (not a null one) reads as, from the fields read so far.
- `required`: the key must be present although the dataclass has a default.
- `omit`: the values (or a test of the record) for which the key is not written, so that
  documents written before a key existed read and write back byte for byte.
- `from_key`: the field is the key the record sits under in its parent mapping (a group's
  name), neither read nor written as a key of its own.
- `whole`: the record's JSON value is this one field's (settings, table hashes).
- `keys`: a mapping's keys that must be present, and the only ones read.
- `check`: a further check of the value's node before it is read.
- `write`: a writer of the value, given the value and the record, for the rare key whose
  JSON is not the value's own.

Two class attributes of a record, where needed: `json_derived`, the properties written as
keys after the fields (a comparison's exit code), and `json_read_first`, the fields read
(and so named in a message) before the others.

Reading rules by type: str, float, int (a count from 0 to 2**53), bool; `X | None` (null
and an absent key read as None); a record; `tuple[X, ...]` (a list; a list of text reads
null as empty); `tuple[float | None, float | None]` (an interval [low, high] or null);
`Mapping[str, X]`; `Any` (any JSON value); `Literal[...]` and `Enum`s as their texts. A
non-optional field with no default must be present (else "has no 'key'"); one with a
default reads null and absent as that default.
"""

from __future__ import annotations

import dataclasses
import enum
import types
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from .names import RESULTS_FILE
from .reading import Node

_NONE_TYPE = type(None)
_ABSENT = object()
_METADATA = "fairness_eval.json"

Record = TypeVar("Record")


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """How one field is read and written beyond what its type says (see the module doc)."""

    key: tuple[str, ...] | None = None
    choices: tuple[str, ...] | None = None
    read_default: Any = _ABSENT
    if_absent: Callable[[dict[str, Any]], Any] | None = None
    required: bool = False
    omit: tuple[Any, ...] | Callable[[Any], bool] | None = None
    from_key: bool = False
    whole: bool = False
    keys: tuple[str, ...] | None = None
    check: Callable[[Node], object] | None = None
    write: Callable[[Any, Any], Any] | None = None


_PLAIN = FieldSpec()


def json_field(default: Any = dataclasses.MISSING, *,
               default_factory: Any = dataclasses.MISSING, kw_only: Any = dataclasses.MISSING,
               key: str | None = None, choices: tuple[str, ...] | None = None,
               read_default: Any = _ABSENT,
               if_absent: Callable[[dict[str, Any]], Any] | None = None, required: bool = False,
               omit: tuple[Any, ...] | Callable[[Any], bool] | None = None,
               from_key: bool = False, whole: bool = False, keys: tuple[str, ...] | None = None,
               check: Callable[[Node], object] | None = None,
               write: Callable[[Any, Any], Any] | None = None) -> Any:
    """A dataclass field (`default`, `default_factory`, `kw_only` as `dataclasses.field`)
    with how it is read and written (the module doc says each)."""
    spec = FieldSpec(key=None if key is None else tuple(key.split(".")), choices=choices,
                     read_default=read_default, if_absent=if_absent, required=required, omit=omit,
                     from_key=from_key, whole=whole, keys=keys, check=check, write=write)
    return dataclasses.field(default=default, default_factory=default_factory, kw_only=kw_only,
                             metadata={_METADATA: spec})


def field_spec(field: dataclasses.Field) -> FieldSpec:
    """How `field` is read and written (the plain rules of its type where it says nothing)."""
    return field.metadata.get(_METADATA, _PLAIN)


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    hint: Any
    spec: FieldSpec
    field: dataclasses.Field


@cache
def _fields(cls: type) -> tuple[_Field, ...]:
    hints = get_type_hints(cls)
    return tuple(_Field(f.name, hints[f.name], field_spec(f), f)
                 for f in dataclasses.fields(cls))


# --------------------------------------------------------------------------- reading


def read_record(cls: type[Record], node: Node, key: str | None = None) -> Record:
    """A `cls` record from `node`; `key` is the key it sits under in its parent mapping."""
    fields = _fields(cls)
    whole = next((f for f in fields if f.spec.whole), None)
    if whole is not None:
        if whole.spec.check is not None:
            whole.spec.check(node)
        return cls(**{whole.name: _read_value(node, whole.hint, whole.spec)})
    node.mapping()
    found: dict[str, Any] = {}
    # A record may name fields to check before the rest: where two are malformed, the
    # message names the one that matters most (a group's statistical verdict, which the
    # gate judges, before its point verdict).
    first = getattr(cls, "json_read_first", ())
    for field in sorted(fields, key=lambda f: f.name not in first):
        if field.spec.from_key:
            found[field.name] = key
        else:
            found[field.name] = _read_field(node, field, found)
    return cls(**found)


def _read_field(node: Node, field: _Field, found: dict[str, Any]) -> Any:
    spec = field.spec
    path = spec.key or (field.name,)
    parent = node
    for part in path[:-1]:
        parent = parent.get(part)
        if parent.value is None:  # the whole nest is null or absent: so is the key
            parent = Node({}, parent.source, parent.key)
    present = parent.has(path[-1])
    leaf = parent.get(path[-1])
    if not present and spec.if_absent is not None:
        return spec.if_absent(found)
    if leaf.value is None:
        if _optional_of(field.hint) is not None:
            return None
        default = _default(field, found)
        if default is not _ABSENT:
            return default
        if not present:
            parent.require(path[-1])  # raises: "... has no 'key'"
    if spec.check is not None:
        spec.check(leaf)
    return _read_value(leaf, field.hint, spec)


def _default(field: _Field, found: dict[str, Any]) -> Any:
    spec = field.spec
    if spec.required:
        return _ABSENT
    if spec.read_default is not _ABSENT:
        found_default = spec.read_default
        return found_default(found) if callable(found_default) else found_default
    if field.field.default is not dataclasses.MISSING:
        return field.field.default
    if field.field.default_factory is not dataclasses.MISSING:
        return field.field.default_factory()
    return _ABSENT


def _optional_of(hint: Any) -> Any:
    """X for a hint `X | None`, else None."""
    if get_origin(hint) in (Union, types.UnionType):
        args = get_args(hint)
        if _NONE_TYPE in args:
            rest = tuple(a for a in args if a is not _NONE_TYPE)
            if len(rest) != 1:
                raise TypeError(f"the results codec reads no {hint!r}")
            return rest[0]
    return None


def _is_interval(args: tuple[Any, ...]) -> bool:
    return len(args) == 2 and all(a is float or _optional_of(a) is float for a in args)


def _read_value(node: Node, hint: Any, spec: FieldSpec) -> Any:
    inner = _optional_of(hint)
    if inner is not None:
        return None if node.value is None else _read_value(node, inner, spec)
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return node.plain()
    if dataclasses.is_dataclass(hint):
        return read_record(hint, node)
    if hint is str:
        return node.text() if spec.choices is None else node.choice(spec.choices)
    if hint is bool:
        return node.flag()
    if hint is int:
        return node.count()
    if hint is float:
        return node.number()
    if origin is Literal:
        return node.choice(tuple(str(a) for a in args))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(node.choice(tuple(str(member.value) for member in hint)))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        if args[0] is str and node.value is None:
            return ()  # a list of text: null reads as empty
        return tuple(_read_value(child, args[0], spec) for child in node.elements())
    if origin is tuple and _is_interval(args):
        return node.interval()
    if origin in (Mapping, dict) and args[0] is str:
        node.mapping()
        if args[1] is Any:
            return node.plain()
        if spec.keys is not None:
            return {k: _read_value(node.require(k), args[1], spec) for k in spec.keys}
        if dataclasses.is_dataclass(args[1]):
            return {k: read_record(args[1], child, k) for k, child in node.items()}
        return {k: _read_value(child, args[1], spec) for k, child in node.items()}
    raise TypeError(f"the results codec reads no {hint!r}")


# --------------------------------------------------------------------------- writing


def write_json(value: Any) -> Any:
    """`value` as plain JSON values: records as mappings (keys in field order), tuples as
    lists, enums as their values; everything else as it is."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _write_record(value)
    if isinstance(value, Mapping):
        return {k: write_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [write_json(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _write_record(record: Any) -> Any:
    fields = _fields(type(record))
    whole = next((f for f in fields if f.spec.whole), None)
    if whole is not None:
        return write_json(getattr(record, whole.name))
    block: dict[str, Any] = {}
    for field in fields:
        spec = field.spec
        value = getattr(record, field.name)
        if spec.from_key or _omitted(spec, value, record):
            continue
        target = block
        path = spec.key or (field.name,)
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = write_json(value) if spec.write is None else spec.write(value, record)
    # Readings of the record (properties) written after its fields: a comparison's exit code.
    for name in getattr(type(record), "json_derived", ()):
        block[name] = write_json(getattr(record, name))
    return block


def _omitted(spec: FieldSpec, value: Any, record: Any) -> bool:
    if spec.omit is None:
        return False
    if callable(spec.omit):
        return spec.omit(record)
    return any(value is omitted or value == omitted for omitted in spec.omit)


class JsonRecord:
    """`from_json` and `to_json` for a record: the generic reader and writer."""

    @classmethod
    def from_json(cls: type[Record], data: Any, source: str = RESULTS_FILE,
                  key: str = "") -> Record:
        """The record in `data` (parsed JSON) at `key` of `source`, checked."""
        return read_record(cls, Node(data, source, key))

    def to_json(self) -> Any:
        """The record as plain JSON values, keys in the order of its fields."""
        return write_json(self)


__all__ = ["FieldSpec", "JsonRecord", "field_spec", "json_field", "read_record", "write_json"]
