"""The cards are readable by everyone: the PDF says it is PDF/UA-1, its headings extract as
words, every table header cell says what it heads (`scope`), and every chart's text has a
WCAG contrast of at least 4.5:1 against what it is drawn on.

The charts are those of a stills card (the fixture run), a conditions card (the fixture run
with a synthetic conditions block, as test_conditions_report.py makes it), a video card (a
synthetic per-frame table), a comparison card (two models over the fixture's groups) and a
card of a run given annotators' votes (its label-agreement heatmap, test_label_votes_run.py's
run).
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_helpers import FIXTURE_RUN, fixture_run, require_tool

from fairness_eval.report import render_reports
from fairness_eval.report.charts import CHART_STYLE
from fairness_eval.results.document import read_results

SVG = "{http://www.w3.org/2000/svg}"
PACKAGE = Path(__file__).resolve().parents[1] / "fairness_eval"
TEMPLATES, REPORT = PACKAGE / "templates", PACKAGE / "report"
WHITE = (1.0, 1.0, 1.0)
MIN_CONTRAST = 4.5  # WCAG 2.1 AA, normal text (SC 1.4.3); chart text is small


# --- colour arithmetic (WCAG 2.1) ---------------------------------------------------------


def rgb(colour: str) -> tuple[float, float, float]:
    """An SVG colour (#rgb, #rrggbb or a few names) as fractions."""
    named = {"black": "#000000", "white": "#ffffff"}
    value = named.get(colour.strip().lower(), colour.strip())
    if not re.fullmatch(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value):
        raise AssertionError(f"a chart colour this test cannot read: {colour!r}")
    digits = value[1:]
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return tuple(int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4))


def over(colour: tuple[float, ...], alpha: float, background: tuple[float, ...]) -> tuple:
    return tuple(alpha * c + (1 - alpha) * b for c, b in zip(colour, background, strict=True))


def luminance(colour: tuple[float, ...]) -> float:
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in colour]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_arithmetic_matches_wcag_examples():
    assert contrast(rgb("#000"), WHITE) == pytest.approx(21.0)
    assert contrast(rgb("#777777"), WHITE) == pytest.approx(4.48, abs=0.01)
    assert contrast(rgb("#d9822b"), WHITE) == pytest.approx(2.93, abs=0.01)


# --- the text of a chart and what it sits on ----------------------------------------------


def style_of(element: ET.Element) -> dict[str, str]:
    declared = dict(part.split(":", 1) for part in element.get("style", "").split(";")
                    if ":" in part)
    out = {k.strip(): v.strip() for k, v in declared.items()}
    for name in ("fill", "fill-opacity", "opacity"):
        if element.get(name) is not None:
            out.setdefault(name, element.get(name))
    return out


def first_fill(group: ET.Element, background: tuple[float, ...]) -> tuple[float, ...] | None:
    """The fill of a group's first patch (a figure's or a legend's frame), composited."""
    for path in group.iter(f"{SVG}path"):
        style = style_of(path)
        fill = style.get("fill", "#000000")
        if fill == "none":
            return None
        alpha = float(style.get("fill-opacity", 1)) * float(style.get("opacity", 1))
        return over(rgb(fill), alpha, background)
    return None


def text_contrasts(svg: str) -> list[tuple[str, str, float]]:
    """(text, its fill, its contrast) of every <text> of one chart. The background is the
    figure's patch (white where it has none: the card's page is white), or the frame of the
    legend the text belongs to; no chart draws text inside its axes (test below)."""
    root = ET.fromstring(svg)
    figure_patch = next((g for g in root.iter(f"{SVG}g") if g.get("id", "").endswith("patch_1")),
                        None)
    page = (first_fill(figure_patch, WHITE) if figure_patch is not None else None) or WHITE
    out = []

    def walk(element: ET.Element, fill: str, alpha: float, background: tuple) -> None:
        style = style_of(element)
        fill = style.get("fill", fill)
        alpha *= float(style.get("opacity", 1))
        if re.search(r"legend_\d+$", element.get("id", "")):
            frame = next((g for g in element if g.get("id", "").split("-")[-1]
                          .startswith("patch_")), None)
            if frame is not None:
                background = first_fill(frame, background) or background
        if element.tag == f"{SVG}text":
            text_alpha = alpha * float(style.get("fill-opacity", 1))
            shown = over(rgb(fill), text_alpha, background)
            out.append(("".join(element.itertext()).strip(), fill,
                        contrast(shown, background)))
        for child in element:
            walk(child, fill, alpha, background)

    walk(root, "#000000", 1.0, page)  # SVG's initial fill is black
    return out


def inline_svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


# --- the four cards' charts ---------------------------------------------------------------


def stills_charts(tmp_path: Path) -> list[str]:
    (html,) = render_reports(fixture_run(tmp_path), formats=("html",))
    return inline_svgs(html.read_text())


def conditions_charts(tmp_path: Path) -> list[str]:
    from test_conditions_report import run_with

    (html,) = render_reports(run_with(tmp_path, 0.10), formats=("html",))
    charts = inline_svgs(html.read_text())
    assert any(" under dark: " in svg for svg in charts)  # the severity chart
    return charts


def video_charts() -> list[str]:
    from fairness_eval.report.timeline import timeline_svg

    rng = np.random.default_rng(0)
    rows = []
    for clip in ("bear", "dance-twirl", "walking"):
        for frame in range(40):
            status = "skipped" if (clip, frame) == ("walking", 7) else "ok"
            rows.append({"clip": clip, "frame": frame, "status": status,
                         "iou": 0.6 + 0.3 * rng.random() if status == "ok" else np.nan,
                         "flicker": 0.05 * rng.random() if frame and status == "ok"
                         else np.nan})
    return [timeline_svg(pd.DataFrame(rows))]


def label_charts(tmp_path: Path) -> list[str]:
    from test_label_votes_run import run_with

    outcome, _ = run_with(tmp_path, labels="majority")
    (html,) = render_reports(outcome.run_dir, formats=("html",))
    charts = inline_svgs(html.read_text())
    assert any("pair of annotators labelled alike" in svg for svg in charts)  # the heatmap
    return charts


def comparison_charts() -> list[str]:
    from fairness_eval.report.comparison_charts import models_forest_svg

    document = read_results(FIXTURE_RUN)
    return [models_forest_svg(name, ["baseline", "candidate", "third"], [block] * 3)
            for name, block in document.attributes.items()]


@pytest.fixture(scope="module")
def charts(tmp_path_factory) -> dict[str, list[str]]:
    made = {
        "stills": stills_charts(tmp_path_factory.mktemp("stills")),
        "conditions": conditions_charts(tmp_path_factory.mktemp("conditions")),
        "video": video_charts(),
        "comparison": comparison_charts(),
        "labels": label_charts(tmp_path_factory.mktemp("labels")),
    }
    assert all(made.values()), {card: len(svgs) for card, svgs in made.items()}
    return made


@pytest.mark.slow
@pytest.mark.parametrize("card", ["stills", "conditions", "video", "comparison", "labels"])
def test_every_chart_text_has_at_least_4_5_to_1_contrast(charts, card):
    found = [item for svg in charts[card] for item in text_contrasts(svg)]
    assert len(found) >= 10  # tick labels, axis labels, legends: the check saw them
    low = sorted({(fill, round(ratio, 2), text) for text, fill, ratio in found
                  if ratio < MIN_CONTRAST})
    assert not low, f"{card} card: chart text below {MIN_CONTRAST}:1: {low[:8]}"


def test_no_chart_draws_text_inside_its_axes():
    """The contrast check takes the figure (or a legend's frame) as each text's background:
    text drawn over the plotting area (a band, a bar) would need its own check."""
    for module in ("charts", "comparison_charts", "condition_charts", "label_charts",
                   "timeline"):
        source = (REPORT / f"{module}.py").read_text()
        assert not re.search(r"\.(text|annotate|table)\(", source), module


def test_the_chart_styles_text_colours_pass_on_white():
    for key in ("axes.labelcolor", "xtick.color", "ytick.color"):
        assert contrast(rgb(CHART_STYLE[key]), WHITE) >= MIN_CONTRAST, key
    from fairness_eval.report.timeline import FLICKER_COLOUR, IOU_COLOUR

    # The flicker axis's tick labels and spine are drawn in its colour.
    assert contrast(rgb(FLICKER_COLOUR), WHITE) >= MIN_CONTRAST
    assert contrast(rgb(IOU_COLOUR), WHITE) >= MIN_CONTRAST


# --- tables and the PDF ---------------------------------------------------------------------


@pytest.mark.parametrize("template", ["card.html.j2", "comparison.html.j2"])
def test_every_table_header_cell_has_a_scope(template):
    source = (TEMPLATES / template).read_text()
    cells = re.findall(r"<th(?!ead)\b[^>]*>", source)
    assert cells
    assert [c for c in cells if not re.search(r'scope="(col|row)"', c)] == []


def test_the_rendered_card_has_no_header_cell_without_scope(tmp_path):
    (html,) = render_reports(fixture_run(tmp_path), formats=("html",))
    cells = re.findall(r"<th\b[^>]*>", html.read_text())
    assert len(cells) > 20
    assert [c for c in cells if "scope=" not in c] == []


@pytest.fixture(scope="module")
def card_pdf(tmp_path_factory) -> Path:
    (pdf,) = render_reports(fixture_run(tmp_path_factory.mktemp("ua")), formats=("pdf",))
    return pdf


def test_the_pdf_identifies_itself_as_pdf_ua_1(card_pdf):
    meta = subprocess.run([require_tool("pdfinfo"), "-meta", str(card_pdf)],
                          capture_output=True, text=True, check=True).stdout
    assert re.search(r'pdfuaid:part="1"|<pdfuaid:part>1</pdfuaid:part>', meta), meta[:500]
    assert "Model card: MediaPipe Selfie Segmentation" in meta  # dc:title
    info = subprocess.run([require_tool("pdfinfo"), str(card_pdf)], capture_output=True,
                          text=True, check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    assert re.search(r"^PDF version:\s+1\.7$", info, re.M)  # PDF/UA-1 is ISO 32000-1


def test_the_pdfs_uppercase_headings_extract_as_words(card_pdf):
    text = subprocess.run([require_tool("pdftotext"), str(card_pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "MODEL CARD · FAIRNESS EVALUATION" in text
    assert re.search(r"\bFAIRNESS VERDICT\b", text)
    assert re.search(r"\bMEAN IOU, ALL IMAGES\b", text)
    assert not re.search(r"\b(?:[A-Z] ){3,}", text)  # no word spelled out letter by letter
