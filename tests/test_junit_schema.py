"""junit.xml against the schema Jenkins' xUnit plugin validates JUnit reports with
(../shared/reference/junit-10.xsd): a file that fails it is skipped by that plugin.

Validated with lxml (libxml2's XML Schema validator), the check the shared reference names.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gate_helpers import attribute, group, results

from fairness_eval.ci.gate import evaluate_gate
from fairness_eval.ci.outputs import check_run, write_junit

etree = pytest.importorskip("lxml.etree", reason="lxml not installed: pip install -e '.[test]'")

XSD = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "junit-10.xsd"
V, INC = "violation", "inconclusive"


@pytest.fixture(scope="module")
def schema():
    if not XSD.is_file():
        pytest.fail(f"shared reference missing: {XSD}")
    return etree.XMLSchema(etree.parse(str(XSD)))


def schema_errors(schema, path: Path) -> list[str]:
    valid = schema.validate(etree.parse(str(path)))
    return [] if valid else [f"line {e.line}: {e.message}" for e in schema.error_log]


def gate_results(failing: bool, group_name: str = "south") -> dict:
    """A run with a small group, a not-annotated group, an inconclusive group and a
    criterion (a) that cannot fire; `group_name` violates criterion (b) when `failing`."""
    b = (V, V) if failing else ("pass", "pass")
    return results({
        "region": attribute({
            "north": group(0.84, 0.04, (0.01, 0.07)),
            group_name: group(0.68, -0.12, (-0.16, -0.095), n=64, b=b),
            "east": group(0.74, -0.06, (-0.11, -0.02), b=("pass", INC)),
            "tiny": group(0.50, -0.30, (-0.5, -0.1), n=5, small=True, b=(V, V)),
            "(not annotated)": group(0.6, -0.2, (-0.3, -0.1), not_annotated=True, b=(V, V)),
        }, a_can_fire=False),
    })


def test_validator_rejects_what_the_xunit_plugin_rejects(schema, tmp_path):
    """The check can fail: the former output's `skipped` on <testsuites> is refused."""
    bad = tmp_path / "junit.xml"
    bad.write_text('<?xml version="1.0"?><testsuites name="x" tests="0" failures="0" '
                   'errors="0" skipped="0" time="0"/>')
    errors = schema_errors(schema, bad)
    assert len(errors) == 1 and "skipped" in errors[0]


@pytest.mark.parametrize("failing, code", [(True, 1), (False, 0)])
def test_gate_run_junit_is_schema_valid(schema, tmp_path, failing, code):
    (tmp_path / "results.json").write_text(json.dumps(gate_results(failing)))
    assert check_run(tmp_path, echo=lambda _: None, env={}) == code
    junit = tmp_path / "junit.xml"
    assert schema_errors(schema, junit) == []
    root = etree.parse(str(junit)).getroot()
    assert root.get("failures") == ("1" if failing else "0")
    # Skipped: criterion (a) of all 5 groups (cannot fire), (b) of tiny and (not annotated).
    assert root.find("testsuite").get("skipped") == "7" == str(len(root.findall(".//skipped")))
    assert len(root.findall(".//failure")) == (1 if failing else 0)


def test_strict_run_with_hostile_group_name_is_schema_valid(schema, tmp_path):
    """Control characters (illegal in XML 1.0) in a group name become visible escapes;
    newlines, markup and quotes survive as text."""
    name = 'south\x01 "<b>&</b>"\nline two\x1b'
    report = evaluate_gate(gate_results(True, name), strict=True)
    junit = write_junit(report, tmp_path / "junit.xml")
    assert schema_errors(schema, junit) == []
    names = [c.get("name") for c in etree.parse(str(junit)).getroot().iter("testcase")]
    assert 'criterion (b): south\\x01 "<b>&</b>"\nline two\\x1b' in names
    failures = etree.parse(str(junit)).getroot().findall(".//failure")
    assert {f.get("type") for f in failures} == {V, INC}


@pytest.mark.real_run
@pytest.mark.parametrize("split, code", [("person_share", 1), ("random_split", 0)])
def test_real_gate_runs_write_schema_valid_junit(schema, voc_property_run, split, code):
    run_dir = voc_property_run(split)
    assert check_run(run_dir, echo=lambda _: None, env={}) == code
    assert schema_errors(schema, run_dir / "junit.xml") == []
