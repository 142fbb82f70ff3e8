"""Disparate degradation by simulation, and its paired interval against scipy's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from fairness_eval.fairness.degradation import (
    REFERENCE,
    degradation_for,
    disparate_degradation,
    excess_verdict,
    pair_tables,
)
from fairness_eval.stats.bootstrap import make_sample, stratified_bootstrap

SEED = 20240613


def simulated(extra_drop_b: float, n: int = 300, seed: int = SEED
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean IoU of groups A and B; under "blur" both drop by 0.05, B by `extra_drop_b` more."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(["A", "B"], n)
    clean_iou = rng.uniform(0.5, 0.95, 2 * n)
    drop = 0.05 + np.where(groups == "B", extra_drop_b, 0.0) + rng.normal(0, 0.02, 2 * n)
    images = [f"img{i:04d}" for i in range(2 * n)]
    clean = pd.DataFrame({"image": images, "group": groups, "iou": clean_iou})
    degraded = pd.DataFrame({"image": images, "condition": "blur", "severity": 0.02,
                             "iou": clean_iou - drop})
    return clean, degraded


def by_group(rows) -> dict[str, object]:
    return {row.group: row for row in getattr(rows, "rows", rows)}


def test_a_larger_drop_by_a_known_amount_is_a_violation():
    clean, degraded = simulated(extra_drop_b=0.20)
    rows = by_group(disparate_degradation(clean, degraded, "group", threshold=0.03,
                                          seed=SEED, resamples=4000))
    # equal group sizes: the reference drop is halfway, so B's excess is half of 0.20
    assert rows["B"].excess_drop == pytest.approx(0.10, abs=0.005)
    assert rows["A"].excess_drop == pytest.approx(-0.10, abs=0.005)
    assert rows["B"].excess_drop - rows["A"].excess_drop == pytest.approx(
        (rows["A"].change - rows["B"].change), abs=1e-12)
    assert (rows["B"].statistical, rows["B"].point) == ("violation", "violation")
    assert (rows["A"].statistical, rows["A"].point) == ("pass", "pass")  # degrades less
    assert rows["B"].excess_drop_ci[0] > 0.03
    assert rows[REFERENCE].change == pytest.approx(-(0.05 + 0.10), abs=0.005)
    assert rows[REFERENCE].n == 600 and rows["A"].n == 300


def test_equal_drops_pass():
    clean, degraded = simulated(extra_drop_b=0.0)
    rows = by_group(disparate_degradation(clean, degraded, "group", threshold=0.03,
                                          seed=SEED, resamples=4000))
    for name in ("A", "B"):
        assert abs(rows[name].excess_drop) < 0.01
        assert (rows[name].statistical, rows[name].point) == ("pass", "pass")
        assert rows[name].change == pytest.approx(-0.05, abs=0.005)


def test_an_excess_at_the_threshold_is_inconclusive():
    clean, degraded = simulated(extra_drop_b=0.10)  # B's excess: 0.05
    rows = by_group(disparate_degradation(clean, degraded, "group", threshold=0.05,
                                          seed=SEED, resamples=4000))
    low, high = rows["B"].excess_drop_ci
    assert low < 0.05 < high and rows["B"].statistical == "inconclusive"


def test_no_threshold_is_not_evaluated():
    clean, degraded = simulated(extra_drop_b=0.2, n=30)
    rows = disparate_degradation(clean, degraded, "group", threshold=None, resamples=200).rows
    assert {(r.point, r.statistical) for r in rows} == {("not evaluated", "not evaluated")}
    assert excess_verdict((0.01, 0.02), None) == "not evaluated"


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_paired_interval_matches_scipy_paired_bootstrap(method):
    clean, degraded = simulated(extra_drop_b=0.1, n=80)
    paired = pair_tables(clean, degraded)
    resamples = 20_000
    rows = by_group(degradation_for(paired, "group", "blur", 0.02, threshold=0.05,
                                    seed=SEED, resamples=resamples, method=method))
    for name in ("A", "B"):
        part = paired[paired["group"] == name]
        reference = scipy_stats.bootstrap(
            (part["iou_clean"].to_numpy(), part["iou_degraded"].to_numpy()),
            lambda c, d, axis: np.mean(d - c, axis=axis), paired=True, vectorized=True,
            n_resamples=resamples, method="BCa" if method == "bca" else "percentile",
            confidence_level=0.95, rng=np.random.default_rng(SEED + 1))
        standard_error = reference.standard_error
        ours = rows[name].change_ci
        # Monte Carlo SD of each endpoint at B = 20 000 is ~0.02 SE, of their difference ~0.03
        assert ours[0] == pytest.approx(reference.confidence_interval.low,
                                        abs=0.15 * standard_error)
        assert ours[1] == pytest.approx(reference.confidence_interval.high,
                                        abs=0.15 * standard_error)
        assert rows[name].change == pytest.approx(np.mean(part["iou_degraded"]
                                                          - part["iou_clean"]), abs=1e-12)


def test_pooled_statistic_and_every_condition_and_severity():
    clean = pd.DataFrame({"image": ["a", "b", "c", "d"], "group": ["x", "x", "y", "y"],
                          "iou": [0.5, 1.0, 0.8, 0.6], "intersection": [10, 30, 40, 30],
                          "union": [20, 30, 50, 50]})
    conditions = pd.DataFrame({
        "image": ["a", "b", "c", "d"] * 2,
        "condition": ["dark"] * 4 + ["jpeg"] * 4,
        "severity": [0.5] * 4 + [20] * 4,
        "iou": [0.4, 0.9, 0.5, 0.5, 0.5, 1.0, 0.8, 0.6],
        "intersection": [8, 27, 25, 25, 10, 30, 40, 30],
        "union": [20, 30, 50, 50, 20, 30, 50, 50]})
    rows = disparate_degradation(clean, conditions, "group", threshold=0.02,
                                 statistic="pooled", resamples=500, seed=1).rows
    assert [(r.condition, r.severity, r.group) for r in rows] == [
        ("dark", 0.5, "x"), ("dark", 0.5, "y"), ("dark", 0.5, REFERENCE),
        ("jpeg", 20.0, "x"), ("jpeg", 20.0, "y"), ("jpeg", 20.0, REFERENCE)]
    dark = by_group(rows[:3])
    assert (dark["x"].clean, dark["x"].degraded) == pytest.approx((40 / 50, 35 / 50))
    assert (dark["y"].clean, dark["y"].degraded) == pytest.approx((70 / 100, 50 / 100))
    assert dark[REFERENCE].change == pytest.approx(85 / 150 - 110 / 150)
    assert dark["y"].excess_drop == pytest.approx(0.2 - 25 / 150)
    jpeg = by_group(rows[3:])
    assert all(row.change == 0 and row.change_ci == (0.0, 0.0) for row in jpeg.values())
    assert jpeg["x"].statistical == "pass"


def test_same_seed_same_intervals_and_reference_groups_choose_the_pool():
    clean, degraded = simulated(extra_drop_b=0.1, n=40)
    first = disparate_degradation(clean, degraded, "group", threshold=0.05, resamples=500)
    again = disparate_degradation(clean, degraded, "group", threshold=0.05, resamples=500)
    assert first == again
    assert (first.seed, first.resamples, first.method, first.threshold) == (0, 500, "bca", 0.05)
    only_a = by_group(disparate_degradation(clean, degraded, "group", threshold=0.05,
                                            resamples=500, reference_groups=["A"]))
    assert only_a["A"].excess_drop == pytest.approx(0.0, abs=1e-12)
    assert only_a[REFERENCE].n == 40


def test_degraded_iou_interval_is_the_groups_ordinary_bootstrap_interval():
    clean, degraded = simulated(extra_drop_b=0.1, n=50)
    rows = by_group(disparate_degradation(clean, degraded, "group", threshold=0.05, seed=4,
                                          resamples=2000, method="percentile", key=("attr",)))
    for name in ("A", "B"):
        images = clean.loc[clean["group"] == name, "image"]
        values = degraded.set_index("image").loc[images, "iou"].to_numpy()
        expected = stratified_bootstrap([make_sample("mean", iou=values)],
                                        [("attr", "degradation", name)], seed=4,
                                        resamples=2000, method="percentile")
        assert rows[name].degraded == pytest.approx(values.mean(), abs=1e-12)
        assert rows[name].degraded_ci == pytest.approx(tuple(expected.ci[0]), abs=1e-12)
