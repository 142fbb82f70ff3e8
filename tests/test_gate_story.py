"""One story from the gate: nothing checked is not a pass, `run --gate`, `card --gate` and
`check` decide alike on a folder, the card's verdict box and summary.md read the gate's
checks, lines a person reads are in % and pt, and the CI annotations are capped."""

from __future__ import annotations

import io
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from gate_helpers import attribute, group, results

from fairness_eval.ci.gate import evaluate_gate
from fairness_eval.ci.gate_checks import Check
from fairness_eval.ci.outputs import (
    MAX_ANNOTATIONS,
    MAX_SUMMARY_ROWS,
    gate_markdown,
    github_annotations,
    junit_tree,
    write_github_outputs,
)
from fairness_eval.report.markdown import MAX_FLAGGED_ROWS, render_markdown

V, INC, P = "violation", "inconclusive", "pass"


def _cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `fairness-eval ARGS` run in this process."""
    from fairness_eval import cli

    monkeypatch.setattr(sys, "argv", ["fairness-eval", *args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("fairness-eval: error:")]


# --------------------------------------------------------------------------- nothing checked

def test_a_gate_with_nothing_gated_exits_2_naming_what_is_missing():
    doc = results({"gender": attribute(
        {"m": group(0.7, -0.1, (-0.2, -0.05), a=(V, V), b=(V, V)),
         "f": group(0.9, 0.1, (0.05, 0.2)),
         "tiny": group(0.5, -0.3, (-0.5, -0.1), n=4, small=True)},
        a_can_fire=False, b_evaluated=False, verdict="not evaluated")})
    for strict in (False, True):
        report = evaluate_gate(doc, strict=strict)
        assert report.empty and report.exit_code == 2
        assert report.error.startswith("fairness gate: nothing was checked (6 checks, all "
                                       "skipped): criterion (b) needs the inter-annotator IoU")
        for needed in ("--inter-annotator-iou", "masks_<annotator>/", "more groups",
                       "--min-group-size", "--allow-empty-gate"):
            assert needed in report.error
        assert "\n" not in report.error
        # The verdicts the skipped checks hold are not read: no failure.
        assert report.failures == []
    allowed = evaluate_gate(doc, allow_empty=True)
    assert allowed.exit_code == 0 and allowed.error is None
    assert allowed.closing_lines()[-1].startswith(
        "fairness gate: passed with nothing checked, as --allow-empty-gate allows")


def test_an_empty_gate_says_so_in_junit_and_github(tmp_path):
    doc = results({"gender": attribute({"m": group(0.7, -0.1, (-0.2, -0.05)),
                                        "f": group(0.9, 0.1, (0.05, 0.2))},
                                       a_can_fire=False, b_evaluated=False)})
    report = evaluate_gate(doc)
    root = junit_tree(report).getroot()
    assert root.get("errors") == "1"
    errors = root.findall(".//error")
    assert len(errors) == 1 and errors[0].get("type") == "empty-gate"
    assert "--inter-annotator-iou" in errors[0].get("message")
    annotations = github_annotations(report)
    assert annotations[0].startswith("::error title=Fairness gate::fairness gate: nothing was "
                                     "checked")
    summary = tmp_path / "step.md"
    write_github_outputs(report, doc, env={"GITHUB_ACTIONS": "true",
                                           "GITHUB_STEP_SUMMARY": str(summary)},
                         stream=io.StringIO())
    assert "Gate **not run: nothing was checked**" in summary.read_text()
    # Allowed: a skipped test case saying why, no error.
    allowed = junit_tree(evaluate_gate(doc, allow_empty=True)).getroot()
    assert allowed.get("errors") == "0" and allowed.findall(".//error") == []
    assert "allow-empty-gate" in allowed.find(".//skipped").get("message")


# --------------------------------------------------------------------------- one decision

def _table(path: Path, rows: list[tuple[str, str, float, int]]) -> Path:
    path.write_text("attribute,group,iou_percent,n_images\n" + "".join(
        f"{a},{g},{v},{n}\n" for a, g, v, n in rows))
    return path


def test_card_gate_and_check_agree_on_table_folders(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    table = _table(tmp_path / "groups.csv", [("region", "north", 96.0, 100),
                                            ("region", "south", 90.0, 100),
                                            ("region", "east", 96.5, 100)])
    # No intervals: the point verdicts decide. Criterion (b) at 2 x (1 - 99%) = 2 pt:
    # south lies 4.2 pt below the average. `check` read the statistical verdicts here
    # (none) and passed with nothing gated while `card --gate` failed.
    card = ["card", "--from-table", str(table), "--format", "", "--out"]
    code, out, _ = _cli(monkeypatch, capsys, *card, "violating", "--gate",
                        "--inter-annotator-iou", "99")
    assert code == 1 and "FAIL region / south: criterion (b) violation (point)" in out
    code, out, _ = _cli(monkeypatch, capsys, "check", "violating")
    assert code == 1 and "FAIL region / south: criterion (b) violation (point)" in out
    # Without an inter-annotator IoU, and with three groups for criterion (a): nothing.
    code, _, err = _cli(monkeypatch, capsys, *card, "empty", "--gate")
    assert code == 2 and len(_error_lines(err)) == 1
    assert "--inter-annotator-iou" in err and "--allow-empty-gate" in err
    code, _, err = _cli(monkeypatch, capsys, "check", "empty")
    assert code == 2 and _error_lines(err)[0].endswith("accept a gate that checks nothing")
    junit = ET.parse(tmp_path / "empty" / "junit.xml").getroot()
    assert junit.get("errors") == "1"
    code, out, _ = _cli(monkeypatch, capsys, *card, "empty", "--overwrite", "--gate",
                        "--allow-empty-gate")
    assert code == 0 and "passed with nothing checked" in out
    assert _cli(monkeypatch, capsys, "check", "empty", "--allow-empty-gate")[0] == 0
    (tmp_path / "fairness-eval.toml").write_text("[check]\nallow-empty-gate = true\n")
    assert _cli(monkeypatch, capsys, "check", "empty")[0] == 0


def _small_manifest(path: Path, voc: Path, count: int) -> Path:
    """The first `count` VOC images split A / B in turn; no second annotator's masks."""
    stems = sorted(p.stem for p in (voc / "masks").glob("*.png"))[:count]
    path.write_text("image,mask,split\n" + "".join(
        f"{voc / 'images' / (stem + '.jpg')},{voc / 'masks' / (stem + '.png')},"
        f"{'AB'[index % 2]}\n" for index, stem in enumerate(stems)))
    return path


@pytest.mark.real_run
@pytest.mark.slow
def test_run_gate_and_check_agree_on_a_real_run_with_nothing_to_gate(
        tmp_path, monkeypatch, capsys, voc_dataset, model_file):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    manifest = _small_manifest(tmp_path / "small.csv", voc_dataset, 16)
    run = ["run", "--dataset", str(manifest), "--attribute", "split", "--min-group-size", "5",
           "--bootstrap", "200", "--workers", "1", "--format", "md", "--out", "run", "--gate"]
    code, out, err = _cli(monkeypatch, capsys, *run, "--strict")
    # Two groups cannot put criterion (a) past 3 SD, and no second annotator: nothing.
    assert code == 2, err
    (line,) = _error_lines(err)
    assert "--inter-annotator-iou" in line and "masks_<annotator>/" in line
    assert "fairness gate: passed" not in out
    assert _cli(monkeypatch, capsys, "check", "run")[0] == 2
    assert _cli(monkeypatch, capsys, "check", "run", "--strict")[0] == 2
    assert _cli(monkeypatch, capsys, "check", "run", "--allow-empty-gate")[0] == 0
    summary = (tmp_path / "run" / "summary.md").read_text()
    assert "## Fairness: ➖ not gated" in summary and "nothing gated in 1 attribute" in summary
    document = json.loads((tmp_path / "run" / "results.json").read_text())
    assert "allow_empty_gate" not in document["settings"]  # recorded only when set
    code, out, _ = _cli(monkeypatch, capsys, *run, "--allow-empty-gate", "--overwrite")
    assert code == 0 and "passed with nothing checked" in out
    document = json.loads((tmp_path / "run" / "results.json").read_text())
    assert document["settings"]["allow_empty_gate"] is True


# --------------------------------------------------------------------------- one story

def _report_only_doc() -> dict:
    """`person_share` violates but is gated on nothing (`gate = []`); `scene` passes."""
    return results({
        "person_share": attribute({
            "small": group(0.50, -0.30, (-0.36, -0.24), b=(V, V)),
            "large": group(0.85, 0.05, (0.03, 0.07)),
        }, verdict=V),
        "scene": attribute({"multi": group(0.80, 0.0, (-0.02, 0.02)),
                            "single": group(0.80, 0.0, (-0.02, 0.02))}, verdict=P),
    }, settings={"per_attribute": {"person_share": {"gate": []}}})


def test_a_report_only_violation_is_not_gated_on_the_card_summary_and_exit_code(
        tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "results.json").write_text(json.dumps(_report_only_doc()))
    code, _, err = _cli(monkeypatch, capsys, "report", str(run_dir), "--format", "html,md")
    assert code == 0, err
    code, out, _ = _cli(monkeypatch, capsys, "check", str(run_dir))
    assert code == 0 and out.splitlines()[-1].startswith("fairness gate: passed")
    html = (run_dir / "model_card.html").read_text()
    stamp = re.search(r'<div class="stamp stamp-(\w+)">.*?<div class="stamp-value">([^<]*)'
                      r'</div>\s*<div class="stamp-note">([^<]*)</div>', html, re.S)
    assert stamp.groups() == ("ok", "pass", "2 attributes: 1 pass, 1 not gated")
    assert "flagged" not in html and "VIOLATION" not in html.upper().split("STAMP")[1][:200]
    summary = (run_dir / "summary.md").read_text()
    assert "## Fairness: ✅ pass" in summary
    assert "| person\\_share |" in summary and "**not gated** · reports violation" in summary
    assert "· not gated |" in summary  # the violating group's row says it is not gated
    # Gated after all (the file's [attributes] replace the recorded lists): it fails.
    (tmp_path / "fairness-eval.toml").write_text('[attributes.person_share]\ngate = ["b"]\n')
    monkeypatch.chdir(tmp_path)
    assert _cli(monkeypatch, capsys, "check", str(run_dir))[0] == 1


def test_outcomes_are_counted_apart_never_lumped():
    doc = results({
        "a1": attribute({"x": group(0.7, -0.1, (-0.2, -0.05), b=(V, V)),
                         "y": group(0.9, 0.1, (0.05, 0.2))}),
        "a2": attribute({"x": group(0.8, 0.0, (-0.1, 0.1), b=(P, INC)),
                         "y": group(0.8, 0.0, (-0.1, 0.1))}),
        "a3": attribute({"x": group(0.8, 0.0, (-0.01, 0.01)),
                         "y": group(0.8, 0.0, (-0.01, 0.01))}),
        "a4": attribute({"x": group(0.7, -0.1, (-0.2, -0.05), b=(V, V)),
                         "y": group(0.9, 0.1, (0.05, 0.2))}),
    }, settings={"per_attribute": {"a4": {"gate": []}}})
    report = evaluate_gate(doc)
    assert report.tally() == {V: 1, INC: 1, P: 1, "not gated": 1}
    assert [report.outcome(name) for name in ("a1", "a2", "a3", "a4")] == [
        V, INC, P, "not gated"]
    assert report.overall() == V
    markdown = render_markdown(doc)
    assert "4 attributes: 1 violation, 1 inconclusive, 1 pass, 1 not gated" in markdown


# --------------------------------------------------------------------------- units

def test_lines_a_person_reads_give_percent_and_points_with_the_interval_the_verdict_read():
    common = dict(attribute="bourdev", group="Female", status="fail", verdict=V, n=20,
                  value=0.742, deviation=0.0156, deviation_ci=(-0.0707, 0.0801))
    margin = Check(criterion="a", threshold=0.0068, statistic="margin", estimate=-0.0051,
                   ci=(-0.0707, 0.0120), ci_confidence=0.99714, bound=0.0, **common)
    assert margin.numbers(0.95) == (
        "IoU 74.20 %, n 20, deviation +1.56 pt, margin -0.51 pt [99.71% CI -7.07, +1.20], "
        "violation when above 0")
    deviation = Check(criterion="b", threshold=0.0252, statistic="deviation", estimate=0.0156,
                      ci=(-0.0707, 0.0801), ci_confidence=0.95, bound=0.0252, **common)
    assert deviation.numbers(0.95) == (
        "IoU 74.20 %, n 20, deviation +1.56 pt [95% CI -7.07, +8.01], threshold +/-2.52 pt")
    # An older document (no recorded decision): the deviation's interval at the run's level.
    old = Check(criterion="b", threshold=0.0252, **common)
    assert old.numbers(0.9) == (
        "IoU 74.20 %, n 20, deviation +1.56 pt [90% CI -7.07, +8.01], threshold +/-2.52 pt")
    # A point verdict reads the deviation alone: no interval beside it.
    point = Check(criterion="b", threshold=0.0252, gate_on="point", **common)
    assert point.numbers(0.95) == "IoU 74.20 %, n 20, deviation +1.56 pt, threshold +/-2.52 pt"


# --------------------------------------------------------------------------- volume

def test_annotations_step_summary_and_summary_md_are_capped():
    groups = {f"g{i:03d}": group(0.6, -0.2, (-0.3, -0.1), b=(V, V)) for i in range(120)}
    groups["ok"] = group(0.95, 0.15, (0.1, 0.2))
    doc = results({"region": attribute(groups)})
    report = evaluate_gate(doc)
    assert len(report.failures) == 120
    lines = github_annotations(report)
    assert len(lines) == MAX_ANNOTATIONS + 1
    assert lines[-1].startswith("::warning") and "... and 70 more" in lines[-1]
    markdown = gate_markdown(report)
    assert markdown.count("| FAIL |") == MAX_SUMMARY_ROWS
    assert "... and 70 more failing or inconclusive check(s)" in markdown
    # summary.md: five attributes of twenty violating groups each (the card itself shows
    # at most a few dozen groups of an attribute).
    many = results({f"attr{k}": attribute(
        {f"g{i:02d}": group(0.6, -0.2, (-0.3, -0.1), b=(V, V)) for i in range(20)}
        | {"ok": group(0.95, 0.15, (0.1, 0.2))}) for k in range(5)})
    summary = render_markdown(many)
    assert len(re.findall(r"^\| attr\d \| g\d\d \|", summary, re.M)) == MAX_FLAGGED_ROWS
    assert f"... and {100 - MAX_FLAGGED_ROWS} more groups not a pass" in summary
    # Every check stays in junit.xml.
    assert len(junit_tree(report).getroot().findall(".//failure")) == 120
