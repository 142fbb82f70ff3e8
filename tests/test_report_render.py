"""render_reports: the four files, a self-contained escaped HTML page, a numbered PDF whose
tables hold the results, and no user file replaced without being asked."""

from __future__ import annotations

import json
import re

import pytest
from report_helpers import (
    SCRIPT_GROUP,
    fixture_results,
    fixture_run,
    pdf_pages,
    pdf_text_pages,
    pdf_to_png,
    table_run,
)

from fairness_eval.errors import UsageError
from fairness_eval.report import FILE_NAMES, LEDGER_NAME, render_reports

ALL = ("html", "pdf", "md", "json")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The fixture run rendered in every format (PDF rendering takes a few seconds)."""
    run_dir = fixture_run(tmp_path_factory.mktemp("rendered"))
    paths = render_reports(run_dir, formats=ALL)
    return run_dir, paths


def test_writes_the_requested_files_in_order(rendered):
    run_dir, paths = rendered
    assert paths == [run_dir / FILE_NAMES[f] for f in ALL]
    assert all(p.stat().st_size > 0 for p in paths)
    ledger = json.loads((run_dir / LEDGER_NAME).read_text())
    assert set(ledger) == {p.name for p in paths}


def test_html_is_self_contained(rendered):
    html = (rendered[0] / "model_card.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 4  # forest + distribution for each of two attributes
    assert not re.search(r"<script|<link|<iframe|@import|@font-face", html, re.I)
    # No reference to anything outside the page: no http(s)/file URLs in src, href or url().
    assert not re.search(r'(src|href)="(?!#|data:)', html)
    assert not re.search(r"url\((?!#)", html)
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_user_text_is_escaped_in_html(rendered):
    html = (rendered[0] / "model_card.html").read_text(encoding="utf-8")
    assert SCRIPT_GROUP not in html
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    # In the factors table, the results table and the sample-size table.
    assert html.count(escaped) >= 3


def test_html_results_tables_hold_every_group(rendered):
    html = (rendered[0] / "model_card.html").read_text(encoding="utf-8")
    tables = re.findall(r'<table class="data results-table">(.*?)</table>', html, re.S)
    results = fixture_results()
    assert len(tables) == len(results["attributes"])
    for table, attribute in zip(tables, results["attributes"].values(), strict=True):
        rows = re.findall(r"<tr class=\"[^\"]*\">\s*<td class=\"group\">(.*?)</td>", table, re.S)
        names = [re.sub(r"<div.*", "", r, flags=re.S) for r in rows]
        expected = [g.replace("<", "&lt;").replace(">", "&gt;") for g in attribute["groups"]]
        assert names == expected


def test_pdf_pages_are_numbered_and_hold_the_results_tables(rendered, tmp_path):
    pdf = rendered[0] / "model_card.pdf"
    pages = pdf_text_pages(pdf)
    count = pdf_pages(pdf)
    assert count == len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {count}" in text
    text = "\n".join(pages)
    assert "EVALUATION RESULTS" in text and "FAIRNESS SUMMARY" in text
    assert SCRIPT_GROUP in text  # shown as text
    # Each group's row (name, n and IoU %) lies on one page: rows never break across pages.
    # (A long name may wrap inside its cell, so only its first characters are matched.)
    for attribute in fixture_results()["attributes"].values():
        for group, g in attribute["groups"].items():
            row = (re.escape(group[:12]) + r"\S*\s+" + str(g["n"]) + r"\s+"
                   + re.escape(f"{100 * g['value']:.2f}"))
            assert any(re.search(row, page) for page in pages), (group, row)
    images = pdf_to_png(pdf, tmp_path)
    assert len(images) == count
    assert all(p.stat().st_size > 5_000 for p in images)  # pages drawn, not blank


def test_published_table_renders_without_per_image_data(tmp_path):
    run_dir = table_run(tmp_path)
    paths = render_reports(run_dir, formats=("html", "pdf", "md"))
    html = paths[0].read_text(encoding="utf-8")
    assert html.count("<svg") == 3  # forest plots only: no per-image distribution
    assert "fairness criteria applied to published figures" in html
    text = "\n".join(pdf_text_pages(paths[1]))
    for region, value in (("e_asia", "97.64"), ("s_africa", "95.89"), ("m_africa", "96.06")):
        assert re.search(region + r"\s+\d+\s+" + value, text)
    assert re.search(r"skin_tone.*1\.10 pt.*2\.52 pt", text)


def test_never_replaces_a_file_it_did_not_write(tmp_path):
    run_dir = fixture_run(tmp_path)
    mine = run_dir / "summary.md"
    mine.write_text("my notes\n")
    with pytest.raises(UsageError, match="summary.md: exists and was not written by"):
        render_reports(run_dir, formats=("md", "json"))
    assert mine.read_text() == "my notes\n"
    assert not (run_dir / "model_card.json").exists()  # all-or-nothing
    render_reports(run_dir, formats=("md",), overwrite=True)
    assert mine.read_text().startswith("<!-- generated by fairness-eval")


def test_regenerates_its_own_files_but_not_edited_ones(tmp_path):
    run_dir = fixture_run(tmp_path)
    (path,) = render_reports(run_dir, formats=("json",))
    render_reports(run_dir, formats=("json",))  # its own file: regenerated freely
    path.write_text(path.read_text() + " ")
    with pytest.raises(UsageError, match="or was edited since"):
        render_reports(run_dir, formats=("json",))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"formats": ("html", "docx")}, "--format: 'docx' is not one of html, pdf, md, json"),
    ({"formats": ()}, "--format: give at least one"),
    ({"examples": -1}, "--examples: -1 must be >= 0"),
])
def test_bad_options_are_usage_errors(tmp_path, kwargs, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        render_reports(fixture_run(tmp_path), **kwargs)


@pytest.mark.slow
def test_missing_run_folder_and_examples_without_masks(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        render_reports(tmp_path / "nowhere", formats=("md",))
    with pytest.raises(UsageError, match="run with --save-masks"):
        render_reports(fixture_run(tmp_path), formats=("html",), examples=2)
    with pytest.raises(UsageError, match="no per_image.csv"):
        render_reports(table_run(tmp_path), formats=("html",), examples=1)


def test_formats_accept_a_comma_separated_string(tmp_path):
    paths = render_reports(fixture_run(tmp_path), formats="md,json,md")
    assert [p.name for p in paths] == ["summary.md", "model_card.json"]


def test_breakable_names_escape_and_break_only_at_underscores():
    from fairness_eval.report.html import breakable

    assert str(breakable("bourdev_subcategory")) == "bourdev_<wbr>subcategory"
    assert str(breakable("<b>_x")) == "&lt;b&gt;_<wbr>x"
