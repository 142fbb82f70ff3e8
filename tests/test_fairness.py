"""The card's criteria: verdicts, attainability, gating, IAA, intersections, JSON output."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from fairness_eval.errors import UsageError
from fairness_eval.fairness import assess as fairness
from fairness_eval.fairness.assess import GroupFigures, assess_attribute, evaluate, parse_fraction


def per_image_table(groups, *, seed=0, column="region", extra=None):
    """A per-image table: `groups` maps label -> (n, mean IoU); IoU = mean +- small noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for label, (n, mean) in groups.items():
        iou = np.clip(mean + rng.normal(0, 0.01, n), 0, 1)
        union = rng.integers(5_000, 50_000, n).astype(float)
        for value, u in zip(iou, union, strict=True):
            rows.append({"image": f"img{len(rows)}", "status": "ok", "iou": value,
                         "intersection": value * u, "union": u, column: label})
    frame = pd.DataFrame(rows)
    for name, values in (extra or {}).items():
        frame[name] = values
    return frame


FAST = {"resamples": 1_000, "seed": 1}


def walk(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
    else:
        yield value


def test_output_is_plain_json_with_the_schema_keys():
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94), "c": (5, 0.9)})
    table.loc[:3, "region"] = None
    table["inter_annotator_iou"] = np.where(np.arange(len(table)) % 3 == 0, 0.97, np.nan)
    result = evaluate(table, attributes=["region"], **FAST)
    json.dumps(result, allow_nan=False)
    assert all(v is None or type(v) in (str, int, float, bool) for v in walk(result))
    assert set(result) == {"overall", "bootstrap", "inter_annotator_iou", "attributes"}
    block = result["attributes"]["region"]
    for key in ("kind", "k", "reference", "reference_kind", "sd", "max_attainable_sd", "range",
                "criteria", "verdict", "groups"):
        assert key in block
    group = block["groups"]["a"]
    for key in ("n", "mean_iou", "pooled_iou", "value", "ci", "deviation", "deviation_ci",
                "verdicts", "small_group", "not_annotated", "gated", "n_needed", "note"):
        assert key in group
    assert result["bootstrap"] == {"method": "bca", "resamples": 1000, "confidence": 0.95,
                                   "seed": 1, "statistic": "mean"}


def test_overall_and_group_figures():
    table = per_image_table({"a": (40, 0.95), "b": (60, 0.90)})
    result = evaluate(table, attributes="region", **FAST)
    overall = result["overall"]
    assert overall["n"] == 100
    assert overall["value"] == pytest.approx(table["iou"].mean())
    assert overall["ci"][0] < overall["value"] < overall["ci"][1]
    block = result["attributes"]["region"]
    assert block["reference"] == pytest.approx(table["iou"].mean())
    for label in ("a", "b"):
        group = block["groups"][label]
        members = table[table["region"] == label]
        assert group["value"] == pytest.approx(members["iou"].mean())
        assert group["deviation"] == pytest.approx(group["value"] - block["reference"])
        assert group["ci"][0] < group["value"] < group["ci"][1]
        low, high = group["deviation_ci"]
        assert low < group["deviation"] < high


def test_pooled_statistic_uses_sum_of_intersections_over_sum_of_unions():
    table = per_image_table({"a": (40, 0.95), "b": (60, 0.90)})
    result = evaluate(table, attributes=["region"], statistic="pooled", **FAST)
    pooled = table["intersection"].sum() / table["union"].sum()
    assert result["overall"]["value"] == pytest.approx(pooled)
    assert result["overall"]["pooled_iou"] == pytest.approx(pooled)
    assert result["attributes"]["region"]["reference"] == pytest.approx(pooled)
    members = table[table["region"] == "b"]
    group = result["attributes"]["region"]["groups"]["b"]
    assert group["value"] == pytest.approx(members["intersection"].sum() / members["union"].sum())
    assert group["mean_iou"] == pytest.approx(members["iou"].mean())


def test_group_mean_reference_is_the_unweighted_mean_of_gated_groups():
    table = per_image_table({"a": (40, 0.95), "b": (120, 0.90), "tiny": (3, 0.5)})
    result = evaluate(table, attributes=["region"], reference="group-mean", **FAST)
    block = result["attributes"]["region"]
    means = table.groupby("region")["iou"].mean()
    assert block["reference"] == pytest.approx((means["a"] + means["b"]) / 2)
    assert block["reference_kind"] == "group-mean"


def test_criterion_a_cannot_fire_with_ten_groups_and_says_so():
    # Nine groups at 0.95 and one far below: the most extreme configuration possible.
    groups = {f"g{i}": (40, 0.95) for i in range(9)} | {"low": (40, 0.5)}
    table = per_image_table(groups)
    result = evaluate(table, attributes=["region"], reference="group-mean", **FAST)
    block = result["attributes"]["region"]
    assert block["k"] == 10
    assert block["criteria"]["a"]["can_fire"] is False
    assert "cannot fire" in block["criteria"]["a"]["note"]
    assert block["max_attainable_sd"] == pytest.approx(3.0)
    # The outlier sits at the attainable bound, sqrt(k - 1) = 3 SD, not beyond it.
    assert 2.99 < abs(block["groups"]["low"]["z"]) <= 3.0
    assert block["groups"]["low"]["verdicts"]["a"] == {"point": "not evaluated",
                                                       "statistical": "not evaluated"}


def test_criterion_a_fires_with_eleven_groups_and_a_clear_outlier():
    groups = {f"g{i:02d}": (40, 0.95) for i in range(10)} | {"low": (40, 0.5)}
    result = evaluate(per_image_table(groups), attributes=["region"], reference="group-mean",
                      **FAST)
    block = result["attributes"]["region"]
    assert block["criteria"]["a"]["can_fire"] is True
    low = block["groups"]["low"]
    assert low["verdicts"]["a"]["point"] == "violation"
    assert low["z_ci"][1] < -3.0
    assert low["verdicts"]["a"]["statistical"] == "violation"
    assert block["groups"]["g00"]["verdicts"]["a"]["statistical"] == "pass"
    # No IAA: criterion (b) is not evaluated, so the verdict is criterion (a)'s.
    assert block["criteria"]["b"]["evaluated"] is False
    assert low["verdicts"]["b"]["statistical"] == "not evaluated"
    assert block["verdict"] == "violation"


@pytest.mark.parametrize("k, ddof", [(2, 0), (6, 0), (11, 0), (6, 1), (12, 1)])
def test_attainable_bound_is_reached_by_one_outlier(k, ddof):
    values = [0.9] * (k - 1) + [0.5]
    figures = [GroupFigures(label=str(i), n=100, value=v) for i, v in enumerate(values)]
    block = assess_attribute(figures, reference=float(np.mean(values)), sd_ddof=ddof)
    expected = math.sqrt((k - 1) * (k - ddof) / k)
    assert fairness.max_attainable_sd(k, ddof) == pytest.approx(expected)
    assert block["max_attainable_sd"] == pytest.approx(expected)
    assert abs(block["groups"][str(k - 1)]["z"]) == pytest.approx(expected)
    assert block["criteria"]["a"]["can_fire"] is (expected > 3)


def test_offset_reference_raises_the_attainable_bound():
    # Overall reference pulled towards the big groups: the bound adds the offset in SDs.
    figures = [GroupFigures("a", 1000, 0.9), GroupFigures("b", 100, 0.8)]
    block = assess_attribute(figures, reference=0.899)
    sd = 0.05
    assert block["sd"] == pytest.approx(sd)
    assert block["max_attainable_sd"] == pytest.approx(1 + abs(0.899 - 0.85) / sd)


def b_block(deviation_ci, threshold=0.02, deviation=0.0):
    reference = 0.9
    figures = [
        GroupFigures("x", 100, reference + deviation,
                     deviation_ci=tuple(deviation_ci)),
        GroupFigures("y", 100, reference - deviation, deviation_ci=(-0.001, 0.001)),
    ]
    return assess_attribute(figures, reference=reference, threshold_b=threshold)


@pytest.mark.parametrize("interval, expected", [
    ((0.021, 0.05), "violation"),      # wholly beyond +threshold
    ((-0.05, -0.0201), "violation"),   # wholly beyond -threshold
    ((-0.02, 0.02), "pass"),           # within, bounds included
    ((0.015, 0.025), "inconclusive"),  # straddles the threshold
    ((-0.03, 0.03), "inconclusive"),
])
def test_criterion_b_statistical_verdict_from_the_deviation_interval(interval, expected):
    block = b_block(interval)
    assert block["groups"]["x"]["verdicts"]["b"]["statistical"] == expected


def test_criterion_b_point_verdict_is_the_cards_literal_rule():
    assert b_block((0.0, 0.04), deviation=0.02)["groups"]["x"]["verdicts"]["b"]["point"] == "pass"
    over = b_block((0.0, 0.04), deviation=0.0201)
    assert over["groups"]["x"]["verdicts"]["b"]["point"] == "violation"
    assert over["point_verdict"] == "violation"
    assert over["verdict"] == "inconclusive"  # the worst statistical verdict


def test_attribute_verdict_is_the_worst_gated_verdict_and_ignores_small_groups():
    reference = 0.9
    figures = [
        GroupFigures("ok", 100, 0.9, deviation_ci=(-0.01, 0.01)),
        GroupFigures("unsure", 100, 0.89, deviation_ci=(-0.03, 0.0)),
        GroupFigures("tiny", 5, 0.5, deviation_ci=(-0.5, -0.3)),
        GroupFigures(fairness.NOT_ANNOTATED, 100, 0.5, deviation_ci=(-0.5, -0.3),
                     not_annotated=True),
    ]
    block = assess_attribute(figures, reference=reference, threshold_b=0.02)
    assert block["verdict"] == "inconclusive"
    assert block["k"] == 2
    tiny = block["groups"]["tiny"]
    assert tiny["small_group"] is True and tiny["gated"] is False
    assert tiny["verdicts"]["b"] == {"point": "not gated", "statistical": "not gated"}
    assert block["groups"][fairness.NOT_ANNOTATED]["verdicts"]["b"]["statistical"] == "not gated"
    assert block["range"]["value"] == pytest.approx(0.01)  # gated groups only
    assert block["range"]["exceeds_threshold"] is False


def test_nothing_gated_gives_not_evaluated():
    figures = [GroupFigures("a", 3, 0.9, deviation_ci=(-0.1, 0.1)),
               GroupFigures("b", 4, 0.8, deviation_ci=(-0.1, 0.1))]
    block = assess_attribute(figures, reference=0.85, threshold_b=0.02)
    assert block["k"] == 0
    assert block["verdict"] == "not evaluated"
    assert block["criteria"]["a"]["can_fire"] is False


def test_small_groups_and_missing_values_are_reported_not_gated():
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94), "c": (12, 0.7)})
    table.loc[table.index[:4], "region"] = [None, np.nan, "", "  "]
    result = evaluate(table, attributes=["region"], inter_annotator_iou=0.98, **FAST)
    block = result["attributes"]["region"]
    assert list(block["groups"]) == ["a", "b", "c", fairness.NOT_ANNOTATED]
    missing = block["groups"][fairness.NOT_ANNOTATED]
    assert missing["n"] == 4 and missing["not_annotated"] is True and missing["gated"] is False
    small = block["groups"]["c"]
    assert small["small_group"] is True and small["ci"] is not None
    assert small["verdicts"]["b"]["statistical"] == "not gated"
    assert block["k"] == 2
    # Lowering the minimum gates the small group (and its clear violation).
    lower = evaluate(table, attributes=["region"], inter_annotator_iou=0.98, min_group_size=10,
                     **FAST)
    assert lower["attributes"]["region"]["groups"]["c"]["verdicts"]["b"]["statistical"] == \
        "violation"
    assert lower["attributes"]["region"]["verdict"] == "violation"


def test_n_needed_is_where_the_half_width_falls_below_half_the_threshold():
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94)})
    result = evaluate(table, attributes=["region"], inter_annotator_iou=0.995, **FAST)
    threshold = 2 * (1 - 0.995)
    spread = table[table["region"] == "a"]["iou"].std(ddof=1)
    needed = result["attributes"]["region"]["groups"]["a"]["n_needed"]
    z = 1.959963984540054
    assert z * spread / math.sqrt(needed) < threshold / 2
    assert z * spread / math.sqrt(needed - 1) >= threshold / 2
    without = evaluate(table, attributes=["region"], **FAST)
    assert without["attributes"]["region"]["groups"]["a"]["n_needed"] is None


def test_inter_annotator_iou_from_the_dataset_column_with_an_interval():
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94)})
    iaa = np.full(len(table), np.nan)
    iaa[::5] = np.linspace(0.9, 0.99, len(iaa[::5]))
    table["inter_annotator_iou"] = iaa
    table["iou_annotator2"] = iaa
    result = evaluate(table, attributes=["region"], **FAST)
    summary = result["inter_annotator_iou"]
    assert summary["source"] == "dataset"
    assert summary["n_images"] == len(iaa[::5])
    assert summary["value"] == pytest.approx(np.nanmean(iaa))
    assert summary["ci"][0] < summary["value"] < summary["ci"][1]
    assert summary["annotators"] == ["annotator2"]
    threshold = result["attributes"]["region"]["criteria"]["b"]["threshold"]
    assert threshold == pytest.approx(2 * (1 - np.nanmean(iaa)))
    # An option overrides the dataset, and a percentage is a fraction.
    given = evaluate(table, attributes=["region"], inter_annotator_iou=98.74, **FAST)
    assert given["inter_annotator_iou"]["source"] == "option"
    assert given["inter_annotator_iou"]["value"] == pytest.approx(0.9874)
    assert "dataset's other annotators" in given["inter_annotator_iou"]["note"]


def test_without_inter_annotator_iou_criterion_b_is_not_evaluated():
    result = evaluate(per_image_table({"a": (40, 0.95), "b": (50, 0.94)}),
                      attributes=["region"], **FAST)
    assert result["inter_annotator_iou"]["source"] is None
    block = result["attributes"]["region"]
    assert block["criteria"]["b"]["evaluated"] is False
    assert block["criteria"]["b"]["threshold"] is None
    assert block["range"]["threshold"] is None
    # Two groups: (a) cannot fire either, so nothing is judged.
    assert block["verdict"] == "not evaluated"


def test_intersections_cross_groups_with_the_same_machinery():
    rng = np.random.default_rng(3)
    table = per_image_table({"a": (60, 0.95), "b": (80, 0.93)})
    table["gender"] = rng.choice(["f", "m"], len(table))
    table.loc[table.index[:3], "gender"] = None
    result = evaluate(table, attributes=["region", "gender"], intersections=[("region", "gender")],
                      inter_annotator_iou=0.98, **FAST)
    block = result["attributes"]["region×gender"]
    assert block["kind"] == "intersection" and block["columns"] == ["region", "gender"]
    assert list(block["groups"]) == ["a×f", "a×m", "b×f", "b×m", fairness.NOT_ANNOTATED]
    counts = table.dropna(subset=["gender"]).groupby(["region", "gender"]).size()
    assert block["groups"]["b×m"]["n"] == counts[("b", "m")]
    assert block["groups"][fairness.NOT_ANNOTATED]["n"] == 3
    # A comma-separated string names the same intersection.
    again = evaluate(table, attributes=[], intersections=["region,gender"],
                     inter_annotator_iou=0.98, **FAST)
    assert again["attributes"]["region×gender"] == block


def test_adding_an_attribute_changes_no_other_attributes_results():
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94)})
    table["gender"] = np.where(np.arange(len(table)) % 2, "f", "m")
    alone = evaluate(table, attributes=["region"], **FAST)
    both = evaluate(table, attributes=["gender", "region"], intersections=[("region", "gender")],
                    **FAST)
    assert both["attributes"]["region"] == alone["attributes"]["region"]
    assert both["overall"] == alone["overall"]


def test_skipped_rows_are_ignored_and_bad_rows_are_named():
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94)})
    table.loc[0, "status"] = "skipped"
    table.loc[0, "iou"] = np.nan
    assert evaluate(table, attributes=["region"], **FAST)["overall"]["n"] == 89
    table.loc[1, "iou"] = np.nan
    with pytest.raises(UsageError, match=r"row 1 \(image img1\).*iou"):
        evaluate(table, attributes=["region"], **FAST)


@pytest.mark.parametrize("options, message", [
    ({"attributes": ["skin"]}, "'skin' is not a column"),
    ({"attributes": ["region"], "ci_method": "bc"}, "--ci-method"),
    ({"attributes": ["region"], "statistic": "median"}, "--statistic"),
    ({"attributes": ["region"], "reference": "median"}, "--reference"),
    ({"attributes": ["region"], "resamples": 0}, "--bootstrap"),
    ({"attributes": ["region"], "confidence": 0}, "--confidence"),
    ({"attributes": ["region"], "sd_factor": -1}, "--sd-factor"),
    ({"attributes": ["region"], "min_group_size": 0}, "--min-group-size"),
    ({"attributes": ["region"], "intersections": [("region",)]}, "--intersect"),
    ({"attributes": ["region"], "inter_annotator_iou": "high"}, "--inter-annotator-iou"),
])
def test_bad_settings_raise_usage_errors_naming_the_option(options, message):
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94)})
    with pytest.raises(UsageError, match=message):
        evaluate(table, **{"resamples": 100, **options})


def test_no_evaluated_image_is_a_usage_error():
    table = per_image_table({"a": (3, 0.95)})
    table["status"] = "skipped"
    with pytest.raises(UsageError, match="no image with status ok"):
        evaluate(table, attributes=["region"])


@pytest.mark.parametrize("value, expected", [
    (0.9874, 0.9874), (98.74, 0.9874), ("98.74", 0.9874), ("98.74%", 0.9874), (1, 1.0),
    (0, 0.0), (100, 1.0), ("0.5", 0.5),
])
def test_parse_fraction_accepts_fractions_and_percentages(value, expected):
    assert parse_fraction(value, "--average") == pytest.approx(expected)


@pytest.mark.parametrize("value", ["abc", float("nan"), float("inf"), 150, -0.1, None, "NaN"])
def test_parse_fraction_rejects_other_values_naming_the_option(value):
    with pytest.raises(UsageError, match="--average"):
        parse_fraction(value, "--average")


def test_numeric_attribute_values_are_labelled_as_integers():
    table = per_image_table({1.0: (40, 0.95), 2.0: (40, 0.94)}, column="skin_tone")
    table.loc[0, "skin_tone"] = np.nan
    result = evaluate(table, attributes=["skin_tone"], **FAST)
    assert list(result["attributes"]["skin_tone"]["groups"]) == ["1", "2", fairness.NOT_ANNOTATED]


def test_the_overall_reference_pools_only_annotated_images():
    # 100 unannotated images far below the annotated ones must not drag the average down.
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.93), "z": (100, 0.40)})
    table.loc[table["region"] == "z", "region"] = None
    block = evaluate(table, attributes=["region"], inter_annotator_iou=0.98,
                     **FAST)["attributes"]["region"]
    annotated = table[table["region"].notna()]
    assert block["reference"] == pytest.approx(annotated["iou"].mean())
    assert block["groups"]["a"]["deviation"] == pytest.approx(
        table[table["region"] == "a"]["iou"].mean() - annotated["iou"].mean())
    assert block["verdict"] == "pass"


def test_a_single_gated_group_has_nothing_to_compare_with():
    table = per_image_table({"a": (40, 0.95), "b": (10, 0.70)})  # b is small
    block = evaluate(table, attributes=["region"], inter_annotator_iou=0.98,
                     **FAST)["attributes"]["region"]
    assert block["k"] == 1 and block["range"] is None
    assert block["criteria"]["b"]["evaluated"] is False
    assert "no groups to compare" in block["criteria"]["b"]["note"]
    assert block["groups"]["a"]["verdicts"]["b"]["statistical"] == "not evaluated"
    assert block["verdict"] == "not evaluated"


def test_na_is_a_value_not_a_missing_annotation():
    table = per_image_table({"NA": (40, 0.95), "EU": (40, 0.94)}, column="continent")
    block = evaluate(table, attributes=["continent"], **FAST)["attributes"]["continent"]
    assert set(block["groups"]) == {"NA", "EU"}


@pytest.mark.parametrize("interval, expected", [
    ((0.021, 0.05), "inconclusive"),   # beyond the point threshold, not beyond its upper end
    ((0.026, 0.05), "violation"),      # beyond the widest threshold the IAA allows
    ((-0.019, 0.019), "inconclusive"),  # within the point threshold, not within the lowest
    ((-0.014, 0.014), "pass"),
])
def test_an_uncertain_inter_annotator_iou_widens_the_inconclusive_band(interval, expected):
    reference = 0.9
    figures = [GroupFigures("x", 100, reference, deviation_ci=interval),
               GroupFigures("y", 100, reference, deviation_ci=(-0.001, 0.001))]
    block = assess_attribute(figures, reference=reference, threshold_b=0.02,
                             threshold_b_range=(0.015, 0.025))
    assert block["groups"]["x"]["verdicts"]["b"]["statistical"] == expected
    assert block["criteria"]["b"]["threshold_range"] == [0.015, 0.025]


def test_dataset_inter_annotator_interval_sets_the_threshold_range():
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94)})
    table["inter_annotator_iou"] = np.where(np.arange(len(table)) % 3 == 0,
                                            np.linspace(0.9, 0.99, len(table)), np.nan)
    result = evaluate(table, attributes=["region"], **FAST)
    low, high = result["inter_annotator_iou"]["ci"]
    criterion = result["attributes"]["region"]["criteria"]["b"]
    assert criterion["threshold_range"] == pytest.approx([2 * (1 - high), 2 * (1 - low)])
    lowest, highest = criterion["threshold_range"]
    assert lowest < criterion["threshold"] < highest
