"""The stdout summary reads results.json and labels each figure with what it is."""

from gate_helpers import attribute, group, results

from fairness_eval.report.console import summary_lines
from fairness_eval.results.schema import ResultsDocument


def document(statistic: str) -> dict:
    return {
        "schema_version": "2.0",
        "kind": "run",
        "dataset": {"name": "d", "evaluated": 3, "rows": 3, "skipped": []},
        "bootstrap": {"statistic": statistic},
        "overall": {"n": 3, "mean_iou": 0.5, "pooled_iou": 0.7, "ci": [0.6, 0.8]},
        "inter_annotator_iou": {"value": None},
        "attributes": {},
    }


def test_the_interval_is_printed_beside_the_statistic_it_belongs_to():
    assert "pooled IoU  70.0% [60.0, 80.0], mean IoU  50.0%" in summary_lines(
        document("pooled"))[1]
    assert "mean IoU  50.0% [60.0, 80.0], pooled IoU  70.0%" in summary_lines(
        document("mean"))[1]


def test_missing_inter_annotator_iou_is_said_plainly():
    assert "criterion (b) not evaluated" in summary_lines(document("mean"))[2]


def test_group_rows_show_size_value_interval_and_verdicts():
    doc = results({"region": attribute({
        "north": group(0.82, 0.02, (-0.01, 0.05), n=64, b=("violation", "violation")),
        "south": group(0.68, -0.12, (-0.16, -0.095), n=9, small=True,
                       b=("not evaluated", "not evaluated")),
    }, verdict="violation")})
    typed = ResultsDocument.from_json(doc)
    lines = summary_lines(typed)
    assert lines == summary_lines(doc)  # a typed document and its JSON print the same
    assert "region  (verdict: violation)" in lines
    # Gated on nothing by the configuration: the gate's "not gated", what it reports beside.
    doc["settings"] = {"per_attribute": {"region": {"gate": []}}}
    assert "region  (verdict: not gated; reports violation)" in summary_lines(doc)
    north = next(line for line in lines if line.strip().startswith("north"))
    assert north.split()[1:4] == ["64", "82.0", "[80.0,"]
    south = next(line for line in lines if line.strip().startswith("south"))
    assert south.endswith("not evaluated  (small)")


def test_a_published_table_prints_its_average_and_shares():
    doc = results({"gender": attribute({
        "female": {**group(0.9625, -0.003, (-0.01, 0.01)), "n": None, "share": 0.4755,
                   "verdicts": {"a": {"point": "not evaluated", "statistical": "not evaluated"},
                                "b": {"point": "pass", "statistical": "not evaluated"}}},
    })})
    doc["kind"] = "table"
    doc["overall"] = {"value": 0.9657}
    lines = summary_lines(doc)
    assert lines[:2] == ["synthetic: published table", "average: 96.57%"]
    female = next(line for line in lines if line.strip().startswith("female"))
    assert " 47.5% " in female and female.rstrip().endswith("pass (point)")
