"""junit.xml, GitHub Actions annotations and step summary, and `check_run` end to end."""

from __future__ import annotations

import io
import itertools
import json
import sys
import xml.etree.ElementTree as ET

import pytest
from gate_helpers import attribute, group, mixed_results, results

from fairness_eval.ci.gate import FAIL, SKIP, WARN, evaluate_gate
from fairness_eval.ci.outputs import (
    check_run,
    gate_markdown,
    github_annotations,
    write_github_outputs,
    write_junit,
)
from fairness_eval.config.command_options import CheckOptions

V, INC, P = "violation", "inconclusive", "pass"


def parse(path):
    return ET.parse(path).getroot()


@pytest.mark.parametrize("strict", [False, True])
def test_junit_counts_match_the_gate(tmp_path, strict):
    report = evaluate_gate(mixed_results(), strict=strict)
    root = parse(write_junit(report, tmp_path / "junit.xml"))
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["region", "gender"]
    for name, suite in suites.items():
        checks = report.for_attribute(name)
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases) == len(checks)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("failures")) == sum(c.status == FAIL for c in checks)
        assert int(suite.get("skipped")) == sum(c.find("skipped") is not None for c in cases)
        assert int(suite.get("skipped")) == sum(c.status == SKIP for c in checks)
    # region: 4 groups x 2 criteria; gender: 3 x 2
    assert int(root.get("tests")) == 14
    # failing: south/b (+ east/b under --strict); skipped: tiny x2, gender/a x3, (n.a.)/b
    assert int(root.get("failures")) == (2 if strict else 1)
    assert root.get("skipped") is None  # junit-10.xsd allows it on <testsuite> only
    assert sum(int(s.get("skipped")) for s in suites.values()) == 6
    assert int(root.get("errors")) == 0


def test_junit_failure_names_the_group_and_carries_the_numbers(tmp_path):
    report = evaluate_gate(mixed_results())
    root = parse(write_junit(report, tmp_path / "junit.xml"))
    failures = root.findall(".//testcase[failure]")
    assert [c.get("name") for c in failures] == ["criterion (b): south"]
    assert failures[0].get("classname") == "fairness.region"
    failure = failures[0].find("failure")
    assert failure.get("type") == "violation"
    for text in ("deviation -12.00 pt", "[95% CI -16.00, -9.50]", "threshold +/-9.00 pt",
                 "n 64"):
        assert text in failure.get("message") and text in failure.text
    skipped = {c.get("name"): c.find("skipped").get("message")
               for c in root.findall(".//testcase[skipped]")}
    assert "small group (n = 5)" in skipped["criterion (b): tiny"]
    assert "never gated" in skipped["criterion (b): (not annotated)"]
    assert "cannot fire" in skipped["criterion (a): female"]
    inconclusive = root.find(".//testcase[@name='criterion (b): east']")
    assert inconclusive.find("failure") is None and inconclusive.find("skipped") is None
    assert "inconclusive" in inconclusive.find("system-out").text


def test_github_outputs_written_only_under_github_actions(tmp_path):
    doc = mixed_results()
    report = evaluate_gate(doc)
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n")
    quiet = io.StringIO()
    assert not write_github_outputs(report, doc, env={"GITHUB_STEP_SUMMARY": str(summary)},
                                    stream=quiet)
    assert quiet.getvalue() == "" and summary.read_text() == "earlier step\n"

    stream = io.StringIO()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    assert write_github_outputs(report, doc, env=env, stream=stream)
    lines = stream.getvalue().splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert len(errors) == 1 and len(warnings) == 1
    assert errors[0].startswith("::error title=Fairness%3A region / south%2C criterion (b)::")
    assert "deviation -12.00 pt" in errors[0]
    assert "region / east" in warnings[0]
    text = summary.read_text()
    assert text.startswith("earlier step\n")  # appended, not replaced
    assert "## Fairness: " in text and " on synthetic\n" in text  # the run's summary.md
    assert "### Fairness gate" in text
    assert "| FAIL | region | south | (b) | violation | 68.00 | 64 | -12.00 pt |" in text


def test_step_summary_is_the_run_summary_then_the_gate(tmp_path):
    from fairness_eval.report.markdown import render_markdown

    doc = mixed_results()
    report = evaluate_gate(doc)
    summary = tmp_path / "s.md"
    write_github_outputs(report, doc, stream=io.StringIO(),
                         env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text() == (render_markdown(doc).rstrip() + "\n\n"
                                   + gate_markdown(report) + "\n")


def test_gate_markdown_keeps_user_text_inside_its_cell():
    doc = results({"site|a": attribute({
        "new\nline *b* \x07": group(0.6, -0.2, (-0.3, -0.1), b=(V, V)),
    })})
    text = gate_markdown(evaluate_gate(doc))
    row = next(line for line in text.splitlines() if line.startswith("| FAIL"))
    assert row.startswith("| FAIL | site\\|a | new line \\*b\\* \\\\x07 | (b) |")
    # One row, ten cells: the escaped pipe does not open a new one.
    assert len(row.replace("\\|", "").split("|")) == 12


def test_annotation_data_and_properties_are_escaped():
    doc = results({"site:a,b": attribute({
        "50%\nline": group(0.6, -0.2, (-0.3, -0.1), b=(V, V)),
    })})
    (line,) = github_annotations(evaluate_gate(doc))
    title, _, message = line.partition("::")[2].partition("::")
    assert "site%3Aa%2Cb" in title and "50%25%0Aline" in title
    assert "\n" not in line and "50%25%0Aline" in message


def test_gate_markdown_when_passing():
    doc = results({"r": attribute({"x": group(0.8, 0.0, (-0.01, 0.01))})})
    text = gate_markdown(evaluate_gate(doc))
    assert "Gate **passed** on statistical verdicts: 0 failing" in text and "| FAIL" not in text


def test_check_run_writes_junit_and_returns_the_exit_code(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(mixed_results()))
    echoed: list[str] = []
    assert check_run(tmp_path, echo=echoed.append, env={}) == 1
    assert (tmp_path / "junit.xml").is_file()
    assert echoed[-2].startswith("FAIL region / south: criterion (b) violation")
    assert echoed[-1].startswith("fairness gate: FAILED")
    # Gating only criterion (a) of region leaves nothing failing.
    options = CheckOptions(gated={"region": ("a",)})
    assert check_run(tmp_path, options, echo=echoed.append, env={}) == 0
    root = parse(tmp_path / "junit.xml")
    assert root.get("failures") == "0"
    # The inconclusive east/b fails under --strict even when south/b is not gated.
    del echoed[:]
    doc = mixed_results()
    doc["attributes"]["region"]["groups"]["south"]["verdicts"]["b"]["statistical"] = "pass"
    (tmp_path / "results.json").write_text(json.dumps(doc))
    assert check_run(tmp_path, echo=echoed.append, env={}) == 0
    assert check_run(tmp_path, CheckOptions(strict=True), echo=echoed.append, env={}) == 1
    assert echoed[-2].startswith("FAIL region / east: criterion (b) inconclusive")


def test_warn_status_is_what_junit_reports_as_passing_with_output():
    report = evaluate_gate(mixed_results())
    assert [c.group for c in report.checks if c.status == WARN] == ["east"]


# --------------------------------------------------------------------------- real runs
# Real model over the 300 VOC images, with attributes derived from real properties of the
# photographs (tests/conftest.py: voc_property_run).


def _junit_cases(run_dir):
    root = parse(run_dir / "junit.xml")
    return root, {
        (suite.get("name"), case.get("name")): case
        for suite in root.findall("testsuite") for case in suite.findall("testcase")
    }


@pytest.mark.real_run
def test_real_person_share_split_fails_the_gate_naming_the_small_group(voc_property_run):
    run_dir = voc_property_run("person_share")
    doc = json.loads((run_dir / "results.json").read_text())
    groups = doc["attributes"]["person_share"]["groups"]
    # People filling under 5% of the frame are segmented far worse.
    assert groups["small"]["value"] < groups["large"]["value"] - 0.3
    echoed: list[str] = []
    assert check_run(run_dir, echo=echoed.append, env={}) == 1
    root, cases = _junit_cases(run_dir)
    failing = [key for key, case in cases.items() if case.find("failure") is not None]
    assert failing == [("person_share", "criterion (b): small")]
    message = cases[failing[0]].find("failure").get("message")
    small = groups["small"]
    assert f"deviation {100 * small['deviation']:+.2f} pt" in message
    assert f"n {small['n']}" in message
    # criterion (a) cannot fire with two groups: skipped, not passed.
    assert cases[("person_share", "criterion (a): small")].find("skipped") is not None
    assert root.get("tests") == "4" and root.find("testsuite").get("skipped") == "2"
    assert echoed[-2].startswith("FAIL person_share / small: criterion (b) violation")


@pytest.mark.real_run
def test_real_seeded_random_split_passes_the_gate(voc_property_run):
    run_dir = voc_property_run("random_split")
    assert check_run(run_dir, echo=lambda _: None, env={}) == 0
    assert check_run(run_dir, CheckOptions(strict=True), echo=lambda _: None, env={}) == 0
    root, cases = _junit_cases(run_dir)
    assert root.get("failures") == "0"
    assert cases[("random_split", "criterion (b): A")].find("skipped") is None


@pytest.mark.real_run
def test_real_inconclusive_result_fails_only_with_strict(voc_property_run):
    run_dir = voc_property_run("scene")
    doc = json.loads((run_dir / "results.json").read_text())
    multi = doc["attributes"]["scene"]["groups"]["multi"]
    assert multi["verdicts"]["b"]["statistical"] == "inconclusive"
    assert check_run(run_dir, echo=lambda _: None, env={}) == 0
    echoed: list[str] = []
    assert check_run(run_dir, CheckOptions(strict=True), echo=echoed.append, env={}) == 1
    _, cases = _junit_cases(run_dir)
    failure = cases[("scene", "criterion (b): multi")].find("failure")
    assert failure is not None and failure.get("type") == "inconclusive"
    assert echoed[-2].startswith("FAIL scene / multi: criterion (b) inconclusive")
    # The point estimate alone is past the threshold: --gate-on point fails it too.
    assert check_run(run_dir, CheckOptions(gate_on="point"), echo=lambda _: None, env={}) == 1


@pytest.mark.real_run
def test_real_run_github_outputs(voc_property_run, tmp_path):
    run_dir = voc_property_run("person_share")
    summary = tmp_path / "summary.md"
    stdout = io.StringIO()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    assert check_run(run_dir, echo=lambda _: None, env=env, stream=stdout) == 1
    errors = [line for line in stdout.getvalue().splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "person_share / small" in errors[0]
    text = summary.read_text()
    assert "## Fairness:" in text  # the report package's summary
    assert "| FAIL | person\\_share | small | (b) | violation |" in text


def test_missing_dataset_exits_2(tmp_path, monkeypatch, capsys):
    from fairness_eval import cli

    monkeypatch.setattr(sys, "argv", ["fairness-eval", "run", "--dataset",
                                      str(tmp_path / "no_such_dataset"), "--gate",
                                      "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 2
    assert "no_such_dataset" in capsys.readouterr().err


def test_check_of_a_folder_without_results_is_a_usage_error(tmp_path):
    from fairness_eval.errors import UsageError

    with pytest.raises(UsageError, match="results.json: not found"):
        check_run(tmp_path, echo=lambda _: None, env={})


# --------------------------------------------------------------------------- the CLI shell

def _cli_exit(monkeypatch, *args: str) -> int:
    from fairness_eval import cli

    monkeypatch.setattr(sys, "argv", ["fairness-eval", *args])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    return exit_.value.code


def _cli_has(command: str) -> bool:
    from fairness_eval import cli

    return command in cli.cli.commands


@pytest.mark.real_run
@pytest.mark.skipif(not _cli_has("check"), reason="`check` is not wired into cli.py yet")
def test_cli_check_exit_codes_and_config(voc_property_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert _cli_exit(monkeypatch, "check", str(voc_property_run("person_share"))) == 1
    assert _cli_exit(monkeypatch, "check", str(voc_property_run("random_split"))) == 0
    scene = str(voc_property_run("scene"))
    assert _cli_exit(monkeypatch, "check", scene) == 0
    assert _cli_exit(monkeypatch, "check", scene, "--strict") == 1
    (tmp_path / "fairness-eval.toml").write_text("[check]\nstrict = true\n")
    assert _cli_exit(monkeypatch, "check", scene) == 1  # strict from the file
    (tmp_path / "fairness-eval.toml").write_text("[check]\nstrict = true\n"
                                                 "[attributes.scene]\ngate = []\n")
    # scene gated on nothing: nothing was checked, which is not a pass unless allowed
    assert _cli_exit(monkeypatch, "check", scene) == 2
    assert _cli_exit(monkeypatch, "check", scene, "--allow-empty-gate") == 0
    (tmp_path / "fairness-eval.toml").write_text("[check]\nstrikt = true\n")
    assert _cli_exit(monkeypatch, "check", scene) == 2
    assert _cli_exit(monkeypatch, "check", str(tmp_path / "no_run")) == 2


@pytest.mark.real_run
@pytest.mark.skipif(not _cli_has("compare"), reason="`compare` is not wired into cli.py yet")
def test_cli_compare_exit_codes(voc_property_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base, cand = voc_property_run("person_share"), voc_property_run("person_share", 0.02)
    out = str(tmp_path / "cmp")
    assert _cli_exit(monkeypatch, "compare", str(base), str(cand), "--out", out,
                     "--max-drop", "0.01") == 1
    assert (tmp_path / "cmp" / "comparison.md").is_file()
    subset = voc_property_run("person_share", keep=250)
    assert _cli_exit(monkeypatch, "compare", str(base), str(subset), "--out", out) == 2


def _unescape_workflow(text: str) -> str:
    """A workflow command's escaped message or property, as the Actions runner reads it."""
    for escaped, plain in (("%0A", "\n"), ("%0D", "\r"), ("%3A", ":"), ("%2C", ","),
                           ("%25", "%")):
        text = text.replace(escaped, plain)
    return text


def test_a_newline_pipe_percent_and_colons_in_a_group_name_survive_annotations_and_summary(
        tmp_path):
    from fairness_eval.report.text import markdown_text

    hostile = "50% | a\n::error::owned"
    doc = results({"team::x": attribute({
        hostile: group(0.6, -0.2, (-0.3, -0.1), b=(V, V)),
        "ok": group(0.8, 0.0, (-0.01, 0.01)),
    })})
    stream, summary = io.StringIO(), tmp_path / "summary.md"
    write_github_outputs(evaluate_gate(doc), doc, stream=stream,
                         env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    commands = [line for line in stream.getvalue().splitlines() if line.startswith("::")]
    # One annotation, one line: the name's own "::error::" never starts a command.
    assert len(commands) == 1 and commands[0].startswith("::error title=")
    properties, _, message = commands[0].removeprefix("::error ").partition("::")
    assert _unescape_workflow(properties) == (
        f"title=Fairness: team::x / {hostile}, criterion (b)")
    assert _unescape_workflow(message).startswith(f"team::x / {hostile}: criterion (b) ")
    # The step summary (the run's summary, then the gate's table): the name stays in its
    # cell, shown as written on one line, and no row gains or loses a cell.
    text = summary.read_text()
    shown = markdown_text(hostile)
    assert shown == "50% \\| a ::error::owned"
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert sum(shown in row for row in rows) >= 2  # the results table and the gate table
    tables = [list(block) for is_table, block in
              itertools.groupby(text.splitlines(), lambda line: line.startswith("|"))
              if is_table]
    assert len(tables) >= 2
    for table in tables:
        cells = {len(row.replace("\\|", "").split("|")) for row in table}
        assert len(cells) == 1, table
    assert not any(line.startswith("::") for line in text.splitlines())
