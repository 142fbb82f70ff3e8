"""The contract's one reader and writer (results/codec.py): every document reads and writes
back byte for byte, random documents of every record type survive the round trip, and the
field metadata (keys, defaults, omissions, choices) does what the records rely on."""

from __future__ import annotations

import dataclasses
import json
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_helpers import FIXTURE_RUN, mediapipe_table_results

from fairness_eval.errors import UsageError
from fairness_eval.results.codec import (
    FieldSpec,
    JsonRecord,
    field_spec,
    json_field,
    read_record,
    write_json,
)
from fairness_eval.results.document import read_results, write_run
from fairness_eval.results.names import SCHEMA_VERSION
from fairness_eval.results.reading import MAX_COUNT, Node
from fairness_eval.results.schema import ResultsDocument

GOLDEN = Path(__file__).parent / "golden"


def _text(document: ResultsDocument) -> str:
    return json.dumps(document.to_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.name)
def test_every_golden_document_reads_and_writes_back_unchanged(path):
    stored = path.read_text(encoding="utf-8")
    document = ResultsDocument.from_json(json.loads(stored), path.name)
    # byte for byte in the layout the golden files are stored with (keys sorted)
    assert json.dumps(document.to_json(), indent=1, sort_keys=True) + "\n" == stored
    assert ResultsDocument.from_json(document.to_json(), path.name) == document


def test_a_hand_made_document_reads_as_the_writer_would_have_written_it():
    data = json.loads((FIXTURE_RUN / "results.json").read_text(encoding="utf-8"))
    written = ResultsDocument.from_json(data).to_json()
    # written before criterion (b) recorded its threshold's range: that key is added, null
    added = [(name, block["criteria"]["b"].pop("threshold_range"))
             for name, block in written["attributes"].items()]
    assert written == data and added == [("bourdev_subcategory", None), ("scene", None)]


def test_a_fresh_document_is_written_read_and_written_again_byte_for_byte(tmp_path):
    data = mediapipe_table_results()  # the statistics stage, run now
    write_run(tmp_path, data, None)
    first = (tmp_path / "results.json").read_bytes()
    document = read_results(tmp_path)
    write_run(tmp_path, document, None)
    assert (tmp_path / "results.json").read_bytes() == first
    assert first.decode() == _text(document)
    assert document.attributes  # the table's attributes were read, not dropped


# --------------------------------------------------------------------------- random documents


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
_NUMBER = st.one_of(st.integers(-1000, 1000),
                    st.floats(allow_nan=False, allow_infinity=False, width=64))
_PLAIN = st.recursive(
    st.none() | st.booleans() | _NUMBER | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6)


def _strategy(hint: Any, spec: FieldSpec) -> st.SearchStrategy:
    """Values of `hint` the reader accepts (choices from the field's metadata)."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        inner = next(a for a in args if a is not type(None))
        return st.none() | _strategy(inner, spec)
    if hint is Any:
        return _PLAIN
    if dataclasses.is_dataclass(hint):
        return _record(hint)
    if hint is str:
        return _TEXT if spec.choices is None else st.sampled_from(spec.choices)
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(0, MAX_COUNT)
    if hint is float:
        return _NUMBER
    if origin is tuple and args[-1] is Ellipsis:
        return st.lists(_strategy(args[0], spec), max_size=2).map(tuple)
    if origin is tuple:
        return st.tuples(*(_strategy(a, spec) for a in args))
    if origin in (Mapping, dict):
        values = _strategy(args[1], spec)
        if spec.keys is not None:
            return st.fixed_dictionaries({k: values for k in spec.keys}).map(
                lambda found: {k: found[k] for k in spec.keys})  # in the order read
        if args[1] is Any:  # recorded settings: free, but any per-attribute gate names criteria
            return st.dictionaries(_TEXT.filter(lambda k: k != "per_attribute"), _PLAIN,
                                   max_size=3)
        return st.dictionaries(_TEXT, values, max_size=2)
    raise AssertionError(f"no strategy for {hint!r}")


def _record(cls: type) -> st.SearchStrategy:
    hints = get_type_hints(cls)
    fields = {f.name: _strategy(hints[f.name], field_spec(f)) for f in dataclasses.fields(cls)}
    return st.fixed_dictionaries(fields).map(lambda found: cls(**found))


_DOCUMENTS = _record(ResultsDocument).map(
    lambda d: dataclasses.replace(d, schema_version=SCHEMA_VERSION))


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
@given(_DOCUMENTS)
def test_random_documents_survive_the_round_trip(document):
    written = document.to_json()
    text = json.dumps(written, indent=2, ensure_ascii=False, allow_nan=False)
    read = ResultsDocument.from_json(json.loads(text), "random.json")
    # What was written is what is read and written again (the first write drops what the
    # schema leaves unwritten: a verdict's interval without its statistic, a group's name).
    assert read.to_json() == written
    assert json.dumps(read.to_json(), indent=2, ensure_ascii=False) == text
    assert ResultsDocument.from_json(read.to_json(), "random.json") == read


# --------------------------------------------------------------------------- the metadata


@dataclasses.dataclass(frozen=True)
class _Inner(JsonRecord):
    name: str = json_field(from_key=True)
    level: Literal["low", "high"] = "low"


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Outer(JsonRecord):
    json_read_first = ("items",)
    json_derived = ("size",)

    label: str = json_field(key="about.label")
    count: int = json_field(read_default=lambda found: len(found["label"]))
    shown: bool = json_field(default=True, read_default=False)
    note: str | None = json_field(None, omit=(None,))
    old: float | None = json_field(if_absent=lambda found: -1.0)
    items: Mapping[str, _Inner]

    @property
    def size(self) -> int:
        return len(self.items)


def test_metadata_drives_reading_and_writing():
    data = {"about": {"label": "abc"}, "items": {"x": {"level": "high"}}}
    record = _Outer.from_json(data, "f.json")
    assert record == _Outer(label="abc", count=3, shown=False, note=None, old=-1.0,
                            items={"x": _Inner(name="x", level="high")})
    assert write_json(record) == {"about": {"label": "abc"}, "count": 3, "shown": False,
                                  "old": -1.0, "items": {"x": {"level": "high"}}, "size": 1}
    assert _Outer.from_json({**data, "old": None}, "f.json").old is None  # null is not absent


@pytest.mark.parametrize(("data", "message"), [
    ({"about": {"label": "a"}}, "f.json: has no 'items'"),  # read first
    ({"items": {}, "about": ["a"]}, "f.json: 'about' must be a mapping, not a list of 1 element"),
    ({"items": {}, "about": {}}, "f.json: 'about' has no 'label'"),
    ({"items": {"x": {"level": "mid"}}, "about": {"label": "a"}},
     "f.json: 'items.x.level' must be one of low, high, not 'mid'"),
    ({"items": {}, "about": {"label": "a"}, "count": -1},
     "f.json: 'count' must be a whole number from 0 to"),
])
def test_malformed_values_name_the_file_and_key(data, message):
    with pytest.raises(UsageError) as error:
        read_record(_Outer, Node(data, "f.json"))
    assert str(error.value).startswith(message)


def test_no_record_of_the_contract_keeps_a_hand_written_reader_or_writer():
    import fairness_eval.results as package

    root = Path(package.__file__).parent
    for path in root.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        hand_written = source.count("def from_json(") + source.count("def to_json(")
        # the codec's pair; the document's reader, which checks schema_version first
        expected = {"codec.py": 2, "schema.py": 1}.get(path.name, 0)
        assert hand_written == expected, path.name
