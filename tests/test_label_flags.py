"""Internal labels are flags, not names: a group in the data named "(reference)" or
"(not annotated)" is judged like any other under capture conditions, in the adjusted figures
and by `compare`, while the reference pool and the images without a value keep their own
rows, told apart by their flags. Synthetic tables feed the real statistics stage."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from gate_helpers import attribute, group, results

from fairness_eval.ci.condition_checks import degradation_checks
from fairness_eval.config.command_options import CompareOptions
from fairness_eval.config.settings import StatisticsSettings
from fairness_eval.fairness.adjusted import assess_adjusted
from fairness_eval.fairness.conditions_assessment import assess_conditions
from fairness_eval.report.conditions_section import conditions_section
from fairness_eval.results.labels import group_order
from fairness_eval.results.schema import ResultsDocument
from fairness_eval.workflow.compare import compare_runs

IAA = 0.98  # criterion (b)'s threshold 2 x (1 - 0.98) = 0.04
SETTINGS = StatisticsSettings(bootstrap=1000, min_group_size=20, seed=0)
REF, NA = "(reference)", "(not annotated)"
MISSING = "(not annotated, 2)"  # the images without a value, since a value takes NA
ANNOTATED = sorted([REF, NA, "A"], key=group_order)  # the card's order
ORDER = sorted([*ANNOTATED, MISSING], key=group_order)


def conditions_tables(n: int = 90, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Groups "(reference)", "(not annotated)" and "A" (n images each) and n images without
    a value; under dark f = 0.1 every image loses 0.05, "(reference)" 0.15 more."""
    rng = np.random.default_rng(seed)
    labels = [REF] * n + [NA] * n + ["A"] * n + [None] * n
    group_of = np.array([label or "" for label in labels])
    clean = np.clip(0.85 + 0.03 * rng.standard_normal(len(labels)), 0, 1)
    drop = 0.05 + np.where(group_of == REF, 0.15, 0.0) + 0.01 * rng.standard_normal(len(labels))
    images = [f"im{i:03d}" for i in range(len(labels))]
    per_image = pd.DataFrame({"image": images, "status": "ok", "iou": clean,
                              "intersection": np.rint(1000 * clean), "union": 1000,
                              "group": labels})
    conditions = pd.DataFrame({"image": images, "condition": "dark", "severity": 0.1,
                               "intersection": np.rint(1000 * (clean - drop)), "union": 1000,
                               "iou": clean - drop})
    return per_image, conditions


@pytest.fixture(scope="module")
def block() -> dict:
    per_image, conditions = conditions_tables()
    return assess_conditions(per_image, conditions, [("group", ("group",))], SETTINGS,
                             severities={"dark": (0.1,)}, inter_annotator_iou=IAA)


def test_groups_named_like_internal_labels_are_judged_under_conditions(block):
    attr = block["attributes"]["group"]
    assert attr["reference_groups"] == ANNOTATED  # the annotated groups, pooled
    groups = {r["group"]: r for r in attr["rows"] if not r["reference"]}
    assert set(groups) == {REF, NA, "A", MISSING}
    # "(reference)" loses 0.15 more than the rest: its excess over the pool of the three
    # annotated groups is 0.15 x 2/3, a violation of the 0.04 threshold
    assert groups[REF]["gated"] and groups[REF]["statistical"] == "violation"
    assert groups[REF]["excess_drop"] == pytest.approx(0.10, abs=0.01)
    assert groups[NA]["gated"] and groups[NA]["statistical"] == "pass"
    assert groups[NA]["excess_drop"] == pytest.approx(-0.05, abs=0.01)
    assert groups["A"]["gated"] and groups["A"]["statistical"] == "pass"
    # the images without a value: reported, never judged
    assert not groups[MISSING]["gated"] and groups[MISSING]["statistical"] == "not gated"
    assert groups[MISSING]["n"] == 90
    assert attr["verdict"] == {"statistical": "violation", "point": "violation"}
    # the reference pool's row is still there, flagged, after the groups
    pool = [r for r in attr["rows"] if r["reference"]]
    assert len(pool) == 1 and attr["rows"][-1] is pool[0]
    assert pool[0]["n"] == 270 and pool[0]["excess_drop"] is None
    assert pool[0]["change"] == pytest.approx(-(0.05 + 0.15 / 3), abs=0.005)
    assert not pool[0]["gated"] and pool[0]["statistical"] == "not evaluated"
    # two rows share the name "(reference)": only the flag tells them apart
    assert [r["reference"] for r in attr["rows"] if r["group"] == REF] == [False, True]
    # every image under dark: one row, the pool's row of the whole set left out
    assert len(block["overall"]) == 1 and block["overall"][0]["n"] == 360


def test_the_record_gate_and_card_select_rows_by_the_flag(block):
    document = ResultsDocument.from_json({"schema_version": "2.0", "overall": {},
                                          "attributes": {}, "conditions": block})
    assert document.to_json()["conditions"] == block
    record = document.conditions.attributes["group"]
    assert record.groups == ORDER
    data_row, = record.series("dark", REF)
    pool_row, = record.reference_series("dark")
    assert not data_row.reference and data_row.statistical == "violation"
    assert pool_row.reference and pool_row.n == 270
    checks = {c.group: c.status for c in degradation_checks(document.conditions, "statistical",
                                                            strict=False)}
    assert checks == {f"{REF} under dark f = 0.1": "fail", f"{NA} under dark f = 0.1": "pass",
                      "A under dark f = 0.1": "pass"}
    section = conditions_section(document)
    rows = section["attributes"][0]["rows"]
    assert [r["group"] for r in rows] == [*ORDER, "reference pool"]
    assert rows[ORDER.index(REF)]["statistical"]["value"] == "violation"
    assert rows[ORDER.index(REF)]["row_css"] == "row-bad"
    assert rows[-1]["row_css"] == "row-reference"  # the pool: what groups are judged against
    assert rows[-1]["statistical"]["value"] != "violation"
    chart = section["attributes"][0]["chart_tables"]["dark"]
    assert [r["group"] for r in chart] == [*ORDER, "reference pool"]


def test_documents_without_the_flag_know_the_pool_by_its_name(block):
    old = json.loads(json.dumps(block))
    for row in old["attributes"]["group"]["rows"]:
        del row["reference"]
    old["attributes"]["group"]["rows"] = [r for r in old["attributes"]["group"]["rows"]
                                          if r["group"] != REF or not r["gated"]]
    document = ResultsDocument.from_json({"schema_version": "2.0", "overall": {},
                                          "attributes": {}, "conditions": old})
    record = document.conditions.attributes["group"]
    assert [r.group for r in record.rows if r.reference] == [REF]
    assert record.groups == [g for g in ORDER if g != REF]


def test_adjusting_for_an_attribute_with_a_value_named_not_annotated_keeps_that_stratum():
    rng = np.random.default_rng(3)
    n = 60
    stratum = [NA] * n + ["far"] * n + [None] * 10
    per_image = pd.DataFrame({
        "image": [f"im{i:03d}" for i in range(len(stratum))], "status": "ok",
        "iou": np.clip(np.r_[np.full(n, 0.9), np.full(n, 0.6), np.full(10, 0.1)]
                       + 0.02 * rng.standard_normal(len(stratum)), 0, 1),
        "group": (["A", "B"] * n)[: 2 * n] + ["A"] * 10, "scene": stratum})
    adjustment = assess_adjusted(per_image, [("group", ("group",))], "scene", SETTINGS)
    assert adjustment["weights"] == {NA: 0.5, "far": 0.5}  # a stratum like any other
    block = adjustment["attributes"]["group"]
    assert block["unstratified"] == 10  # the images without a value, left out
    assert block["groups"]["A"]["n"] == n
    assert block["groups"]["A"]["missing_strata"] == []


# --------------------------------------------------------------------------- compare

REGIONS = ["north"] * 40 + [NA] * 40 + [""] * 20


def compare_table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(REGIONS)
    union = rng.integers(2000, 20_000, n)
    intersection = np.round(rng.beta(12, 3, n) * union).astype(int)
    return pd.DataFrame({
        "row": np.arange(1, n + 1), "image": [f"img{i:03d}" for i in range(n)],
        "status": "ok", "reason": "", "intersection": intersection, "union": union,
        "iou": intersection / union, "gt_area": union - 500, "pred_area": union - 700,
        "ignored_pixels": 0, "both_empty": False,
        "content_sha256": [f"{i:064x}" for i in range(n)], "region": REGIONS,
    })


def degrade(table: pd.DataFrame, region: str, by: float) -> pd.DataFrame:
    out = table.copy()
    rows = out["region"] == region
    noise = np.random.default_rng(9).normal(0, 0.01, rows.sum())
    iou = np.clip(out.loc[rows, "iou"] - by + noise, 0, 1)
    out.loc[rows, "intersection"] = np.round(iou * out.loc[rows, "union"]).astype(int)
    out["iou"] = out["intersection"] / out["union"]
    return out


def compare_doc() -> dict:
    doc = results({"region": attribute({
        "north": group(0.8, 0.0, (-0.02, 0.02), n=40),
        NA: group(0.8, 0.0, (-0.02, 0.02), n=40),
        MISSING: group(0.8, 0.0, (-0.02, 0.02), n=20, not_annotated=True),
    })})
    doc["settings"] = {"threshold": 0.5, "seed": 0}
    return doc


def compare_pair(tmp_path, candidate: pd.DataFrame):
    folders = []
    for name, table in (("base", compare_table()), ("cand", candidate)):
        folder = tmp_path / name
        folder.mkdir(parents=True)
        table.to_csv(folder / "per_image.csv", index=False)
        (folder / "results.json").write_text(json.dumps(compare_doc()))
        folders.append(folder)
    return folders


def test_compare_gates_a_group_named_not_annotated(tmp_path):
    base, cand = compare_pair(tmp_path / "named", degrade(compare_table(), NA, 0.05))
    comparison = compare_runs(base, cand, CompareOptions(max_drop=0.01))
    groups = comparison.to_json()["attributes"]["region"]["groups"]
    assert list(groups) == ["north", NA, MISSING]
    assert groups[NA]["gated"] and groups[NA]["drop_beyond_tolerance"]
    assert groups[NA]["n"] == 40 and groups[MISSING]["n"] == 20
    assert comparison.exit_code == 1
    assert any(line.startswith(f"region / {NA}: IoU dropped by") for line in comparison.failures)


def test_compare_never_gates_the_images_without_a_value(tmp_path):
    base, cand = compare_pair(tmp_path / "missing", degrade(compare_table(), "", 0.05))
    comparison = compare_runs(base, cand, CompareOptions(max_drop=0.01))
    missing = comparison.to_json()["attributes"]["region"]["groups"][MISSING]
    assert missing["drop_beyond_tolerance"] and not missing["gated"]
    assert comparison.exit_code == 0
