"""The card's criteria: verdicts, attainability, gating, IAA, intersections, JSON output."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from fairness_eval.config.settings import StatisticsSettings
from fairness_eval.errors import UsageError
from fairness_eval.fairness.assess import evaluate
from fairness_eval.results.names import NOT_ANNOTATED


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


FAST = {"bootstrap": 1_000, "seed": 1}


def run(table, attributes, **options):
    """`evaluate` with few resamples; `options` are StatisticsSettings fields."""
    return evaluate(table, attributes, StatisticsSettings(**{**FAST, **options}))


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
    result = run(table, attributes=["region"])
    json.dumps(result, allow_nan=False)
    assert all(v is None or type(v) in (str, int, float, bool) for v in walk(result))
    assert set(result) == {"overall", "bootstrap", "inter_annotator_iou", "attributes",
                           "familywise"}
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
    result = run(table, attributes="region")
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
    result = run(table, attributes=["region"], statistic="pooled")
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
    result = run(table, attributes=["region"], reference="group-mean")
    block = result["attributes"]["region"]
    means = table.groupby("region")["iou"].mean()
    assert block["reference"] == pytest.approx((means["a"] + means["b"]) / 2)
    assert block["reference_kind"] == "group-mean"


def test_criterion_a_cannot_fire_with_ten_groups_and_says_so():
    # Nine groups at 0.95 and one far below: the most extreme configuration possible.
    groups = {f"g{i}": (40, 0.95) for i in range(9)} | {"low": (40, 0.5)}
    table = per_image_table(groups)
    result = run(table, attributes=["region"], reference="group-mean")
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
    result = run(per_image_table(groups), attributes=["region"], reference="group-mean")
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


def test_small_groups_and_missing_values_are_reported_not_gated():
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94), "c": (12, 0.7)})
    table.loc[table.index[:4], "region"] = [None, np.nan, "", "  "]
    result = run(table, attributes=["region"], inter_annotator_iou=0.98)
    block = result["attributes"]["region"]
    assert list(block["groups"]) == ["a", "b", "c", NOT_ANNOTATED]
    missing = block["groups"][NOT_ANNOTATED]
    assert missing["n"] == 4 and missing["not_annotated"] is True and missing["gated"] is False
    small = block["groups"]["c"]
    assert small["small_group"] is True and small["ci"] is not None
    assert small["verdicts"]["b"]["statistical"] == "not gated"
    assert block["k"] == 2
    # Lowering the minimum gates the small group (and its clear violation).
    lower = run(table, attributes=["region"], inter_annotator_iou=0.98, min_group_size=10)
    assert lower["attributes"]["region"]["groups"]["c"]["verdicts"]["b"]["statistical"] == \
        "violation"
    assert lower["attributes"]["region"]["verdict"] == "violation"


def test_n_needed_is_where_the_half_width_falls_below_half_the_threshold():
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94)})
    result = run(table, attributes=["region"], inter_annotator_iou=0.995)
    threshold = 2 * (1 - 0.995)
    spread = table[table["region"] == "a"]["iou"].std(ddof=1)
    needed = result["attributes"]["region"]["groups"]["a"]["n_needed"]
    z = 1.959963984540054
    assert z * spread / math.sqrt(needed) < threshold / 2
    assert z * spread / math.sqrt(needed - 1) >= threshold / 2
    without = run(table, attributes=["region"])
    assert without["attributes"]["region"]["groups"]["a"]["n_needed"] is None


def test_inter_annotator_iou_from_the_dataset_column_with_an_interval():
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94)})
    iaa = np.full(len(table), np.nan)
    iaa[::5] = np.linspace(0.9, 0.99, len(iaa[::5]))
    table["inter_annotator_iou"] = iaa
    table["iou_annotator2"] = iaa
    result = run(table, attributes=["region"])
    summary = result["inter_annotator_iou"]
    assert summary["source"] == "dataset"
    assert summary["n_images"] == len(iaa[::5])
    assert summary["value"] == pytest.approx(np.nanmean(iaa))
    assert summary["ci"][0] < summary["value"] < summary["ci"][1]
    assert summary["annotators"] == ["annotator2"]
    threshold = result["attributes"]["region"]["criteria"]["b"]["threshold"]
    assert threshold == pytest.approx(2 * (1 - np.nanmean(iaa)))
    # An option overrides the dataset, and a percentage is a fraction.
    given = run(table, attributes=["region"], inter_annotator_iou=98.74)
    assert given["inter_annotator_iou"]["source"] == "option"
    assert given["inter_annotator_iou"]["value"] == pytest.approx(0.9874)
    assert "dataset's other annotators" in given["inter_annotator_iou"]["note"]


def test_without_inter_annotator_iou_criterion_b_is_not_evaluated():
    result = run(per_image_table({"a": (40, 0.95), "b": (50, 0.94)}),
                      attributes=["region"])
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
    # Each check at the run's confidence: under Holm the family (and so the confidence of
    # every check) depends on how many attributes are judged together.
    result = run(table, attributes=["region", "gender"], intersect=[("region", "gender")],
                 inter_annotator_iou=0.98, familywise="none")
    block = result["attributes"]["region×gender"]
    assert block["kind"] == "intersection" and block["columns"] == ["region", "gender"]
    assert list(block["groups"]) == ["a×f", "a×m", "b×f", "b×m", NOT_ANNOTATED]
    counts = table.dropna(subset=["gender"]).groupby(["region", "gender"]).size()
    assert block["groups"]["b×m"]["n"] == counts[("b", "m")]
    assert block["groups"][NOT_ANNOTATED]["n"] == 3
    # A comma-separated string names the same intersection.
    again = run(table, attributes=[], intersect=["region,gender"],
                inter_annotator_iou=0.98, familywise="none")
    assert again["attributes"]["region×gender"] == block


def test_adding_an_attribute_changes_no_other_attributes_results():
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94)})
    table["gender"] = np.where(np.arange(len(table)) % 2, "f", "m")
    alone = run(table, attributes=["region"], familywise="none")
    both = run(table, attributes=["gender", "region"], intersect=[("region", "gender")],
               familywise="none")
    assert both["attributes"]["region"] == alone["attributes"]["region"]
    assert both["overall"] == alone["overall"]


def test_skipped_rows_are_ignored_and_bad_rows_are_named():
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94)})
    table.loc[0, "status"] = "skipped"
    table.loc[0, "iou"] = np.nan
    assert run(table, attributes=["region"])["overall"]["n"] == 89
    table.loc[1, "iou"] = np.nan
    with pytest.raises(UsageError, match=r"row 1 \(image img1\).*iou"):
        run(table, attributes=["region"])


@pytest.mark.parametrize("attributes, crossings, message", [
    (["skin"], (), "--attribute: 'skin' is not a column of the per-image table"),
    (["region"], [("region", "gender")], "--intersect: 'gender' is not a column"),
])
def test_columns_the_table_lacks_are_usage_errors_naming_the_option(attributes, crossings,
                                                                     message):
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94)})
    with pytest.raises(UsageError, match=message):
        run(table, attributes, intersect=crossings)


def test_per_attribute_minimum_group_size_applies_to_its_attribute_only():
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94), "c": (12, 0.7)})
    table["copy"] = table["region"]
    result = run(table, ["region", "copy"], min_group_sizes={"copy": 10})
    assert result["attributes"]["region"]["groups"]["c"]["gated"] is False
    assert result["attributes"]["copy"]["groups"]["c"]["gated"] is True
    assert result["attributes"]["copy"]["min_group_size"] == 10


def test_no_evaluated_image_is_a_usage_error():
    table = per_image_table({"a": (3, 0.95)})
    table["status"] = "skipped"
    with pytest.raises(UsageError, match="no image with status ok"):
        run(table, attributes=["region"])


def test_numeric_attribute_values_are_labelled_as_integers():
    table = per_image_table({1.0: (40, 0.95), 2.0: (40, 0.94)}, column="skin_tone")
    table.loc[0, "skin_tone"] = np.nan
    result = run(table, attributes=["skin_tone"])
    assert list(result["attributes"]["skin_tone"]["groups"]) == ["1", "2", NOT_ANNOTATED]


def test_the_overall_reference_pools_only_annotated_images():
    # 100 unannotated images far below the annotated ones must not drag the average down.
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.93), "z": (100, 0.40)})
    table.loc[table["region"] == "z", "region"] = None
    block = run(table, attributes=["region"], inter_annotator_iou=0.98)["attributes"]["region"]
    annotated = table[table["region"].notna()]
    assert block["reference"] == pytest.approx(annotated["iou"].mean())
    assert block["groups"]["a"]["deviation"] == pytest.approx(
        table[table["region"] == "a"]["iou"].mean() - annotated["iou"].mean())
    assert block["verdict"] == "pass"


def test_a_single_gated_group_has_nothing_to_compare_with():
    table = per_image_table({"a": (40, 0.95), "b": (10, 0.70)})  # b is small
    block = run(table, attributes=["region"], inter_annotator_iou=0.98)["attributes"]["region"]
    assert block["k"] == 1 and block["range"] is None
    assert block["criteria"]["b"]["evaluated"] is False
    assert "no groups to compare" in block["criteria"]["b"]["note"]
    assert block["groups"]["a"]["verdicts"]["b"]["statistical"] == "not evaluated"
    assert block["verdict"] == "not evaluated"


def test_na_is_a_value_not_a_missing_annotation():
    table = per_image_table({"NA": (40, 0.95), "EU": (40, 0.94)}, column="continent")
    block = run(table, attributes=["continent"])["attributes"]["continent"]
    assert set(block["groups"]) == {"NA", "EU"}


def test_dataset_inter_annotator_interval_sets_the_threshold_range():
    table = per_image_table({"a": (40, 0.95), "b": (50, 0.94)})
    table["inter_annotator_iou"] = np.where(np.arange(len(table)) % 3 == 0,
                                            np.linspace(0.9, 0.99, len(table)), np.nan)
    result = run(table, attributes=["region"])
    low, high = result["inter_annotator_iou"]["ci"]
    criterion = result["attributes"]["region"]["criteria"]["b"]
    assert criterion["threshold_range"] == pytest.approx([2 * (1 - high), 2 * (1 - low)])
    lowest, highest = criterion["threshold_range"]
    assert lowest < criterion["threshold"] < highest


def test_a_group_named_like_the_not_annotated_one_is_gated_like_any_other():
    table = per_image_table({NOT_ANNOTATED: (40, 0.95), "b": (50, 0.94), "c": (45, 0.93)})
    table.loc[:4, "region"] = None  # five images without a value
    block = run(table, attributes=["region"], inter_annotator_iou=0.98)["attributes"]["region"]
    named = block["groups"][NOT_ANNOTATED]
    assert named["n"] == 35 and named["gated"] and not named["not_annotated"]
    assert named["verdicts"]["b"]["statistical"] in ("pass", "inconclusive", "violation")
    assert list(block["groups"])[-1] == "(not annotated, 2)"  # the images without a value
    missing = block["groups"]["(not annotated, 2)"]
    assert missing["n"] == 5 and missing["not_annotated"] and not missing["gated"]
    assert block["k"] == 3
