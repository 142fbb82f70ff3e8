"""Every report names the figure the run judged (results.metric) and what n counts
(results.unit): the card, summary.md, model_card.json, the console table and the forest plot
say flicker or Boundary IoU and clips where the document says so, never IoU and images."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from gate_helpers import attribute, group, results

from fairness_eval.report import render_reports
from fairness_eval.report.charts import CHART_STYLE, _forest_figure
from fairness_eval.report.console import summary_lines
from fairness_eval.report.judged import judged_figure, metric_label
from fairness_eval.results.schema import ResultsDocument


def judged_document(metric: str | None, unit: str | None) -> dict:
    """Three groups of clips (or images); "open" lies far above the reference (for flicker:
    the worse side) and violates criterion (a)."""
    doc = results({"background": attribute({
        "crowd": group(0.21, -0.01, (-0.03, 0.01), n=12),
        "open": group(0.35, 0.13, (0.10, 0.16), n=10, a=("violation", "violation")),
        "studio": group(0.19, -0.03, (-0.05, -0.01), n=11),
    }, verdict="violation", b_evaluated=False)})
    doc["dataset"].update(rows=33, evaluated=33)
    doc["overall"].update(n=33, value=0.22, mean_iou=0.81, ci=[0.2, 0.24])
    if metric is not None:
        doc["bootstrap"]["metric"] = metric
    if unit is not None:
        doc["bootstrap"]["unit"] = unit
    return doc


def render(doc: dict, folder: Path) -> tuple[str, str, dict]:
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(doc))
    html, md, card = render_reports(folder, ("html", "md", "json"))
    text = unescape(re.sub(r"<[^>]+>", " ", html.read_text()))
    return " ".join(text.split()), md.read_text(), json.loads(card.read_text())


def test_the_document_records_what_was_judged():
    assert judged_figure(ResultsDocument.from_json(judged_document(None, None))).label == "IoU"
    flicker = judged_figure(ResultsDocument.from_json(judged_document("flicker", "clip")))
    assert (flicker.label, flicker.units, flicker.lower_is_better) == ("flicker", "clips", True)
    assert metric_label("boundary_iou") == "Boundary IoU"


def test_a_flicker_card_names_flicker_and_clips(tmp_path):
    text, markdown, card = render(judged_document("flicker", "clip"), tmp_path / "run")
    assert "flicker % 95% interval" in text  # the results table's header
    assert ("Reference 80.00 %: the clip-level mean over the clips of the gated groups "
            "(the card's “average” when every clip is annotated in groups large enough to "
            "judge)") in text
    assert "Mean flicker, all clips" in text and "Clips evaluated" in text
    assert "A group's flicker minus the reference" in text
    assert "A positive deviation is the worse one." in text
    assert "background: flicker per group with 95% interval" in text  # figure caption/title
    assert "image-level" not in text and "IoU %" not in text
    # summary.md: the headline and the flagged group's table
    assert "Mean flicker **22.00 %**" in markdown and "33 clips" in markdown
    assert "| Attribute | Group | n | flicker % | Deviation |" in markdown
    assert "IoU %" not in markdown
    # model_card.json: the metrics' types and the graphics' names
    metrics = card["quantitative_analysis"]["performance_metrics"]
    types = {m["type"] for m in metrics}
    assert {"mean flicker", "clips", "flicker range (max - min)"} <= types
    assert not {"mean IoU", "images", "IoU range (max - min)"} & types
    open_group = [m["value"] for m in metrics
                  if m.get("slice") == "background: open" and m["type"] == "mean flicker"]
    assert open_group == ["35.00 %"]
    graphics = card["quantitative_analysis"]["graphics"]
    assert [g["name"] for g in graphics["collection"]] == [
        "background: flicker per group with 95% interval"]
    assert "mean flicker in percent" in graphics["description"]


def test_a_boundary_iou_card_of_images_names_the_metric_and_keeps_images(tmp_path):
    text, markdown, card = render(judged_document("boundary_iou", None), tmp_path / "run")
    assert "Boundary IoU % 95% interval" in text
    assert "the image-level mean over the images of the gated groups" in text
    assert "Mean Boundary IoU, all images" in text and "Images evaluated" in text
    assert "| Attribute | Group | n | Boundary IoU % | Deviation |" in markdown
    types = {m["type"] for m in card["quantitative_analysis"]["performance_metrics"]}
    assert {"mean Boundary IoU", "images"} <= types and "mean IoU" not in types


def test_an_iou_card_keeps_its_words(tmp_path):
    text, markdown, card = render(judged_document(None, None), tmp_path / "run")
    assert "IoU % 95% interval" in text and "Mean IoU, all images" in text
    assert "the image-level mean over the images of the gated groups" in text
    assert "A group's IoU minus the reference, in percentage points (pt)." in text
    assert "A positive deviation is the worse one." not in text
    assert "| Attribute | Group | n | IoU % | Deviation |" in markdown
    types = {m["type"] for m in card["quantitative_analysis"]["performance_metrics"]}
    assert {"mean IoU", "images", "IoU range (max - min)"} <= types


@pytest.mark.parametrize(("metric", "unit", "header", "first", "overall"), [
    ("flicker", "clip", "flicker %", "synthetic: 33 of 33 clips evaluated, 0 skipped",
     "overall: n = 33 clips, mean flicker  22.0% [20.0, 24.0], mean IoU  81.0%"),
    ("boundary_iou", None, "Boundary IoU %", "synthetic: 33 of 33 rows evaluated, 0 skipped",
     "overall: n = 33 images, mean Boundary IoU  22.0% [20.0, 24.0], mean IoU  81.0%"),
    (None, None, " IoU %", "synthetic: 33 of 33 rows evaluated, 0 skipped",
     "overall: n = 33, mean IoU  81.0% [20.0, 24.0], pooled IoU    --%"),
])
def test_the_console_table_names_the_judged_metric(metric, unit, header, first, overall):
    lines = summary_lines(judged_document(metric, unit))
    assert lines[:2] == [first, overall]
    heading = next(line for line in lines if line.strip().startswith("group"))
    assert header in heading and heading.count("IoU") == header.count("IoU")
    # Values stay right-aligned under the header, whatever its width.
    row = next(line for line in lines if line.strip().startswith("open"))
    end = heading.index(header) + len(header)
    assert row[:end].endswith("35.0")


@pytest.mark.parametrize(("metric", "label"), [("iou", "IoU"), ("boundary_iou", "Boundary IoU"),
                                                ("flicker", "flicker")])
def test_the_forest_plots_axis_names_the_judged_metric(metric, label):
    block = judged_document(metric, None)["attributes"]["background"]
    with plt.rc_context(CHART_STYLE):
        figure, title = _forest_figure("background", block, "95%", metric)
    try:
        assert figure.axes[0].get_xlabel() == f"{label} (%) with 95% interval"
        assert title == f"background: {label} per group with 95% interval"
    finally:
        plt.close(figure)
