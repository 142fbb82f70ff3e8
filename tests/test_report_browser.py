"""The card in a real browser (headless Chromium, DevTools protocol) and from real runs.

Each page must load with no console error, no uncaught exception, no dialog and no request
beyond the file itself, and must show the results tables. The tests marked `real_run` run
the real model over images of ../shared/datasets/voc2012_person first. Skipped only when
Chromium is not installed (.ci/run installs it: apt-get install chromium).
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from chromium_cdp import find_chromium, load_page
from PIL import Image
from report_helpers import (
    SCRIPT_GROUP,
    fixture_results,
    fixture_run,
    pdf_pages,
    pdf_text_pages,
    table_run,
)

from fairness_eval.report import render_reports

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason="headless Chromium not installed (apt-get install chromium); .ci/run installs it",
)

DOM = {
    "scripts": "document.scripts.length",
    "title": "document.title",
    "result_rows": "document.querySelectorAll('table.results-table tbody tr').length",
    "result_tables": "document.querySelectorAll('table.results-table').length",
    "group_cells": "[...document.querySelectorAll('table.results-table td.group')]"
                   ".map(td => td.firstChild.textContent)",
    "charts": "document.querySelectorAll('svg.chart').length",
    "chart_width": "Math.round(document.querySelector('svg.chart').getBoundingClientRect().width)",
    "examples": "[...document.querySelectorAll('figure.example img')]"
                ".filter(i => i.src.startsWith('data:image/jpeg') && i.naturalWidth > 0).length",
    "verdict": "document.querySelector('.stamp-value').textContent.trim()",
}


def assert_clean_load(report, html: Path) -> None:
    assert report.console_errors == []
    assert report.exceptions == []
    assert report.dialogs == []
    # The page itself and its inline data: images; nothing from any other place.
    assert [r for r in report.requests if not r.startswith("data:")] == [html.resolve().as_uri()]
    assert report.values["scripts"] == 0


def assert_real_screenshot(png: bytes, width: int = 1100) -> Image.Image:
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.width == width and image.height > 1500
    low, high = image.getextrema()
    assert high - low > 150  # text and colour on the page, not a blank capture
    return image


def test_harness_sees_scripts_errors_and_requests(tmp_path):
    """The checks below could fail: the harness notices a script that runs."""
    page = tmp_path / "evil.html"
    page.write_text('<!DOCTYPE html><p>x</p><script>alert("ran"); console.error("boom")'
                    '</script><img src="http://127.0.0.1:9/x.png">')
    report = load_page(page, {"scripts": "document.scripts.length"})
    assert report.dialogs == ["ran"]
    assert any("boom" in e for e in report.console_errors)
    assert "http://127.0.0.1:9/x.png" in report.requests


def test_fixture_card_loads_cleanly_and_shows_the_results(tmp_path):
    run_dir = fixture_run(tmp_path)
    (html,) = render_reports(run_dir, formats=("html",))
    report = load_page(html, DOM)
    assert_clean_load(report, html)
    results = fixture_results()
    assert report.values["result_tables"] == len(results["attributes"])
    expected = [g for a in results["attributes"].values() for g in a["groups"]]
    assert report.values["group_cells"] == expected  # the script tag is shown as text
    assert SCRIPT_GROUP in report.values["group_cells"]
    assert report.values["charts"] == 4 and report.values["chart_width"] > 500
    assert report.values["verdict"] == "violation"
    assert_real_screenshot(report.screenshot)


def test_published_table_card_loads_cleanly(tmp_path):
    run_dir = table_run(tmp_path)
    (html,) = render_reports(run_dir, formats=("html",))
    report = load_page(html, DOM)
    assert_clean_load(report, html)
    assert report.values["result_tables"] == 3
    assert report.values["result_rows"] == 17 + 6 + 2
    assert report.values["verdict"] == "pass"


@pytest.mark.real_run
def test_card_from_a_real_voc_run(voc_run, tmp_path):
    run_dir, outcome = voc_run
    paths = render_reports(run_dir, formats=("html", "pdf", "md", "json"), examples=2,
                           overwrite=True)
    html, pdf = paths[0], paths[1]
    report = load_page(html, DOM)
    assert_clean_load(report, html)
    attribute = outcome.document["attributes"]["bourdev_subcategory"]
    assert report.values["group_cells"] == list(attribute["groups"])
    assert report.values["charts"] == 2
    # Lowest-IoU overlays: two per group (fewer where a group is smaller), all decoded.
    assert report.values["examples"] == sum(min(2, g["n"]) for g in attribute["groups"].values())
    assert_real_screenshot(report.screenshot)

    pages = pdf_text_pages(pdf)
    assert pdf_pages(pdf) == len(pages) >= 3
    assert all(f"Page {i} of {len(pages)}" in page for i, page in enumerate(pages, start=1))
    text = "\n".join(pages)
    for group, g in attribute["groups"].items():
        row = re.escape(group[:12]) + rf"\S*\s+{g['n']}\s+{100 * g['value']:.2f}"
        assert any(re.search(row, page) for page in pages), row
    assert "voc2012_person" in text


@pytest.mark.real_run
def test_script_in_attributes_csv_is_shown_as_text_and_never_runs(voc_dataset, model_file,
                                                                  tmp_path):
    from fairness_eval.config.settings import Settings
    from fairness_eval.evaluation.pipeline import run_evaluation

    dataset = tmp_path / "xss_set"
    stems = sorted(p.stem for p in (voc_dataset / "images").glob("*.jpg"))[:8]
    for folder, suffix in (("images", ".jpg"), ("masks", ".png"), ("ignore", ".png")):
        (dataset / folder).mkdir(parents=True)
        for stem in stems:
            shutil.copy(voc_dataset / folder / f"{stem}{suffix}", dataset / folder)
    values = [SCRIPT_GROUP if i % 2 else "plain" for i in range(len(stems))]
    (dataset / "attributes.csv").write_text(
        "image,note\n" + "".join(f'{s},"{v}"\n' for s, v in zip(stems, values, strict=True)))
    run_dir = tmp_path / "run"
    settings = Settings(out=run_dir, attributes=("note",), workers=1, bootstrap=200,
                        formats=())
    run_evaluation(dataset, settings, command="pytest xss")
    (html,) = render_reports(run_dir, formats=("html",))
    report = load_page(html, DOM)
    assert_clean_load(report, html)  # no dialog: alert(1) never ran
    assert SCRIPT_GROUP in report.values["group_cells"]
    assert SCRIPT_GROUP not in html.read_text(encoding="utf-8")
