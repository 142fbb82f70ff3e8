"""The rules that put a test in the slow tier (tests/tiers.py), on small modules written here."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tiers import HEAVY_NAMES, module_facts

HELPER = '''
import subprocess
import sys


def spawn(*args):
    return subprocess.run([sys.executable, "-m", "fairness_eval", *args])


def pdf_text(pdf):
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True)
'''

MODULE = '''
import subprocess
import sys

import pytest
from tier_helper import pdf_text, spawn

from fairness_eval.report import render_reports

CLI = [sys.executable, "-c", "from fairness_eval.cli import main; main()"]
ALL = ("html", "pdf")


def child(*args):
    return subprocess.run([*CLI, *args])


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    return cli("run", "--dataset", "data", "--out", tmp_path_factory.mktemp("r"))


def test_arithmetic():
    assert 1 + 1 == 2


def test_through_a_module_helper():
    assert child("validate").returncode == 0


def test_through_a_helper_module():
    assert spawn("validate").returncode == 0


def test_a_tool_that_is_not_python(tmp_path):
    assert pdf_text(tmp_path / "x.pdf").returncode == 1


def test_the_model_in_this_process():
    from fairness_eval.models.inference import Segmenter

    assert Segmenter("selfie")


def test_a_run_in_this_process(cli):
    assert cli("run", "--dataset", "data") == 0


def test_a_run_from_saved_masks(cli):
    assert cli("run", "--dataset", "data", "--predictions", "masks") == 0


def test_a_refused_run(cli):
    assert cli("run", "--dataset", "data", "--threshold", "2") == 2


def test_a_refused_run_then_a_real_one(cli):
    assert cli("run", "--dataset", "data", "--threshold", "2") == 2
    assert cli("run", "--dataset", "data") == 0


def test_an_html_card(tmp_path):
    render_reports(tmp_path, formats=("html",))


def test_a_pdf_card(tmp_path):
    render_reports(tmp_path, formats=ALL)
'''


def heavy_tests(folder: Path) -> set[str]:
    (folder / "tier_helper.py").write_text(textwrap.dedent(HELPER))
    path = folder / "test_module.py"
    path.write_text(textwrap.dedent(MODULE))
    return {name for name in module_facts(path).heavy - HEAVY_NAMES
            if name.startswith("test_")}


def test_each_rule_marks_what_it_names_and_nothing_else(tmp_path):
    assert heavy_tests(tmp_path) == {
        "test_through_a_module_helper", "test_through_a_helper_module",
        "test_the_model_in_this_process", "test_a_run_in_this_process",
        "test_a_refused_run_then_a_real_one", "test_a_pdf_card",
    }


def test_fixtures_and_helpers_are_judged_too_and_module_constants_read(tmp_path):
    heavy_tests(tmp_path)
    facts = module_facts(tmp_path / "test_module.py")
    assert "real_run" in facts.heavy and "child" in facts.heavy
    assert {"CLI"} <= facts.python and "ALL" in facts.pdf
