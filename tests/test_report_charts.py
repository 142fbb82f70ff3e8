"""Charts: well-formed inline SVG, one marker per group, reproducible, no markup leaks."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET

import pandas as pd
from report_helpers import FIXTURE_RUN, SCRIPT_GROUP, fixture_results, mediapipe_table_results

from fairness_eval.report.charts import (
    attribute_columns,
    distribution_svg,
    forest_plot_svg,
    group_labels,
)
from fairness_eval.results.document import read_per_image

SVG = "{http://www.w3.org/2000/svg}"


def test_forest_plot_is_inline_svg_with_a_marker_per_group():
    results = fixture_results()
    attribute = results["attributes"]["scene"]
    svg = forest_plot_svg("scene", attribute)
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == f"{SVG}svg" and "viewBox" in root.attrib and "width" not in root.attrib
    assert not svg.startswith("<?xml") and "<!--" not in svg and "<style" not in svg
    # Group names are text, escaped: the hostile name is readable, never markup.
    assert "<script" not in svg
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert any(t.startswith("<script>alert(1)</script>") for t in texts)
    # One marker and one interval per group, in the document's order.
    ids = [g.get("id", "") for g in root.iter(f"{SVG}g")]
    markers = [i for i in ids if re.search(r"-marker-\d+$", i)]
    intervals = [i for i in ids if re.search(r"-interval-\d+$", i)]
    assert len(markers) == len(intervals) == len(attribute["groups"])


def test_charts_are_reproducible_and_their_ids_do_not_collide():
    results = fixture_results()
    first = forest_plot_svg("scene", results["attributes"]["scene"])
    again = forest_plot_svg("scene", results["attributes"]["scene"])
    other = forest_plot_svg("bourdev_subcategory", results["attributes"]["bourdev_subcategory"])
    assert first == again
    ids_first = set(re.findall(r'id="([^"]+)"', first))
    ids_other = set(re.findall(r'id="([^"]+)"', other))
    assert ids_first and not ids_first & ids_other
    # Every internal reference points at an id of the same chart.
    for reference in re.findall(r'(?:href="#|url\(#)([^")]+)', first):
        assert reference in ids_first


def test_forest_plot_of_a_published_table_without_intervals():
    results = mediapipe_table_results()
    svg = forest_plot_svg("region", results["attributes"]["region"])
    ET.fromstring(svg)
    assert len(re.findall(r'id="[^"]*-marker-\d+"', svg)) == 17
    assert not re.findall(r'id="[^"]*-interval-\d+"', svg)  # the table gave no intervals


def test_dollar_signs_in_group_names_are_literal():
    results = copy.deepcopy(fixture_results())
    attribute = results["attributes"]["scene"]
    attribute["groups"] = {f"$x^{i}$ costs $": g
                           for i, g in enumerate(attribute["groups"].values())}
    svg = forest_plot_svg("scene", attribute)  # mathtext would raise on an odd "$"
    assert len(re.findall(r'id="[^"]*-marker-\d+"', svg)) == 3


def test_distribution_needs_matching_per_image_rows():
    results = fixture_results()
    per_image = read_per_image(FIXTURE_RUN)
    svg = distribution_svg("scene", results["attributes"]["scene"], per_image, "scene")
    ET.fromstring(svg)
    assert distribution_svg("scene", results["attributes"]["scene"], per_image,
                            "no_such_column") is None
    empty = per_image.assign(status="skipped")
    assert distribution_svg("scene", results["attributes"]["scene"], empty, "scene") is None


def test_group_labels_match_the_statistics_stage():
    frame = pd.DataFrame({"region": ["europe", "", "e_asia"], "tone": ["3", "4", ""]})
    assert list(group_labels(frame, ["region"])) == ["europe", "(not annotated)", "e_asia"]
    assert list(group_labels(frame, ["region", "tone"])) == [
        "europe×3", "(not annotated)", "(not annotated)"]
    per_image = read_per_image(FIXTURE_RUN)
    ok = per_image[per_image["status"] == "ok"]
    counts = group_labels(ok, ["scene"]).value_counts().to_dict()
    groups = fixture_results()["attributes"]["scene"]["groups"]
    assert counts == {name: g["n"] for name, g in groups.items()}
    assert SCRIPT_GROUP in counts


def test_distribution_of_an_intersection_matches_its_groups():
    from fairness_eval.config.settings import StatisticsSettings
    from fairness_eval.fairness.assess import evaluate

    per_image = read_per_image(FIXTURE_RUN)
    statistics = evaluate(per_image, ["scene"], StatisticsSettings(
        bootstrap=200, seed=0, intersect=[("bourdev_subcategory", "scene")]))
    name = "bourdev_subcategory×scene"
    attribute = statistics["attributes"][name]
    columns = attribute_columns(name, attribute)
    assert columns == ["bourdev_subcategory", "scene"]
    ok = per_image[per_image["status"] == "ok"]
    counts = group_labels(ok, columns).value_counts().to_dict()
    assert counts == {g: data["n"] for g, data in attribute["groups"].items()}
    ET.fromstring(distribution_svg(name, attribute, per_image, columns))


def test_legend_states_the_recorded_factor_of_criterion_a():
    from fairness_eval.report.charts import _forest_legend

    labels = [h.get_label() for h in _forest_legend(0.8, 0.02, 0.09, 2.0)]
    assert "± 2 SD, criterion (a)" in labels and "± 2(1 − IAA), criterion (b)" in labels
    labels = [h.get_label() for h in _forest_legend(0.8, 0.03, None, 3.0)]
    assert "± 3 SD, criterion (a)" in labels
