"""Criteria from a published table: the MediaPipe card's statements, units, bad input."""

import json
from pathlib import Path

import pytest

from fairness_eval.config.command_options import TableSettings
from fairness_eval.errors import UsageError
from fairness_eval.fairness.table import evaluate_table

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
CARD = REFERENCE / "mediapipe_selfie_2021_card.csv"
needs_card = pytest.mark.skipif(not CARD.is_file(), reason=f"{CARD} not present")


def write(tmp_path, text, name="table.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@needs_card
def test_reproduces_every_statement_of_the_mediapipe_card():
    result = evaluate_table(CARD, TableSettings(average=96.57, inter_annotator_iou=98.74))
    json.dumps(result, allow_nan=False)
    assert result["kind"] == "table"
    assert result["bootstrap"] is None
    assert result["overall"]["value"] == pytest.approx(0.9657)
    attributes = result["attributes"]
    assert list(attributes) == ["region", "skin_tone", "gender"]

    # Ranges (max - min), in points, and the groups at each end.
    expected = {"region": (1.75, "s_africa", "e_asia"), "skin_tone": (1.1, "6", "1"),
                "gender": (0.61, "female", "male")}
    for name, (points, low, high) in expected.items():
        spread = attributes[name]["range"]
        assert spread["value"] * 100 == pytest.approx(points, abs=1e-9)
        assert (spread["min_group"], spread["max_group"]) == (low, high)
        # Criterion (b)'s threshold: 2 x (1 - 0.9874) = 2.52 points; every range is below it.
        assert spread["threshold"] * 100 == pytest.approx(2.52, abs=1e-9)
        assert spread["exceeds_threshold"] is False
        assert attributes[name]["criteria"]["b"]["threshold"] * 100 == pytest.approx(2.52)
        assert attributes[name]["reference"] == pytest.approx(0.9657)

    # No group violates either criterion.
    for name, block in attributes.items():
        assert block["verdict"] == "pass" and block["point_verdict"] == "pass", name
        assert block["verdict_basis"] == "point"  # the card gives no intervals
        for group in block["groups"].values():
            assert "violation" not in {v["point"] for v in group["verdicts"].values()}

    # Criterion (a) cannot fire for skin tone (k = 6) and gender (k = 2); it can for regions.
    for name, k in (("skin_tone", 6), ("gender", 2)):
        criterion = attributes[name]["criteria"]["a"]
        assert attributes[name]["k"] == k
        assert criterion["can_fire"] is False
        assert f"k = {k} groups" in criterion["note"] and "cannot fire" in criterion["note"]
        assert attributes[name]["max_attainable_sd"] < 3
    region = attributes["region"]
    assert region["k"] == 17 and region["criteria"]["a"]["can_fire"] is True
    assert max(abs(g["z"]) for g in region["groups"].values()) < 3
    # The counts of the table, as published: 1,594 images in the region table.
    assert sum(g["n"] for g in region["groups"].values()) == 1594
    assert attributes["skin_tone"]["groups"]["3"]["share"] == pytest.approx(0.3356)


@needs_card
def test_without_inter_annotator_iou_criterion_b_is_not_evaluated():
    result = evaluate_table(CARD, TableSettings(average=0.9657))
    assert result["inter_annotator_iou"]["source"] is None
    for block in result["attributes"].values():
        assert block["criteria"]["b"]["evaluated"] is False
        assert block["range"]["threshold"] is None
    assert result["attributes"]["gender"]["verdict"] == "not evaluated"


def test_fractions_and_percentages_give_the_same_result(tmp_path):
    percent = write(tmp_path, "attribute,group,value,n\nx,a,96.0,100\nx,b,94.0,50\n", "p.csv")
    fraction = write(tmp_path, "attribute,group,value,n\nx,a,0.96,100\nx,b,0.94,50\n", "f.csv")
    a = evaluate_table(percent, TableSettings(average=95.5, inter_annotator_iou=0.99))
    b = evaluate_table(fraction, TableSettings(average=0.955, inter_annotator_iou=99))
    assert a["table"]["units"] == "percent" and b["table"]["units"] == "fraction"
    assert a["attributes"]["x"]["groups"]["b"]["deviation"] == pytest.approx(-0.015)
    assert rounded(a["attributes"]) == rounded(b["attributes"])


def rounded(value):
    """Floats rounded to 12 places, recursively: percentages and fractions differ by rounding."""
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return round(value, 12) if isinstance(value, float) else value


def test_average_absent_uses_the_weighted_mean_and_says_so(tmp_path):
    path = write(tmp_path, "attribute,group,value,n\nx,a,0.96,300\nx,b,0.90,100\n")
    block = evaluate_table(path)["attributes"]["x"]
    assert block["reference"] == pytest.approx((0.96 * 300 + 0.90 * 100) / 400)
    assert "n-weighted" in block["notes"][0]
    plain = evaluate_table(path, TableSettings(reference="group-mean"))["attributes"]["x"]
    assert plain["reference"] == pytest.approx(0.93)


def test_intervals_in_the_table_give_statistical_verdicts(tmp_path):
    path = write(tmp_path, "attribute,group,value,n,ci_low,ci_high\n"
                           "x,a,96,100,95.6,96.2\nx,b,91,100,90.0,92.0\nx,c,95.6,100,94,97\n")
    # Threshold of (b): 2 x (1 - 0.995) = 1 point.
    settings = TableSettings(average=95.5, inter_annotator_iou=99.5)
    block = evaluate_table(path, settings)["attributes"]["x"]
    assert block["verdict_basis"] == "statistical"
    b = block["groups"]["b"]
    assert b["deviation_ci"] == pytest.approx([-0.055, -0.035])
    assert {form: b["verdicts"]["b"][form] for form in ("point", "statistical")} == {
        "point": "violation", "statistical": "violation"}
    assert block["groups"]["c"]["verdicts"]["b"]["statistical"] == "inconclusive"
    assert block["groups"]["a"]["verdicts"]["b"]["statistical"] == "pass"
    assert block["verdict"] == "violation"
    # n_needed from the interval's width: spread = half-width / 1.96 * sqrt(n).
    assert block["groups"]["c"]["n_needed"] > 100 > block["groups"]["a"]["n_needed"]


def test_small_groups_are_not_gated(tmp_path):
    path = write(tmp_path, "attribute,group,value,n\nx,a,96,100\nx,b,80,10\nx,c,95,100\n")
    settings = TableSettings(average=95.5, inter_annotator_iou=98.5)
    block = evaluate_table(path, settings)["attributes"]["x"]
    assert block["groups"]["b"]["small_group"] is True
    assert block["groups"]["b"]["verdicts"]["b"]["point"] == "not gated"
    assert block["verdict"] == "pass" and block["k"] == 2


@pytest.mark.parametrize("text, message", [
    ("attribute,group,value,n\nx,a,,100\n", r"line 2: value is missing"),
    ("attribute,group,value,n\nx,a,96,100\nx,b,NaN,100\n", r"line 3: value is missing"),
    ("attribute,group,value,n\nx,a,ninety,100\n", r"line 2: value 'ninety' is not a number"),
    ("attribute,group,value,n,share\nx,a,96,,\n", r"line 2: neither n nor share"),
    ("attribute,group,value\nx,a,96\n", "needs a column n"),
    ("attribute,value,n\nx,96,100\n", "missing column.*group"),
    ("attribute,group,value,n\nx,a,96,100\nx,a,95,100\n", "line 3: group 'a' of 'x' repeats"),
    ("attribute,group,value,n\nx,a,96,100\nx,b,0.9,100\n", "--units"),
    ("attribute,group,value,n\nx,a,96,12.5\n", "line 2: n 12.5"),
    ("attribute,group,value,n,ci_low,ci_high\nx,a,96,100,97,95\n", "line 2: ci_low"),
    ("attribute,group,value,n,ci_low,ci_high\nx,a,96,100,95,\n", "line 2: give both"),
    ("attribute,group,value,n\n", "no rows"),
])
def test_bad_tables_raise_usage_errors_naming_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(UsageError, match=message) as caught:
        evaluate_table(path)
    assert str(path) in str(caught.value)


def test_bad_options_and_missing_file(tmp_path):
    path = write(tmp_path, "attribute,group,value,n\nx,a,96,100\n")
    with pytest.raises(UsageError, match="--average"):
        TableSettings(average=120)
    with pytest.raises(UsageError, match="--inter-annotator-iou"):
        TableSettings(inter_annotator_iou="n/a")
    with pytest.raises(UsageError, match="--units"):
        TableSettings(units="permille")
    with pytest.raises(UsageError, match="valid IoU in fraction"):
        evaluate_table(path, TableSettings(units="fraction"))
    with pytest.raises(UsageError, match="no such file"):
        evaluate_table(tmp_path / "absent.csv")


def test_settings_are_recorded_and_used_as_fractions():
    settings = TableSettings(average="96.57", inter_annotator_iou="98.74%", sd_factor="2")
    assert settings.average == pytest.approx(0.9657)
    assert settings.inter_annotator_iou == pytest.approx(0.9874)
    assert settings.sd_factor == 2.0
    recorded = settings.as_dict()  # numbers, as docs/results-schema.md documents them
    assert recorded["average"] == settings.average
    assert recorded["inter_annotator_iou"] == settings.inter_annotator_iou
    assert TableSettings(average=0.9657).as_dict()["average"] == 0.9657
    assert "confidence" not in recorded
    assert TableSettings(confidence=0.9).as_dict()["confidence"] == 0.9
