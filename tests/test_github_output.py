"""$GITHUB_OUTPUT: `check`, `card --gate` and `run --gate` append the gate's decision, its
counts and the run's paths as step outputs, in the multiline form docs/ci.md documents."""

from __future__ import annotations

import json
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from gate_helpers import attribute, group, mixed_results, results

from fairness_eval import cli
from fairness_eval.ci import step_outputs
from fairness_eval.ci.gate import evaluate_gate
from fairness_eval.ci.step_outputs import output_entry

V, INC, P = "violation", "inconclusive", "pass"
EARLIER = "earlier=kept\n"  # what an earlier command of the step wrote


def parse_outputs(text: str) -> list[tuple[str, str]]:
    """(name, value) of each entry of a GITHUB_OUTPUT file, in order: `name=value` lines
    and `name<<DELIMITER` ... `DELIMITER` blocks, as the Actions runner reads them."""
    lines = text.split("\n")
    assert lines[-1] == "", "the file ends with a newline"
    entries, i = [], 0
    while i < len(lines) - 1:
        line = lines[i]
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)  # ValueError: an entry never closed
            entries.append((name, "\n".join(lines[i + 1:end])))
            i = end + 1
        else:
            name, value = line.split("=", 1)
            entries.append((name, value))
            i += 1
    return entries


def main(monkeypatch, capsys, output: Path, *arguments: object) -> tuple[int, list[str]]:
    """`fairness-eval ARGUMENTS` with GITHUB_OUTPUT set: (exit code, stderr lines)."""
    monkeypatch.setattr(sys, "argv", ["fairness-eval", *map(str, arguments)])
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return exited.value.code, capsys.readouterr().err.splitlines()


def junit_counts(run_dir: Path) -> dict[str, int]:
    root = ET.parse(run_dir / "junit.xml").getroot()
    suites = root.findall("testsuite")
    return {"tests": int(root.get("tests")), "failures": int(root.get("failures")),
            "skipped": sum(int(s.get("skipped")) for s in suites)}


@pytest.mark.parametrize("strict", [False, True])
def test_check_appends_the_gate_as_step_outputs(tmp_path, monkeypatch, capsys, strict):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    document = mixed_results()
    (run_dir / "results.json").write_text(json.dumps(document))
    (run_dir / "model_card.html").write_text("<html></html>")
    output = tmp_path / "github_output"
    output.write_text(EARLIER)
    code, _ = main(monkeypatch, capsys, output, "check", run_dir,
                   *(["--strict"] if strict else []))
    assert code == 1
    entries = parse_outputs(output.read_text())
    assert entries[0] == ("earlier", "kept")  # appended, never truncated
    outputs = dict(entries[1:])
    assert len(outputs) == len(entries) - 1  # each output once
    # The counts are the gate's, counted here from its checks and from junit.xml.
    report = evaluate_gate(document, strict=strict)
    gated = [c for c in report.checks if c.status != "skip"]
    junit = junit_counts(run_dir)
    assert outputs == {
        "verdict": "failed",
        "exit_code": "1",
        "violations": str(sum(c.verdict == V for c in gated)),
        "inconclusive": str(sum(c.verdict == INC for c in gated)),
        "passes": str(sum(c.status == "pass" for c in report.checks)),
        "not_gated": str(junit["skipped"]),
        "failing": str(junit["failures"]),
        "checks": str(junit["tests"]),
        "results": str((run_dir / "results.json").resolve()),
        "card": str((run_dir / "model_card.html").resolve()),
        "junit": str((run_dir / "junit.xml").resolve()),
        "run_dir": str(run_dir.resolve()),
    }
    # By hand, from mixed_results: south/b violates, east/b is inconclusive (fails only
    # under --strict); north a and b, south a, east a, female b and male b pass; tiny's
    # two, the not-annotated group's two and female's and male's (a) are skipped.
    assert (outputs["violations"], outputs["inconclusive"]) == ("1", "1")
    assert outputs["failing"] == ("2" if strict else "1")
    assert (outputs["passes"], outputs["not_gated"], outputs["checks"]) == ("6", "6", "14")
    assert json.loads(Path(outputs["results"]).read_text()) == document


def test_a_passing_and_an_empty_gate(tmp_path, monkeypatch, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    output = tmp_path / "out"
    passing = results({"r": attribute({"x": group(0.8, 0.0, (-0.01, 0.01)),
                                       "y": group(0.8, 0.0, (-0.01, 0.01))})})
    (run_dir / "results.json").write_text(json.dumps(passing))
    assert main(monkeypatch, capsys, output, "check", run_dir)[0] == 0
    first = dict(parse_outputs(output.read_text()))
    assert (first["verdict"], first["exit_code"], first["failing"]) == ("passed", "0", "0")
    assert first["card"] == ""  # no card in the folder
    # Every group small: nothing gated, exit 2; allowed, it passes.
    empty = results({"r": attribute({"x": group(0.8, 0.0, (-0.01, 0.01), n=3, small=True)})})
    (run_dir / "results.json").write_text(json.dumps(empty))
    output.unlink()
    assert main(monkeypatch, capsys, output, "check", run_dir)[0] == 2
    outputs = dict(parse_outputs(output.read_text()))
    assert (outputs["verdict"], outputs["exit_code"]) == ("nothing-checked", "2")
    assert (outputs["checks"], outputs["not_gated"]) == ("2", "2")
    assert main(monkeypatch, capsys, output, "check", run_dir, "--allow-empty-gate")[0] == 0
    entries = parse_outputs(output.read_text())
    assert dict(entries)["verdict"] == "passed"  # the later entry wins, as in Actions
    assert [name for name, _ in entries].count("verdict") == 2


def test_an_unwritable_output_file_is_one_warning_and_the_verdict_stands(
        tmp_path, monkeypatch, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "results.json").write_text(json.dumps(mixed_results()))
    code, err = main(monkeypatch, capsys, tmp_path, "check", run_dir)  # a folder
    assert code == 1
    warnings = [line for line in err if "step outputs" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: cannot append")
    assert str(tmp_path) in warnings[0] and "verdict is unchanged" in warnings[0]


def test_a_path_with_a_newline_cannot_end_its_entry_or_set_another_output(
        tmp_path, monkeypatch, capsys):
    run_dir = tmp_path / "run\nverdict=passed\nx<<EOF"
    run_dir.mkdir()
    (run_dir / "results.json").write_text(json.dumps(mixed_results()))
    output = tmp_path / "out"
    assert main(monkeypatch, capsys, output, "check", run_dir)[0] == 1
    outputs = dict(parse_outputs(output.read_text()))
    assert outputs["verdict"] == "failed" and "x" not in outputs
    assert outputs["run_dir"] == str(run_dir.resolve())


def test_the_delimiter_is_drawn_again_when_the_value_holds_it(monkeypatch):
    drawn = iter([uuid.UUID(int=1), uuid.UUID(int=2)])
    monkeypatch.setattr(step_outputs.uuid, "uuid4", lambda: next(drawn))
    value = f"a\nghadelimiter_{uuid.UUID(int=1)}\nb"
    entry = output_entry("name", value)
    assert entry.splitlines()[0] == f"name<<ghadelimiter_{uuid.UUID(int=2)}"
    assert parse_outputs(entry) == [("name", value)]


def test_card_gate_writes_the_same_outputs(tmp_path, monkeypatch, capsys):
    shared = Path(__file__).resolve().parents[1].parent / "shared"
    table = shared / "reference/mediapipe_selfie_2021_card.csv"
    if not table.is_file():
        pytest.skip("the shared reference table is not here")
    out, output = tmp_path / "card", tmp_path / "out"
    code, _ = main(monkeypatch, capsys, output, "card", "--from-table", table, "--average",
                   "96.57", "--inter-annotator-iou", "98.74", "--out", out, "--format", "md",
                   "--gate")
    outputs = dict(parse_outputs(output.read_text()))
    assert outputs["exit_code"] == str(code)
    assert outputs["verdict"] == {0: "passed", 1: "failed", 2: "nothing-checked"}[code]
    assert outputs["results"] == str((out / "results.json").resolve())
    assert int(outputs["failing"]) == junit_counts(out)["failures"]


def test_run_gate_writes_the_outputs_of_the_run_it_gated(tmp_path, monkeypatch, capsys):
    """A real `run --gate` over supplied predictions: group B's masks cover half the
    person, so B violates criterion (b); the outputs are that run's."""
    import cv2
    import numpy as np

    dataset = tmp_path / "data"
    for folder in ("images", "masks", "predictions"):
        (dataset / folder).mkdir(parents=True)
    truth = np.zeros((32, 32), np.uint8)
    truth[8:24, 8:24] = 255
    rows = ["image,team"]
    for i in range(24):
        stem, team = f"im{i:02d}", "A" if i < 12 else "B"
        predicted = np.zeros_like(truth)
        # A: the person, give or take a row; B: the left half of it
        predicted[8:23 + i % 2, 8:24] = 255 if team == "A" else 0
        if team == "B":
            predicted[8:24, 8:16 + i % 2] = 255
        cv2.imwrite(str(dataset / "images" / f"{stem}.png"), np.full((32, 32, 3), 90, np.uint8))
        cv2.imwrite(str(dataset / "masks" / f"{stem}.png"), truth)
        cv2.imwrite(str(dataset / "predictions" / f"{stem}.png"), predicted)
        rows.append(f"{stem},{team}")
    (dataset / "attributes.csv").write_text("\n".join(rows) + "\n")
    out, output = tmp_path / "run", tmp_path / "github_output"
    code, err = main(monkeypatch, capsys, output, "run", "--dataset", dataset,
                     "--predictions", dataset / "predictions", "--out", out,
                     "--min-group-size", "10", "--inter-annotator-iou", "0.98",
                     "--workers", "1", "--bootstrap", "200", "--format", "md", "--gate")
    assert code == 1, err
    outputs = dict(parse_outputs(output.read_text()))
    document = json.loads((out / "results.json").read_text())
    groups = document["attributes"]["team"]["groups"]
    assert groups["B"]["verdicts"]["b"]["statistical"] == V
    assert (outputs["verdict"], outputs["exit_code"]) == ("failed", "1")
    assert outputs["violations"] == str(sum(
        g["verdicts"][c]["statistical"] == V for g in groups.values() for c in "ab"))
    assert outputs["failing"] == str(junit_counts(out)["failures"]) != "0"
    assert outputs["results"] == str((out / "results.json").resolve())
    assert outputs["card"] == ""  # --format md writes summary.md, no card


def test_docs_list_every_output_in_order(tmp_path):
    text = (Path(__file__).resolve().parents[1] / "docs" / "ci.md").read_text()
    section = text.split("### Step outputs", 1)[1].split("\n\n", 3)[2]  # the table
    documented = [row.split("|")[1].strip().strip("`") for row in section.splitlines()[2:]]
    written = step_outputs.step_outputs(evaluate_gate(mixed_results()), tmp_path)
    assert documented == list(written)
