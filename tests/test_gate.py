"""The gate on synthetic results documents: which checks fail, skip or warn, and the exit code."""

from __future__ import annotations

import json

import pytest
from gate_helpers import attribute, group, results

from fairness_eval.ci.gate import FAIL, PASS, SKIP, WARN, evaluate_gate, read_results
from fairness_eval.errors import UsageError

V, INC, P = "violation", "inconclusive", "pass"


def _by_key(report):
    return {(c.attribute, c.group, c.criterion): c for c in report.checks}


def test_violation_fails_with_exit_1_and_closing_line_names_group_and_numbers():
    doc = results({"region": attribute({
        "north": group(0.82, 0.02, (-0.01, 0.05)),
        "south": group(0.68, -0.12, (-0.16, -0.095), n=64, b=(V, V)),
    })})
    report = evaluate_gate(doc)
    assert report.exit_code == 1
    assert [(c.group, c.criterion) for c in report.failures] == [("south", "b")]
    failing = report.failures[0]
    assert failing.threshold == 0.09 and failing.deviation == -0.12
    assert failing.deviation_ci == (-0.16, -0.095)
    lines = report.closing_lines()
    fail_line = next(line for line in lines if line.startswith("FAIL"))
    # A person reads IoU in % and differences in pt (results.json keeps the fractions).
    for text in ("region / south", "criterion (b)", "violation", "IoU 68.00 %", "n 64",
                 "deviation -12.00 pt", "[95% CI -16.00, -9.50]", "threshold +/-9.00 pt"):
        assert text in fail_line
    assert lines[-1].startswith("fairness gate: FAILED - 1 failing check(s) in region")


def test_all_pass_exits_0_and_counts_checks():
    doc = results({"region": attribute({
        "north": group(0.82, 0.02, (-0.01, 0.05)),
        "south": group(0.78, -0.02, (-0.05, 0.01)),
    })})
    report = evaluate_gate(doc)
    assert report.exit_code == 0
    assert [c.status for c in report.checks] == [PASS] * 4
    assert report.closing_lines()[-1] == (
        "fairness gate: passed (4 gated checks on statistical verdicts, 0 skipped)"
    )


def test_inconclusive_warns_and_fails_only_with_strict():
    doc = results({"region": attribute({
        "south": group(0.72, -0.08, (-0.12, -0.04), b=(P, INC)),
    })})
    relaxed = evaluate_gate(doc)
    strict = evaluate_gate(doc, strict=True)
    assert relaxed.exit_code == 0 and [c.status for c in relaxed.warnings] == [WARN]
    assert strict.exit_code == 1 and strict.failures[0].verdict == "inconclusive"
    assert any(line.startswith("WARN region / south") for line in relaxed.closing_lines())


def test_gate_on_point_reads_the_point_verdict():
    # The point estimate is past the threshold, but the interval straddles it.
    doc = results({"region": attribute({
        "south": group(0.70, -0.10, (-0.14, -0.06), b=(V, INC)),
    })})
    assert evaluate_gate(doc, gate_on="statistical").exit_code == 0
    point = evaluate_gate(doc, gate_on="point")
    assert point.exit_code == 1 and point.failures[0].verdict == "violation"
    assert "(point)" in point.closing_lines()[-2]


def test_small_groups_and_not_annotated_are_never_gated():
    doc = results({"gender": attribute({
        "female": group(0.80, 0.0, (-0.02, 0.02)),
        "child": group(0.50, -0.30, (-0.4, -0.2), n=8, small=True, b=(V, V), a=(V, V)),
        "(not annotated)": group(0.4, -0.4, (-0.5, -0.3), n=200, not_annotated=True,
                                 b=(V, V)),
    })})
    report = evaluate_gate(doc, strict=True)
    checks = _by_key(report)
    assert report.exit_code == 0
    assert checks[("gender", "child", "b")].status == SKIP
    assert "small group (n = 8)" in checks[("gender", "child", "b")].reason
    assert checks[("gender", "(not annotated)", "b")].status == SKIP
    assert "never gated" in checks[("gender", "(not annotated)", "a")].reason
    assert checks[("gender", "female", "a")].status == PASS


def test_criteria_that_cannot_fire_or_were_not_evaluated_are_skipped_with_their_note():
    doc = results({"gender": attribute(
        {"m": group(0.7, -0.1, (-0.2, -0.05), a=(V, V), b=(V, V)),
         "f": group(0.9, 0.1, (0.05, 0.2))},
        a_can_fire=False, b_evaluated=False, verdict="not evaluated",
    )})
    report = evaluate_gate(doc, strict=True)
    assert {c.status for c in report.checks} == {SKIP}
    reasons = {c.criterion: c.reason for c in report.checks}
    assert "cannot fire" in reasons["a"] and "not evaluated" in reasons["b"]
    assert report.notes == ["gender: no criterion could be gated"]
    # Nothing was checked: not a pass (exit 2, naming what is missing) unless allowed.
    assert report.exit_code == 2
    assert "--inter-annotator-iou" in report.error and "masks_<annotator>/" in report.error
    assert "--min-group-size" in report.error and "--allow-empty-gate" in report.error
    assert evaluate_gate(doc, strict=True, allow_empty=True).exit_code == 0


def test_not_evaluated_verdict_is_skipped():
    doc = results({"r": attribute({"x": group(0.8, 0.0, (0, 0), b=("not evaluated",) * 2)})})
    check = _by_key(evaluate_gate(doc))[("r", "x", "b")]
    assert check.status == SKIP and check.reason == "not evaluated"


def test_per_attribute_gate_from_recorded_settings_and_from_override():
    doc = results(
        {"region": attribute({"south": group(0.68, -0.12, (-0.16, -0.095), a=(V, V), b=(V, V))}),
         "gender": attribute({"m": group(0.68, -0.12, (-0.16, -0.095), b=(V, V))})},
        settings={"per_attribute": {"region": {"gate": ["a"]}, "gender": {"gate": []}}},
    )
    recorded = evaluate_gate(doc)
    assert [(c.attribute, c.criterion) for c in recorded.failures] == [("region", "a")]
    skipped = _by_key(recorded)[("region", "south", "b")]
    assert skipped.status == SKIP and "by configuration" in skipped.reason
    override = evaluate_gate(doc, gated={"gender": ["b"]})
    assert [(c.attribute, c.criterion) for c in override.failures] == [
        ("region", "a"), ("gender", "b")]


def test_unknown_verdict_is_a_usage_error_naming_the_key():
    doc = results({"r": attribute({"x": group(0.8, 0.0, (0, 0), b=("maybe", "maybe"))})})
    with pytest.raises(UsageError, match=r"attributes\.r\.groups\.x\.verdicts\.b\.statistical"):
        evaluate_gate(doc)


def test_bad_gate_on_is_a_usage_error():
    with pytest.raises(UsageError, match="--gate-on"):
        evaluate_gate(results({}), gate_on="vibes")


def test_read_results_errors(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        read_results(tmp_path)
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(UsageError, match="not a valid results document"):
        read_results(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps({"schema_version": "2.0"}))
    with pytest.raises(UsageError, match="no 'attributes'"):
        read_results(tmp_path)
    doc = results({"r": attribute({"x": group(0.8, 0.0, (0, 0))})})
    (tmp_path / "results.json").write_text(json.dumps(doc))
    assert read_results(tmp_path).attributes["r"].groups["x"].n == 50


def test_statuses_are_exhaustive_for_every_group_and_criterion():
    doc = results({"r": attribute({f"g{i}": group(0.8, 0.0, (-0.01, 0.01)) for i in range(5)})})
    report = evaluate_gate(doc)
    assert len(report.checks) == 10
    assert {c.status for c in report.checks} <= {PASS, FAIL, WARN, SKIP}
