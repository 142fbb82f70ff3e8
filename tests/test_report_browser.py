"""The card in a real browser (headless Chromium, DevTools protocol) and from real runs.

Each page must load with no console error, no uncaught exception, no dialog and no request
beyond the file itself, and must show the results tables; and must pass axe-core's WCAG 2.1
A/AA rules with zero violations (tests/axe_helpers.py). The tests marked `real_run` run
the real model over images of ../shared/datasets/voc2012_person first. Skipped only when
Chromium is not installed (.ci/run installs it: apt-get install chromium) or, for the
accessibility checks, axe-core (.ci/run: npm install --prefix .node axe-core@4).
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from axe_helpers import assert_accessible, axe_results
from chromium_cdp import find_chromium, load_page
from PIL import Image
from report_helpers import (
    SCRIPT_GROUP,
    dataset_images,
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
# What a screen reader gets: landmarks, each chart's name and the figures it shows.
A11Y = {
    "main": "document.querySelectorAll('main').length",
    "chart_names": "[...document.querySelectorAll('svg.chart')]"
                   ".map(s => s.querySelector(':scope > title').textContent)",
    "chart_tables": "[...document.querySelectorAll('figure.chart')]"
                    ".map(f => f.querySelectorAll('.visually-hidden tbody tr').length)",
    "hidden_width": "Math.max(...[...document.querySelectorAll('.visually-hidden')]"
                    ".map(t => t.getBoundingClientRect().width))",
    "overflow": "document.documentElement.scrollWidth - window.innerWidth",
    "version_headers": "[...document.querySelectorAll('table.versions thead th')]"
                       ".map(th => th.textContent)",
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


def test_axe_check_finds_what_the_cards_once_had(tmp_path):
    """The accessibility check can fail: a chart without a name, muted text below 4.5:1
    on the violation-row red and no <main> are each reported."""
    page = tmp_path / "inaccessible.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>t</title></head><body>'
        '<svg role="img" viewBox="0 0 10 10"><path d="M0 0h10v10z"/></svg>'
        '<p style="background:#fbe3e4;color:#5f6b7a">z = -1.54</p></body></html>')
    ids = {v["id"] for v in axe_results(page, rules=("landmark-one-main",))["violations"]}
    assert {"svg-img-alt", "color-contrast", "landmark-one-main"} <= ids


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


def test_fixture_card_is_accessible(tmp_path):
    run_dir = fixture_run(tmp_path)
    (html,) = render_reports(run_dir, formats=("html",))
    assert_accessible(html)
    values = load_page(html, A11Y).values
    results = fixture_results()
    assert values["main"] == 1
    assert values["chart_names"] == [
        name + suffix for name in results["attributes"]
        for suffix in (": IoU per group with 95% interval", ": per-image IoU per group")]
    # Each chart's text alternative: a row per group, in a table clipped to 1 px that
    # widens nothing.
    assert values["chart_tables"] == [len(a["groups"]) for a in results["attributes"].values()
                                      for _ in range(2)]
    assert values["hidden_width"] <= 1 and values["overflow"] <= 0


def test_published_table_card_is_accessible(tmp_path):
    (html,) = render_reports(table_run(tmp_path), formats=("html",))
    assert_accessible(html)
    values = load_page(html, A11Y).values
    assert values["main"] == 1
    assert values["chart_names"] == ["region: IoU per group", "skin_tone: IoU per group",
                                     "gender: IoU per group"]
    assert values["chart_tables"] == [17, 6, 2]


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
                           overwrite=True, images=dataset_images(run_dir))
    html, pdf = paths[0], paths[1]
    report = load_page(html, DOM)
    assert_clean_load(report, html)
    attribute = outcome.document.to_json()["attributes"]["bourdev_subcategory"]
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
def test_voc_quick_start_card_is_accessible(voc_run, tmp_path):
    """The card of a real VOC run, re-rendered as `fairness-eval report --examples 2` does,
    with its lowest-IoU overlays and the versions table."""
    run_dir = tmp_path / "run"
    shutil.copytree(voc_run[0], run_dir)
    (html,) = render_reports(run_dir, formats=("html",), examples=2, overwrite=True,
                             images=dataset_images(run_dir))
    assert_accessible(html)
    values = load_page(html, {**A11Y, **DOM}).values
    assert values["main"] == 1 and values["examples"] > 0
    assert values["chart_names"] == ["bourdev_subcategory: IoU per group with 95% interval",
                                     "bourdev_subcategory: per-image IoU per group"]
    assert values["version_headers"] == ["Component", "Version"]


@pytest.mark.real_run
def test_script_in_attributes_csv_is_shown_as_text_and_never_runs(voc_dataset, model_file,
                                                                  tmp_path):
    from fairness_eval.config.settings import Settings
    from fairness_eval.workflow.run import run_evaluation

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
