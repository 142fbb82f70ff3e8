"""`compare`: the paired bootstrap of the change (checked against scipy and by simulation),
matching of runs by image id, the drop tolerance, verdict changes and the written outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from gate_helpers import attribute, group, results

from fairness_eval.config.command_options import CompareOptions
from fairness_eval.errors import UsageError
from fairness_eval.report.comparison_markdown import closing_lines
from fairness_eval.stats import bootstrap as stats
from fairness_eval.stats.paired import paired_change
from fairness_eval.workflow.compare import COMPARISON_JSON, COMPARISON_MD, compare_runs, run_compare

# --------------------------------------------------------------------------- the interval


def _scipy_paired(arrays, statistic, method, resamples=20_000):
    return scipy.stats.bootstrap(arrays, statistic, paired=True, vectorized=True,
                                 method=method, n_resamples=resamples, random_state=3
                                 ).confidence_interval


@pytest.mark.parametrize(("method", "scipy_method"), [("bca", "BCa"), ("percentile", "percentile")])
def test_mean_change_interval_agrees_with_scipy_paired_bootstrap(method, scipy_method):
    rng = np.random.default_rng(1)
    base = rng.beta(8, 2, 60)
    cand = np.clip(base + rng.normal(-0.02, 0.05, 60), 0, 1)
    ours = paired_change(stats.make_sample("mean", iou=base), stats.make_sample("mean", iou=cand),
                         ("g",), resamples=20_000, method=method)
    ref = _scipy_paired((base, cand), lambda b, c, axis: c.mean(axis) - b.mean(axis),
                        scipy_method)
    width = ref.high - ref.low
    assert ours.change == pytest.approx(cand.mean() - base.mean())
    assert ours.ci[0] == pytest.approx(ref.low, abs=0.05 * width)
    assert ours.ci[1] == pytest.approx(ref.high, abs=0.05 * width)


def test_pooled_change_interval_agrees_with_scipy_paired_bootstrap():
    rng = np.random.default_rng(2)
    inter_b = rng.integers(100, 10_000, 80).astype(float)
    union_b = inter_b / rng.uniform(0.5, 1.0, 80)
    inter_c = inter_b * rng.uniform(0.85, 1.05, 80)
    ours = paired_change(stats.make_sample("pooled", intersection=inter_b, union=union_b),
                         stats.make_sample("pooled", intersection=inter_c, union=union_b),
                         ("g",), resamples=20_000)
    ref = _scipy_paired(
        (inter_b, union_b, inter_c, union_b),
        lambda ib, ub, ic, uc, axis: ic.sum(axis) / uc.sum(axis) - ib.sum(axis) / ub.sum(axis),
        "BCa",
    )
    width = ref.high - ref.low
    expected = inter_c.sum() / union_b.sum() - inter_b.sum() / union_b.sum()
    assert ours.change == pytest.approx(expected)
    assert ours.ci[0] == pytest.approx(ref.low, abs=0.05 * width)
    assert ours.ci[1] == pytest.approx(ref.high, abs=0.05 * width)


def test_pairing_removes_between_image_spread():
    # Every image improves by exactly 0.03: the paired interval is that value, although the
    # images themselves spread widely (two unpaired intervals would overlap heavily).
    base = np.random.default_rng(3).uniform(0.3, 0.95, 50)
    change = paired_change(stats.make_sample("mean", iou=base),
                           stats.make_sample("mean", iou=base + 0.03), ("g",), resamples=2000)
    assert change.ci == pytest.approx((0.03, 0.03), abs=1e-12)


def test_single_image_group_gets_a_defined_interval():
    one = paired_change(stats.make_sample("mean", iou=[0.5]), stats.make_sample("mean", iou=[0.7]),
                        ("g",), resamples=500)
    assert one.ci == pytest.approx((0.2, 0.2)) and one.note.startswith("n = 1")


def test_streams_are_seeded_per_group_name():
    rng = np.random.default_rng(4)
    b, c = rng.uniform(0.5, 1, 40), rng.uniform(0.5, 1, 40)
    sb, sc = stats.make_sample("mean", iou=b), stats.make_sample("mean", iou=c)
    first = paired_change(sb, sc, ("region", "x"), resamples=1000, seed=0)
    assert paired_change(sb, sc, ("region", "x"), resamples=1000, seed=0) == first
    assert paired_change(sb, sc, ("region", "y"), resamples=1000, seed=0).ci != first.ci
    assert paired_change(sb, sc, ("region", "x"), resamples=1000, seed=1).ci != first.ci


@pytest.mark.slow
@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_nominal_95_percent_interval_covers_the_true_change(method):
    # Skewed per-image changes with a known mean (-0.01): 0.03 - Gamma(2, 0.02).
    rng = np.random.default_rng(5)
    covered, sims = 0, 1000
    for i in range(sims):
        base = rng.beta(9, 1.5, 43)
        cand = base + 0.03 - rng.gamma(2.0, 0.02, 43)
        change = paired_change(stats.make_sample("mean", iou=base),
                               stats.make_sample("mean", iou=cand), ("sim", str(i)),
                               resamples=1000, method=method)
        covered += change.ci[0] <= -0.01 <= change.ci[1]
    assert 0.925 <= covered / sims <= 0.975, covered / sims


# --------------------------------------------------------------------------- synthetic runs

REGIONS = ["north"] * 40 + ["south"] * 40 + [""] * 20


def base_table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(REGIONS)
    union = rng.integers(2000, 20_000, n)
    iou = rng.beta(12, 3, n)
    intersection = np.round(iou * union).astype(int)
    return pd.DataFrame({
        "row": np.arange(1, n + 1), "image": [f"img{i:03d}" for i in range(n)],
        "status": "ok", "reason": "", "intersection": intersection, "union": union,
        "iou": intersection / union, "gt_area": union - 500, "pred_area": union - 700,
        "ignored_pixels": 0, "both_empty": False,
        "content_sha256": [f"{i:064x}" for i in range(n)], "region": REGIONS,
    })


def degrade(table: pd.DataFrame, region: str, by: float, seed: int = 9) -> pd.DataFrame:
    out = table.copy()
    rows = out["region"] == region
    noise = np.random.default_rng(seed).normal(0, 0.01, rows.sum())
    iou = np.clip(out.loc[rows, "iou"] - by + noise, 0, 1)
    out.loc[rows, "intersection"] = np.round(iou * out.loc[rows, "union"]).astype(int)
    out["iou"] = out["intersection"] / out["union"]
    return out


def region_results(south_b=("pass", "pass"), statistic="mean"):
    doc = results({"region": attribute({
        "north": group(0.8, 0.0, (-0.02, 0.02), n=40),
        "south": group(0.8, 0.0, (-0.02, 0.02), n=40, b=south_b),
        "(not annotated)": group(0.8, 0.0, (-0.02, 0.02), n=20, not_annotated=True),
    })})
    doc["bootstrap"]["statistic"] = statistic
    doc["settings"] = {"threshold": 0.5, "seed": 0}
    return doc


def write_run(folder, table, doc):
    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(folder / "per_image.csv", index=False)
    (folder / "results.json").write_text(json.dumps(doc))
    return folder


@pytest.fixture
def runs(tmp_path):
    def make(candidate_table=None, candidate_doc=None, baseline_doc=None):
        base = write_run(tmp_path / "base", base_table(), baseline_doc or region_results())
        cand = write_run(tmp_path / "cand",
                         base_table() if candidate_table is None else candidate_table,
                         candidate_doc or region_results())
        return base, cand
    return make


def test_identical_runs_show_zero_change_and_pass(runs):
    base, cand = runs()
    comparison = compare_runs(base, cand, CompareOptions(max_drop=0.0))
    doc = comparison.to_json()
    assert comparison.exit_code == 0 and doc["verdict_changes"] == []
    assert doc["images"] == 100
    for g in [doc["overall"], *doc["attributes"]["region"]["groups"].values()]:
        assert g["change"] == 0 and g["change_ci"] == [0, 0]
        assert g["note"] == "every resample gives the same change: zero-width interval"
    assert list(doc["attributes"]["region"]["groups"]) == ["north", "south", "(not annotated)"]
    assert doc["attributes"]["region"]["groups"]["(not annotated)"]["n"] == 20


def test_a_drop_beyond_tolerance_fails_and_names_the_group(runs):
    base, cand = runs(candidate_table=degrade(base_table(), "south", 0.05))
    comparison = compare_runs(base, cand, CompareOptions(max_drop=0.01))
    south = comparison.to_json()["attributes"]["region"]["groups"]["south"]
    table = base_table()
    expected = degrade(table, "south", 0.05)["iou"][40:80].mean() - table["iou"][40:80].mean()
    assert south["change"] == pytest.approx(expected)
    assert south["change_ci"][1] < -0.01 and south["drop_beyond_tolerance"]
    north = comparison.to_json()["attributes"]["region"]["groups"]["north"]
    assert north["change"] == 0 and not north["drop_beyond_tolerance"]
    assert comparison.exit_code == 1
    # Read by people: changes in percentage points (comparison.json keeps the fractions).
    assert any(f.startswith("region / south: IoU dropped by 5.") and " pt " in f and
               "beyond the tolerated 1.00 pt" in f for f in comparison.failures)
    assert closing_lines(comparison)[-1].startswith("comparison gate: FAILED")
    # Without a tolerance the drop is reported, not gated; a wide tolerance passes it.
    assert compare_runs(base, cand).exit_code == 0
    assert compare_runs(base, cand).to_json()["attributes"]["region"]["groups"]["south"][
        "direction"] == "worse"
    assert compare_runs(base, cand, CompareOptions(max_drop=0.2)).exit_code == 0


def test_a_drop_in_not_annotated_images_is_reported_not_gated(runs):
    base, cand = runs(candidate_table=degrade(base_table(), "", 0.05))
    comparison = compare_runs(base, cand, CompareOptions(max_drop=0.03))
    group_ = comparison.to_json()["attributes"]["region"]["groups"]["(not annotated)"]
    assert group_["drop_beyond_tolerance"] and not group_["gated"]
    assert comparison.exit_code == 0


def test_verdict_changes_are_listed_and_a_new_violation_fails(runs):
    base, cand = runs(candidate_doc=region_results(south_b=("violation", "inconclusive")))
    comparison = compare_runs(base, cand)
    changes = comparison.to_json()["verdict_changes"]
    assert {(c["group"], c["kind"], c["baseline"], c["candidate"]) for c in changes} == {
        ("south", "point", "pass", "violation"), ("south", "statistical", "pass", "inconclusive")}
    assert comparison.exit_code == 0  # the statistical verdict is not a violation
    assert compare_runs(base, cand, CompareOptions(gate_on="point")).exit_code == 1
    base, cand = runs(candidate_doc=region_results(south_b=("violation", "violation")))
    failing = compare_runs(base, cand)
    assert failing.exit_code == 1
    assert failing.failures[0].startswith("new violation: region / south: criterion (b)")


def test_pooled_statistic_follows_the_baseline(runs):
    doc = region_results(statistic="pooled")
    base, cand = runs(candidate_table=degrade(base_table(), "north", 0.02), baseline_doc=doc)
    overall = compare_runs(base, cand).to_json()["overall"]
    b, c = base_table(), degrade(base_table(), "north", 0.02)
    assert overall["baseline"] == pytest.approx(b["intersection"].sum() / b["union"].sum())
    assert overall["candidate"] == pytest.approx(c["intersection"].sum() / c["union"].sum())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.drop(index=[3, 4]), "2 image(s) only in the baseline: img003, img004"),
        (lambda t: t.assign(image=t["image"].str.replace("img099", "other")),
         "1 image(s) only in the candidate: other"),
        (lambda t: t.assign(status=["skipped"] + ["ok"] * 99), "evaluated in one run only: img000"),
        (lambda t: t.assign(gt_area=t["gt_area"] + (t.index == 7)),
         "ground-truth person area differs for 1 image(s): img007"),
        (lambda t: t.assign(content_sha256=["f" * 64] * 100),
         "image or mask content differs for 100 image(s): img000, img001, img002, img003, "
         "img004 and 95 more"),
        (lambda t: t.assign(region=["south"] + REGIONS[1:]),
         "attribute 'region' differs for 1 image(s): img000"),
    ],
)
def test_runs_over_different_images_are_refused_with_what_differs(runs, edit, message):
    base, cand = runs(candidate_table=edit(base_table()))
    with pytest.raises(UsageError, match="not runs over the same images") as error:
        compare_runs(base, cand)
    assert message in str(error.value)


def test_different_dataset_hash_is_refused(runs):
    other = region_results()
    other["dataset"]["sha256"] = "2" * 64
    base, cand = runs(candidate_doc=other)
    with pytest.raises(UsageError, match="dataset hash differs"):
        compare_runs(base, cand)


def test_missing_run_folder_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="not a run folder"):
        compare_runs(tmp_path / "nope", tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.json").write_text(json.dumps(region_results()))
    with pytest.raises(UsageError, match="per_image.csv: not found"):
        compare_runs(tmp_path / "a", tmp_path / "a")


def test_run_compare_writes_markdown_and_json(runs, tmp_path):
    base, cand = runs(candidate_table=degrade(base_table(), "south", 0.05))
    echoed: list[str] = []
    assert run_compare(base, cand, CompareOptions(max_drop=0.01), echo=echoed.append) == 1
    document = json.loads((cand / COMPARISON_JSON).read_text())
    assert document["exit_code"] == 1 and document["max_drop"] == 0.01
    south = document["attributes"]["region"]["groups"]["south"]
    markdown = (cand / COMPARISON_MD).read_text()
    ci = f"[{100 * south['change_ci'][0]:+.2f}, {100 * south['change_ci'][1]:+.2f}]"
    assert (f"| south | 40 | {100 * south['baseline']:.2f} | {100 * south['candidate']:.2f} | "
            in markdown)
    assert ci in markdown and "**drop beyond tolerance**" in markdown
    assert echoed[-1].startswith("comparison gate: FAILED")
    out = tmp_path / "elsewhere"
    assert run_compare(base, cand, CompareOptions(out=out), echo=echoed.append) == 0
    assert (out / COMPARISON_MD).is_file() and (out / COMPARISON_JSON).is_file()


# --------------------------------------------------------------------------- real runs
# The real model over the 300 VOC images at two --threshold values (tests/conftest.py).


@pytest.mark.real_run
def test_real_runs_at_two_thresholds_report_per_group_change_with_intervals(
        voc_property_run, tmp_path):
    from fairness_eval.results.document import read_per_image

    # The model's probabilities are confident: only a far lower threshold changes much.
    base_dir = voc_property_run("person_share", threshold=0.5)
    cand_dir = voc_property_run("person_share", threshold=0.02)
    out = tmp_path / "cmp"
    echoed: list[str] = []
    code = run_compare(base_dir, cand_dir, CompareOptions(out=out, max_drop=0.01),
                       echo=echoed.append)
    doc = json.loads((out / COMPARISON_JSON).read_text())
    assert doc["images"] == 300
    assert doc["settings_changed"]["threshold"] == [0.5, 0.02]
    base, cand = read_per_image(base_dir), read_per_image(cand_dir)
    assert (base["image"] == cand["image"]).all()
    groups = doc["attributes"]["person_share"]["groups"]
    assert set(groups) == {"small", "large"}
    for name, g in groups.items():
        rows = (base["person_share"] == name).to_numpy()
        expected = cand["iou"][rows].mean() - base["iou"][rows].mean()
        assert g["n"] == rows.sum()
        assert g["change"] == pytest.approx(expected)
        assert g["change_ci"][0] <= g["change"] <= g["change_ci"][1]
        assert g["change_ci"][0] < g["change_ci"][1]
        assert g["drop_beyond_tolerance"] == (g["change_ci"][1] < -0.01)
    # Extra background at threshold 0.02 costs the large-person images IoU, with confidence.
    assert groups["large"]["change_ci"][1] < -0.01
    assert code == doc["exit_code"] == 1
    assert any(f.startswith("person_share / large: IoU dropped by") for f in doc["failures"])
    assert any(line.startswith("FAIL person_share / large") for line in echoed)
    # Pairing: the interval of the overall change is far narrower than either run's own
    # interval, since both runs score the same photographs.
    b_results = json.loads((base_dir / "results.json").read_text())
    own_width = b_results["overall"]["ci"][1] - b_results["overall"]["ci"][0]
    change_width = doc["overall"]["change_ci"][1] - doc["overall"]["change_ci"][0]
    assert change_width < own_width / 2
    markdown = (out / COMPARISON_MD).read_text()
    assert "threshold 0.5 -> 0.02" in markdown
    large = groups["large"]
    assert (f"| large | {large['n']} | {100 * large['baseline']:.2f} | "
            f"{100 * large['candidate']:.2f} | {100 * large['change']:+.2f} | "
            f"[{100 * large['change_ci'][0]:+.2f}, {100 * large['change_ci'][1]:+.2f}] | "
            "**drop beyond tolerance** |") in markdown
    # A tolerance wider than every drop leaves only new violations (if any) failing.
    tolerant = compare_runs(base_dir, cand_dir, CompareOptions(max_drop=0.2))
    assert all(f.startswith("new violation") for f in tolerant.failures)


@pytest.mark.real_run
def test_real_runs_over_different_images_are_refused(voc_property_run):
    full = voc_property_run("person_share")
    subset = voc_property_run("person_share", keep=250)
    with pytest.raises(UsageError) as error:
        compare_runs(full, subset)
    message = str(error.value)
    assert "not runs over the same images" in message
    assert "50 image(s) only in the baseline" in message
    assert "dataset hash differs" in message


def test_markdown_rows_keep_user_group_names_inside_their_cell(runs, tmp_path):
    def renamed(doc):
        groups = doc["attributes"]["region"]["groups"]
        groups["so|uth *x*"] = groups.pop("south")
        return doc

    table = base_table()
    table["region"] = table["region"].replace("south", "so|uth *x*")
    base = write_run(tmp_path / "b2", table, renamed(region_results()))
    cand = write_run(tmp_path / "c2", table, renamed(region_results()))
    run_compare(base, cand, echo=lambda _: None)
    rows = [line for line in (cand / COMPARISON_MD).read_text().splitlines()
            if line.startswith("| so")]
    assert len(rows) == 1 and rows[0].startswith("| so\\|uth \\*x\\* | 40 |")
