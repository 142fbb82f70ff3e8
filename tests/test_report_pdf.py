"""The PDF card is tagged: a structure tree (headings, tables with header cells, figures
with alternative text), the document's language and title, and a text layer that reads
each results-table row in order.

The structure is read with pikepdf (the catalog sits in compressed object streams, out of
reach of a byte search) and checked against poppler's own view (`pdfinfo`, `pdftotext`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter

import pytest
from report_helpers import fixture_results, fixture_run, require_tool

from fairness_eval.report import render_reports

pikepdf = pytest.importorskip("pikepdf", reason="pikepdf not installed: pip install -e '.[test]'")


def structure(pdf) -> list:
    """Every structure element of the tag tree, depth first."""
    found = []

    def walk(element) -> None:
        found.append(element)
        kids = element.get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                walk(kid)

    kids = pdf.Root.StructTreeRoot.K
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        walk(kid)
    return found


def raw_text(pdf_path) -> str:
    """pdftotext in content-stream order (-raw): no column guessing by position."""
    return subprocess.run([require_tool("pdftotext"), "-raw", str(pdf_path), "-"],
                          capture_output=True, text=True, check=True).stdout


def row_pattern(group: str, g: dict) -> str:
    """A results row read in order: the group, its flag lines if any, n, IoU %, interval."""
    low, high = (f"{100 * v:.2f}" for v in g["ci"])
    return (rf"(?m)^{re.escape(group)}(?:\n[^\n\d][^\n]*)*[ \n]{g['n']} "
            rf"{100 * g['value']:.2f} {low} – {high}")


@pytest.fixture(scope="module")
def fixture_pdf(tmp_path_factory):
    run_dir = fixture_run(tmp_path_factory.mktemp("tagged"))
    (pdf,) = render_reports(run_dir, formats=("pdf",))
    return pdf


def test_pdf_is_tagged_with_language_and_title(fixture_pdf):
    info = subprocess.run([require_tool("pdfinfo"), str(fixture_pdf)], capture_output=True,
                          text=True, check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    assert re.search(r"^Title:\s+Model card: MediaPipe Selfie Segmentation$", info, re.M)
    with pikepdf.open(fixture_pdf) as pdf:
        assert "/StructTreeRoot" in pdf.Root
        assert bool(pdf.Root.MarkInfo.Marked)
        assert str(pdf.Root.Lang) == "en"
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle)


def test_structure_tree_has_tables_with_header_cells_and_described_figures(fixture_pdf):
    results = fixture_results()
    with pikepdf.open(fixture_pdf) as pdf:
        elements = structure(pdf)
        tags = Counter(str(e.S) for e in elements)
        assert tags["/H1"] == 1 and tags["/H2"] >= 8
        assert tags["/Table"] >= 2 + len(results["attributes"])
        # Header cells head the columns (in THead rows); data cells fill the body.
        cells = [(str(e.S), str(e.P.P.S)) for e in elements if str(e.S) in ("/TH", "/TD")]
        assert {section for kind, section in cells if kind == "/TH"} == {"/THead"}
        assert {section for kind, section in cells if kind == "/TD"} == {"/TBody"}
        assert Counter(kind for kind, _ in cells)["/TH"] >= 3 * tags["/Table"]
        figures = [str(e.Alt) for e in elements if str(e.S) == "/Figure"]
    # One forest plot and one distribution per attribute, each with its chart's title.
    assert sorted(figures) == sorted(
        [f"{name}: IoU per group with 95% interval" for name in results["attributes"]]
        + [f"{name}: per-image IoU per group" for name in results["attributes"]])


def test_text_layer_reads_each_results_row_in_order(fixture_pdf):
    text = raw_text(fixture_pdf)
    for attribute in fixture_results()["attributes"].values():
        for group, g in attribute["groups"].items():
            if "\n" in group or len(group) > 12:
                continue  # a long name wraps inside its cell
            assert re.search(row_pattern(group, g), text), group


@pytest.mark.real_run
def test_voc_card_pdf_is_tagged_and_reads_rows_in_order(voc_run, tmp_path):
    run_dir = voc_run[0]
    copy = tmp_path / "run"
    copy.mkdir()
    for name in ("results.json", "per_image.csv"):
        shutil.copy(run_dir / name, copy / name)
    (pdf,) = render_reports(copy, formats=("pdf",))
    with pikepdf.open(pdf) as document:
        assert "/StructTreeRoot" in document.Root and str(document.Root.Lang) == "en"
        tags = Counter(str(e.S) for e in structure(document))
    assert tags["/Table"] >= 4 and tags["/TH"] > 0 and tags["/Figure"] == 2
    text = raw_text(pdf)
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    groups = results["attributes"]["bourdev_subcategory"]["groups"]
    assert len(groups) >= 4
    for group, g in groups.items():
        assert re.search(row_pattern(group, g), text), (group, row_pattern(group, g))


def test_without_weasyprint_the_error_names_the_pdf_being_written(monkeypatch, tmp_path):
    import sys

    from fairness_eval.errors import UsageError
    from fairness_eval.report import comparison_card
    from fairness_eval.report.pdf import pdf_bytes

    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint -> ImportError
    with pytest.raises(UsageError, match=r"^cannot write model_card\.pdf: .*--format "
                                         r"html,md,json$"):
        pdf_bytes("<html></html>")
    monkeypatch.setattr(comparison_card, "comparison_card_html", lambda _: "<html></html>")
    with pytest.raises(UsageError, match=r"^cannot write comparison\.pdf: .*--format html$"):
        comparison_card.write_comparison_card(None, tmp_path, ("pdf",))
    assert not (tmp_path / "comparison.pdf").exists()
