"""The card's template context: formatting of results.json values, never recomputation."""

from __future__ import annotations

import copy

from report_helpers import MEDIAPIPE_TABLE, SCRIPT_GROUP, fixture_results, mediapipe_table_results

from fairness_eval.report.card_text import CardText, load_card_text
from fairness_eval.report.context import (
    DASH,
    build_context,
    interval,
    pct,
    points,
    verdict,
    worst_verdict,
)


def test_number_formats():
    assert pct(0.96571) == "96.57"
    assert pct(None) == DASH and pct(float("nan")) == DASH and pct(True) == DASH
    assert points(0.0252) == "2.52 pt"
    assert points(-0.00512, signed=True) == "−0.51 pt"
    assert points(0.0, signed=True) == "+0.00 pt"
    assert interval([0.9512, 0.97]) == "95.12 – 97.00"
    assert interval([-0.0131, 0.0049], signed=True) == "−1.31 – +0.49"
    assert interval(None) == DASH and interval([0.9, None]) == DASH


def test_verdict_severity_order():
    assert worst_verdict(["pass", "inconclusive", "not gated"]) == "inconclusive"
    assert worst_verdict(["pass", "violation", "inconclusive"]) == "violation"
    assert worst_verdict(["not gated", None]) == "not gated"
    assert worst_verdict([]) is None
    assert verdict("violation") == {"label": "violation", "css": "bad", "value": "violation"}


def test_results_rows_print_the_documents_numbers():
    results = fixture_results()
    context = build_context(results, load_card_text("selfie"))
    by_name = {a["name"]: a for a in context["results"]}
    for name, attribute in results["attributes"].items():
        rows = {r["group"]: r for r in by_name[name]["rows"]}
        assert list(rows) == list(attribute["groups"])  # the document's order
        for group, g in attribute["groups"].items():
            assert rows[group]["value"] == f"{100 * g['value']:.2f}"
            assert rows[group]["n"] == str(g["n"])
            low, high = g["ci"]
            assert rows[group]["ci"] == f"{100 * low:.2f} – {100 * high:.2f}"
            assert rows[group]["b"]["statistical"]["value"] == g["verdicts"]["b"]["statistical"]


def test_flags_and_headline_follow_the_verdicts():
    results = fixture_results()
    context = build_context(results, load_card_text("selfie"))
    scene = next(a for a in context["results"] if a["name"] == "scene")
    script_row = next(r for r in scene["rows"] if r["group"] == SCRIPT_GROUP)
    assert ("violation", "bad") in script_row["flags"] and script_row["row_css"] == "row-bad"
    bourdev = next(a for a in context["results"] if a["name"] == "bourdev_subcategory")
    child = next(r for r in bourdev["rows"] if r["group"] == "Child")
    assert ("small group", "warn") in child["flags"] and not child["gated"]
    assert context["headline"]["verdict"]["value"] == "violation"
    # Each outcome counted apart: an inconclusive attribute is not a violation.
    assert context["headline"]["tally"] == {"violation": 1, "inconclusive": 1, "pass": 0,
                                            "not gated": 0}
    assert context["headline"]["verdict_note"] == "2 attributes: 1 violation, 1 inconclusive"
    assert context["headline"]["threshold_b"] == points(
        results["attributes"]["scene"]["criteria"]["b"]["threshold"])


def test_missing_keys_render_as_dashes():
    results = copy.deepcopy(fixture_results())
    del results["model"]["sha256"]
    results["inter_annotator_iou"] = {"value": None, "ci": None, "source": None}
    results["bootstrap"] = None
    context = build_context(results, CardText())
    assert ("SHA-256", DASH) not in context["model_rows"]  # file facts without value vanish
    assert context["fairness"]["iaa_available"] is False
    assert context["headline"]["iaa"] == DASH
    assert context["display_name"] == "selfie"  # no card text: the model's name


def test_published_table_context_reads_the_table_block_and_shares():
    results = mediapipe_table_results()
    context = build_context(results, load_card_text(None))
    assert context["is_table"]
    # The table stands where the dataset would, named by its file's stem (as `card` names it).
    assert context["dataset"]["name"] == "mediapipe_selfie_2021_card"
    assert context["dataset"]["path"] == str(MEDIAPIPE_TABLE.resolve())
    assert context["headline"]["overall_value"] == "96.57"
    assert context["headline"]["threshold_b"] == "2.52 pt"
    skin = next(a for a in context["results"] if a["name"] == "skin_tone")
    assert skin["has_share"] and not skin["has_n"] and not skin["has_ci"]
    assert [r["share"] for r in skin["rows"]][:2] == ["5.02 %", "15.81 %"]
    # Without intervals a cell leads with the point verdict, marked as such.
    assert skin["rows"][0]["b"]["main"]["label"] == "pass (point)"
    ranges = {r["name"]: r["range"] for r in context["verdict_rows"]}
    assert ranges == {"region": "1.75 pt", "skin_tone": "1.10 pt", "gender": "0.61 pt"}


def test_criterion_a_is_described_with_the_recorded_factor():
    results = copy.deepcopy(fixture_results())
    for attribute in results["attributes"].values():
        attribute["criteria"]["a"]["factor"] = 2.0
        attribute["reference_kind"] = "group-mean"
    context = build_context(results, CardText())
    glossary = dict(context["definitions"])["Criterion (a)"]
    assert "more than 2 standard deviations" in glossary and "for k ≤ 5 it cannot fire" in glossary
    assert {a["sd_factor"] for a in context["results"]} == {"2"}
    # The overall reference is not bounded by k alone: no "cannot fire for k <= 10" claim.
    overall = copy.deepcopy(fixture_results())
    for attribute in overall["attributes"].values():
        attribute["reference_kind"] = "overall"
    default = dict(build_context(overall, CardText())["definitions"])["Criterion (a)"]
    assert "more than 3 standard deviations" in default and "k ≤" not in default
    assert "Attainability line says whether it can fire" in default
