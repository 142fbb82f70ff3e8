"""The results contract: one writer, one checked reader, and a one-line reason for every
malformed shape (the file and the key at fault, never a traceback)."""

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from gate_helpers import attribute, group, results

from fairness_eval.errors import UsageError
from fairness_eval.results.document import read_per_image, read_results, to_jsonable, write_run
from fairness_eval.results.labels import attribute_labels, group_labels, group_order
from fairness_eval.results.names import NOT_ANNOTATED, SCHEMA_VERSION
from fairness_eval.results.schema import ResultsDocument

GOLDEN = Path(__file__).parent / "golden"
SCHEMA_ORDER = ["schema_version", "kind", "model", "dataset", "settings", "config", "versions",
                "command", "started", "finished", "table", "overall", "bootstrap",
                "inter_annotator_iou", "attributes", "conditions", "adjustment", "tables",
                "familywise"]


def test_per_image_table_with_a_non_number_names_the_line(tmp_path):
    (tmp_path / "per_image.csv").write_text(
        "row,image,status,intersection,union,iou\n1,a,ok,5,10,0.5\n2,b,ok,five,10,0.5\n")
    with pytest.raises(UsageError, match=r"per_image.csv, line 3: column 'intersection' holds"):
        read_per_image(tmp_path)


def test_per_image_values_round_trip(tmp_path):
    (tmp_path / "per_image.csv").write_text(
        "row,image,status,intersection,union,iou,both_empty,region\n"
        "1,007,ok,5,10,0.5,False,NA\n2,b,skipped,,,,,\n")
    table = read_per_image(tmp_path)
    assert table["image"].tolist() == ["007", "b"]  # ids stay text
    assert table["region"].tolist() == ["NA", ""]  # "NA" is a value, "" not annotated
    assert table["iou"].iloc[0] == 0.5 and table["iou"].isna().iloc[1]


def test_results_document_checks(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        read_results(tmp_path)
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(UsageError, match="not a valid results document"):
        read_results(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps({"schema_version": "9.0"}))
    with pytest.raises(UsageError, match="schema version 9.0"):
        read_results(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps([1, 2]))
    with pytest.raises(UsageError, match="no schema_version"):
        read_results(tmp_path)


def test_to_jsonable_drops_nan_and_numpy_types():
    assert to_jsonable({"a": np.float64("nan"), "b": (np.int64(3),)}) == {"a": None, "b": [3]}


@pytest.mark.parametrize("name", ["voc_results.json", "table_results.json"])
def test_golden_documents_read_and_write_back_unchanged(name):
    data = json.loads((GOLDEN / name).read_text())
    document = ResultsDocument.from_json(data, name)
    assert document.to_json() == data
    # Keys come out in the schema's order (the golden files store them sorted).
    assert list(document.to_json()) == [k for k in SCHEMA_ORDER if k in data]
    first = next(iter(document.attributes.values()))
    assert list(first.to_json())[:2] == ["kind", "k"]


def test_write_run_writes_what_read_results_reads(tmp_path):
    data = json.loads((GOLDEN / "voc_results.json").read_text())
    ordered = ResultsDocument.from_json(data).to_json()
    write_run(tmp_path, ordered, None)  # a mapping is read through the contract first
    text = (tmp_path / "results.json").read_text()
    assert text == json.dumps(ordered, indent=2, ensure_ascii=False) + "\n"
    document = read_results(tmp_path)
    assert document.attributes["bourdev_subcategory"].groups["Male"].n == 32
    write_run(tmp_path, document, None)
    assert (tmp_path / "results.json").read_text() == text


def _valid() -> dict:
    return results({"region": attribute({
        "north": group(0.82, 0.02, (-0.01, 0.05)),
        "south": group(0.68, -0.12, (-0.16, -0.095), b=("violation", "violation")),
    })})


def _edit(path: tuple, value):
    def apply(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return doc
    return apply


SOUTH = ("attributes", "region", "groups", "south")


@pytest.mark.parametrize(("edit", "key", "problem"), [
    (_edit(("attributes",), ["region"]), "'attributes'", "must be a mapping, not a list"),
    (_edit(("attributes",), KeyError), "", "has no 'attributes'"),
    (_edit(("overall",), KeyError), "", "has no 'overall'"),
    (_edit(("overall",), None), "'overall'", "must be a mapping, not null"),
    (_edit(("overall", "ci"), [0.7]), "'overall.ci'",
     "must be an interval [low, high] or null, not a list of 1 element"),
    (_edit((*SOUTH, "n"), 10**400), f"'{'.'.join(SOUTH)}.n'", "not a number of 401 digits"),
    (_edit((*SOUTH, "n"), True), f"'{'.'.join(SOUTH)}.n'", "not true"),
    (_edit((*SOUTH, "n"), -3), f"'{'.'.join(SOUTH)}.n'", "must be a whole number"),
    (_edit((*SOUTH, "value"), "0.68"), f"'{'.'.join(SOUTH)}.value'", "must be a number"),
    (_edit(("attributes", "region", "groups"), None), "'attributes.region.groups'",
     "must be a mapping, not null"),
    (_edit(("attributes", "region", "groups"), [1, 2]), "'attributes.region.groups'",
     "must be a mapping, not a list of 2 elements"),
    (_edit(("attributes", "region", "criteria"), "a,b"), "'attributes.region.criteria'",
     "must be a mapping"),
    (_edit((*SOUTH, "verdicts", "b", "point"), "maybe"),
     f"'{'.'.join(SOUTH)}.verdicts.b.point'", "must be one of pass, inconclusive"),
    (_edit(("dataset", "skipped"), [{"row": 1}, "row 2"]), "'dataset.skipped.1'",
     "must be a mapping"),
    (_edit(("settings", "per_attribute"), {"region": {"gate": ["c"]}}),
     "'settings.per_attribute.region.gate.0'", "must be one of a, b"),
    (_edit(("kind",), "video"), "'kind'", "must be one of run, table"),
])
def test_every_malformed_shape_is_one_line_naming_file_and_key(tmp_path, edit, key, problem):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(edit(_valid())))
    with pytest.raises(UsageError) as error:
        read_results(tmp_path)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert key in message and problem in message


def test_non_finite_numbers_in_the_file_are_refused(tmp_path):
    text = json.dumps(_valid()).replace('"mean_iou": 0.8', '"mean_iou": NaN', 1)
    (tmp_path / "results.json").write_text(text)
    with pytest.raises(UsageError, match=r"'overall.mean_iou' must be a finite number"):
        read_results(tmp_path)


def test_readings_of_the_record():
    doc = _valid()
    doc["settings"] = {"per_attribute": {"region": {"gate": ["b"]}}, "threshold": 0.4,
                       "statistic": "pooled"}
    doc["bootstrap"] = None
    typed = ResultsDocument.from_json(doc)
    assert typed.gated_criteria("region") == ("b",) and typed.gated_criteria("other") == ("a", "b")
    assert typed.confidence == 0.95 and typed.statistic == "pooled"
    assert typed.settings.mask_threshold == 0.4
    assert typed.sd_factor == 3.0  # the attributes' recorded factor
    south = typed.attributes["region"].groups["south"]
    assert south.verdict("b").statistical == "violation" and south.verdict("c").point is None
    assert typed.default_gate_on() == "statistical"


def test_missing_optional_keys_take_their_documented_meaning():
    doc = copy.deepcopy(_valid())
    south = doc["attributes"]["region"]["groups"]["south"]
    for key in ("gated", "value"):
        del south[key]
    south["small_group"] = True
    del doc["attributes"]["region"]["criteria"]["a"]["can_fire"]
    typed = ResultsDocument.from_json(doc).attributes["region"]
    assert typed.groups["south"].gated is False  # small: reported, not gated
    assert typed.groups["south"].value == 0.68  # a document naming only mean_iou
    assert typed.criterion_a.can_fire is True


def test_group_labels_cross_attributes_and_mark_missing_values():
    frame = pd.DataFrame({"tone": [3.0, None, 10.0, 2.0], "region": ["eu", "af", " ", "as"]})
    assert list(attribute_labels(frame["tone"])) == ["3", NOT_ANNOTATED, "10", "2"]
    assert list(group_labels(frame, ["region", "tone"])) == [
        "eu×3", NOT_ANNOTATED, NOT_ANNOTATED, "as×2"]
    assert sorted(["10", NOT_ANNOTATED, "2", "b", "A"], key=group_order) == [
        "2", "10", "A", "b", NOT_ANNOTATED]


def test_schema_version_is_the_documented_one():
    assert SCHEMA_VERSION == "2.2"
    assert json.loads((GOLDEN / "voc_results.json").read_text())["schema_version"] == "2.2"
    schema_doc = (Path(__file__).parents[1] / "docs" / "results-schema.md").read_text()
    assert f'"schema_version": "{SCHEMA_VERSION}"' in schema_doc


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def test_any_value_anywhere_is_read_or_refused_and_never_crashes_a_reader():
    from fairness_eval.ci.gate import evaluate_gate
    from fairness_eval.report.card_text import CardText
    from fairness_eval.report.console import summary_lines
    from fairness_eval.report.context import build_context
    from fairness_eval.report.mct import model_card_document

    valid = _valid()
    refused = read = 0
    for path in list(_paths(valid))[1:]:
        for value in (None, [], "x", 10**400, True, [1], {"k": 1}):
            doc = copy.deepcopy(valid)
            _edit(path, value)(doc)
            try:
                typed = ResultsDocument.from_json(doc, "f.json")
            except UsageError as error:
                assert str(error).startswith("f.json: ") and "\n" not in str(error)
                refused += 1
                continue
            read += 1
            evaluate_gate(typed)
            summary_lines(typed)
            build_context(typed, CardText())
            model_card_document(typed, CardText(), graphics=False)  # charts: test_report_mct
            json.dumps(typed.to_json(), allow_nan=False)
    assert refused > 100 and read > 50  # both branches were exercised
