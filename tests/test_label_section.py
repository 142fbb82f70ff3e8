"""The card's section "How sure are the labels?": a run given annotators' votes shows each
voted attribute's alpha with its interval and level, annotators, images, each group's
unanimous share and the annotator-by-annotator heatmap, in the HTML, the PDF and one line
of summary.md; a card without votes has no such section."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from report_helpers import fixture_run, pdf_text_pages
from test_label_votes_run import run_with

from fairness_eval.report import render_reports

OTHER = {"majority": "resample", "resample": "majority"}


@pytest.fixture(scope="module", params=["majority", "resample"])
def voted_run(tmp_path_factory, request) -> Path:
    outcome, _ = run_with(tmp_path_factory.mktemp("voted"), labels=request.param)
    return outcome.run_dir


def _policy(run_dir: Path) -> str:
    return _agreement(run_dir)["policy"]


def _agreement(run_dir: Path) -> dict:
    return json.loads((run_dir / "results.json").read_text())["label_agreement"]["skin_tone"]


def test_the_html_card_shows_the_section_with_the_recorded_figures(voted_run):
    (html,) = render_reports(voted_run, formats=("html",), overwrite=True)
    text = html.read_text()
    record = _agreement(voted_run)
    section = text[text.index('<section id="labels">'):]
    section = section[:section.index("</section>")]
    assert '<a href="#labels">How sure are the labels?</a>' in text
    assert f"{record['alpha']:.2f}" in section
    assert f"{record['ci'][0]:.2f} – {record['ci'][1]:.2f}" in section
    policy = _policy(voted_run)
    assert "ordinal" in section and f">{policy}<" in section
    # Every gated group under both policies (min group size 1: 2, 3 and 5), criteria (a)
    # and (b), none differing.
    assert f"<caption>skin_tone: verdicts under {policy} and {OTHER[policy]} labels</caption>" \
        in section
    rows = re.findall(r'<th scope="row" class="group">([^<]+)</th>', section)
    assert rows == ["2", "2", "3", "3", "5", "5"]
    assert section.count(">same</td>") == 6 and "No verdict differs." in section
    # Unanimous shares, per group by majority label: 2 all three, 3 none, 5 three of four.
    cells = re.findall(r'<td class="group">([^<]+)</td><td class="num">([^<]+)</td>', section)
    assert cells == [("2", "100.0 %"), ("3", "0.0 %"), ("5", "75.0 %")]
    # The heatmap and its text alternative: r1 and r2 agree on every image, r0 with each on 6
    # of 8.
    assert section.count('<svg class="chart"') == 1
    assert "<title>skin_tone: share of images each pair of annotators labelled alike, " \
           "3 annotators</title>" in section
    pairs = re.findall(r'<th scope="row">(\w+) and (\w+)</th><td>(\d+)</td><td>([^<]+)</td>',
                       section)
    assert pairs == [("r0", "r1", "8", "75.0 %"), ("r0", "r2", "8", "75.0 %"),
                     ("r1", "r2", "8", "100.0 %")]


def test_the_summary_says_it_in_one_line_per_attribute(voted_run):
    (md,) = render_reports(voted_run, formats=("md",), overwrite=True)
    record = _agreement(voted_run)
    lines = [line for line in md.read_text().splitlines() if line.startswith("- skin\\_tone:")]
    assert len(lines) == 1
    assert (f"Krippendorff's alpha {record['alpha']:.2f} (95% interval {record['ci'][0]:.2f} – "
            f"{record['ci'][1]:.2f}, ordinal); 3 annotators, 8 images") in lines[0]
    assert "unanimous: 2 100.0 %, 3 0.0 %, 5 75.0 %" in lines[0]


def test_the_pdf_has_the_section(voted_run):
    (pdf,) = render_reports(voted_run, formats=("pdf",), overwrite=True)
    text = "\n".join(pdf_text_pages(pdf))
    assert "HOW SURE ARE THE LABELS?" in text
    assert re.search(r"Krippendorff's alpha", text)
    assert "skin_tone: agreement per pair" in text  # the heatmap's title, drawn as text
    assert re.search(r"2\s+100\.0 %", text)
    policy = _policy(voted_run)
    assert f"skin_tone: verdicts under {policy} and {OTHER[policy]} labels" in " ".join(
        text.split())


def test_a_card_without_votes_has_no_section(tmp_path):
    html, md = render_reports(fixture_run(tmp_path), formats=("html", "md"))
    assert 'id="labels"' not in html.read_text()
    assert "How sure are the labels" not in md.read_text()


@pytest.mark.slow
def test_the_voted_card_is_accessible(voted_run, tmp_path):
    from axe_helpers import assert_accessible
    from chromium_cdp import find_chromium, load_page

    if find_chromium() is None:
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    (html,) = render_reports(voted_run, formats=("html",), overwrite=True)
    assert_accessible(html)
    names = load_page(html, {"names": "[...document.querySelectorAll('svg.chart')]"
                                      ".map(s => s.querySelector(':scope > title').textContent)"
                             }).values["names"]
    assert "skin_tone: share of images each pair of annotators labelled alike, 3 annotators" \
        in names
