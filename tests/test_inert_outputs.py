"""Every output a person opens is inert, and the readers verify what they read.

per_image.csv's header is neutralised like its cells (an attribute column named `=cmd`);
invisible characters in group names (a right-to-left override, control characters) are
shown as escapes in the HTML card, whose inline SVG charts stay well-formed XML, and never
reach stderr raw through a library's warning; `compare` and `report` refuse a per_image.csv
edited after the run (results.json records its SHA-256).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from report_helpers import fixture_run

from fairness_eval import cli
from fairness_eval.report import render_reports
from fairness_eval.results.document import read_per_image, read_results

FORMULA_COLUMN = "=cmd|' /C calc'!A0"
REVERSED = "x\u202eevil"  # would display as "xlive"
CONTROLS = "y\x07\x1b[31mz"
# Characters that must never reach a page or a terminal raw: C0 controls (but tab, newline
# and carriage return), DEL, C1 controls, bidi embeddings, overrides and isolates.
RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def main(*arguments: object) -> tuple[int, str, str]:
    """`fairness-eval ARGUMENTS` through the console entry, isolated by click's CliRunner:
    (exit code, stdout, stderr)."""
    runner, argv = CliRunner(), sys.argv
    with runner.isolation() as (out, err, _):
        sys.argv = ["fairness-eval", *map(str, arguments)]
        try:
            cli.main()
        except SystemExit as exited:
            code = exited.code
        else:  # pragma: no cover - main always exits
            code = None
        finally:
            sys.argv = argv
        return code, out.getvalue().decode(), err.getvalue().decode()


def inline_svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def assert_inert_card(html: str) -> None:
    """No raw override or control character, and every inline chart parses as XML."""
    assert not RAW.search(html), RAW.search(html)
    charts = inline_svgs(html)
    assert charts
    for svg in charts:
        ET.fromstring(svg)  # raises on a control character or broken markup


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, model_file) -> Path:
    """A real run over six tiny images whose attribute column is named like a formula and
    whose groups hold a right-to-left override and control characters."""
    root = tmp_path_factory.mktemp("inert")
    dataset = root / "ds"
    (dataset / "images").mkdir(parents=True)
    (dataset / "masks").mkdir()
    mask = np.zeros((16, 16), np.uint8)
    mask[4:12, 4:12] = 255
    stems = ["a", "b", "c", "d", "e", "f"]
    for stem in stems:
        cv2.imwrite(str(dataset / "images" / f"{stem}.png"), np.full((16, 16, 3), 120, np.uint8))
        cv2.imwrite(str(dataset / "masks" / f"{stem}.png"), mask)
    with open(dataset / "attributes.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", FORMULA_COLUMN])
        for stem, value in zip(stems, [REVERSED] * 2 + [CONTROLS] * 2 + ["plain"] * 2,
                               strict=True):
            writer.writerow([stem, value])
    run = root / "run"
    code, _, err = main("run", "--dataset", dataset, "--out", run, "--attribute",
                        FORMULA_COLUMN, "--min-group-size", "1", "--workers", "1",
                        "--bootstrap", "200", "--format", "html")
    assert code == 0, err
    assert not RAW.search(err), err  # matplotlib's glyph warnings included
    return run


@pytest.mark.slow
def test_per_image_header_is_neutralised_and_read_back(hostile_run):
    with open(hostile_run / "per_image.csv", newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header[-1] == "'" + FORMULA_COLUMN
    assert not any(name.startswith(("=", "+", "-", "@")) for name in header)
    table = read_per_image(hostile_run)
    assert FORMULA_COLUMN in table.columns
    assert sorted(set(table[FORMULA_COLUMN])) == sorted({REVERSED, CONTROLS, "plain"})
    document = read_results(hostile_run)
    assert list(document.attributes) == [FORMULA_COLUMN]
    assert set(document.attributes[FORMULA_COLUMN].groups) == {REVERSED, CONTROLS, "plain"}


@pytest.mark.slow
def test_run_card_shows_escapes_and_well_formed_charts(hostile_run):
    html = (hostile_run / "model_card.html").read_text(encoding="utf-8")
    assert_inert_card(html)
    assert "x\\u202eevil" in html
    assert "y\\x07\\x1b[31mz" in html
    # The distribution chart draws the per-image values, so it found the groups' rows.
    assert len(inline_svgs(html)) == 2


def test_card_of_hostile_group_names_escapes_them_everywhere(tmp_path):
    run = fixture_run(tmp_path)
    document = json.loads((run / "results.json").read_text(encoding="utf-8"))
    renames = {"indoor": REVERSED, "outdoor": CONTROLS + "\u2066\ufeff"}
    scene = document["attributes"]["scene"]
    scene["groups"] = {renames.get(k, k): v for k, v in scene["groups"].items()}
    (run / "results.json").write_text(json.dumps(document), encoding="utf-8")
    table = (run / "per_image.csv").read_text(encoding="utf-8")
    for old, new in renames.items():
        table = table.replace(f",{old},", f",{new},")
    (run / "per_image.csv").write_text(table, encoding="utf-8")
    render_reports(run, ("html",))
    html = (run / "model_card.html").read_text(encoding="utf-8")
    assert_inert_card(html)
    assert "x\\u202eevil" in html and "\\u2066\\ufeff" in html
    charts = inline_svgs(html)
    texts = ["".join(node.itertext()) for svg in charts for node in ET.fromstring(svg).iter()
             if node.tag.endswith("text")]
    # The escaped names are what the charts draw (tick labels), not the raw characters.
    assert any("x\\u202eevil" in t for t in texts), texts
    assert any("y\\x07\\x1b" in t for t in texts), texts


@pytest.mark.slow
def test_compare_and_report_refuse_an_edited_per_image_csv(hostile_run, tmp_path):
    baseline, candidate = tmp_path / "baseline", tmp_path / "candidate"
    shutil.copytree(hostile_run, baseline)
    shutil.copytree(hostile_run, candidate)
    code, _, err = main("compare", baseline, candidate, "--out", tmp_path / "same",
                        "--format", "")
    assert code == 0, err
    recorded = json.loads((candidate / "results.json").read_text())["tables"]
    assert set(recorded) == {"per_image.csv"}
    lines = (candidate / "per_image.csv").read_text(encoding="utf-8").splitlines(True)
    cells = lines[1].split(",")
    iou = lines[0].split(",").index("iou")
    cells[iou] = "0.999"  # one cell: still a number, so only the hash can tell
    lines[1] = ",".join(cells)
    (candidate / "per_image.csv").write_text("".join(lines), encoding="utf-8")
    for arguments in (["compare", baseline, candidate, "--out", tmp_path / "edited",
                       "--format", ""], ["report", candidate, "--format", "md",
                                         "--overwrite"]):
        code, out, err = main(*arguments)
        assert code == 2, (arguments, err)
        errors = err.strip().splitlines()
        assert len(errors) == 1, errors
        assert errors[0].startswith("fairness-eval: error: ")
        assert f"{candidate / 'per_image.csv'}: changed since the run wrote it" in errors[0]
        assert "Traceback" not in err
    assert not (tmp_path / "edited").exists()  # a refused command writes nothing


def test_library_warnings_and_log_records_reach_stderr_escaped(capsys, monkeypatch):
    import logging
    import warnings

    from fairness_eval.terminal import escape_library_output

    monkeypatch.setattr(logging, "lastResort", logging.lastResort)
    monkeypatch.setenv("OPENCV_LOG_LEVEL", "unset")
    monkeypatch.delenv("OPENCV_LOG_LEVEL")  # restored (absent) after the test
    library = logging.getLogger("some.library")
    monkeypatch.setattr(library, "propagate", False)  # no handler: logging's last resort
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        escape_library_output()
        warnings.warn("Glyph 8238 (\u202e) missing\n::error title=x::forged", UserWarning,
                      stacklevel=1)
        library.warning("cannot read %s", "a\x1b[2Jb\u2066")
    err = capsys.readouterr().err
    assert not RAW.search(err), err
    assert err.splitlines() == [
        "warning: UserWarning: Glyph 8238 (\\u202e) missing\\n::error title=x::forged",
        "some.library: WARNING: cannot read a\\x1b[2Jb\\u2066"]
    assert os.environ["OPENCV_LOG_LEVEL"] == "ERROR"
