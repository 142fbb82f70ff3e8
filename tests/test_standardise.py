"""Direct standardisation: a confounded gap vanishes, a real one stays; intervals vs scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from fairness_eval.stats.standardise import difference_interval, standardise

SEED = 1312


def confounded(group_effect: float = 0.0, n: int = 400, seed: int = SEED) -> pd.DataFrame:
    """IoU set by the stratum (near 0.9, far 0.6); A is 80 % near, B 20 % near."""
    rng = np.random.default_rng(seed)
    group = np.repeat(["A", "B"], n)
    near_share = np.where(group == "A", 0.8, 0.2)
    stratum = np.where(rng.random(2 * n) < near_share, "near", "far")
    iou = np.where(stratum == "near", 0.9, 0.6) + rng.normal(0, 0.05, 2 * n)
    iou -= np.where(group == "B", group_effect, 0.0)
    return pd.DataFrame({"image": np.arange(2 * n), "group": group, "share": stratum,
                         "iou": iou})


def test_a_gap_explained_by_a_confounder_vanishes_when_standardised():
    table = confounded()
    result = standardise(table, "group", "share", seed=SEED, resamples=4000)
    assert result.groups == ["A", "B"]
    raw_gap = result.raw[0] - result.raw[1]
    assert raw_gap > 0.15  # 0.3 x (0.8 - 0.2) = 0.18 expected
    gap, (low, high) = difference_interval(result, "A", "B")
    assert abs(gap) < 0.02 and low < 0 < high
    for g in range(2):
        low, high = result.deviation_ci[g]
        assert low < 0 < high
    assert result.coverage.tolist() == [1.0, 1.0] and result.missing_strata == [[], []]


def test_a_real_gap_survives_standardisation():
    result = standardise(confounded(group_effect=0.1), "group", "share", seed=SEED,
                         resamples=4000)
    gap, (low, high) = difference_interval(result, "A", "B")
    assert gap == pytest.approx(0.1, abs=0.02) and low > 0.05


def test_exact_figures_weights_and_a_missing_stratum():
    table = pd.DataFrame({
        "group": ["A", "A", "A", "B", "B", "C", "C", None],
        "share": ["s1", "s2", "s2", "s1", "s2", "s1", "s1", "s2"],
        "iou": [0.2, 0.6, 0.8, 0.4, 1.0, 0.5, 0.7, 0.9],
    }).assign(group=lambda t: t["group"].fillna("(not annotated)"))
    table.loc[len(table)] = ["A", None, 0.0]  # no stratum: left out
    result = standardise(table, "group", "share", resamples=300)
    assert result.unstratified == 1
    assert result.weights == {"s1": 4 / 8, "s2": 4 / 8}
    adjusted = dict(zip(result.groups, result.adjusted, strict=True))
    assert adjusted["A"] == pytest.approx(0.5 * 0.2 + 0.5 * 0.7)
    assert adjusted["B"] == pytest.approx(0.5 * 0.4 + 0.5 * 1.0)
    # C lacks s2: not imputed, its weight renormalised over the strata it has
    c = result.groups.index("C")
    assert adjusted["C"] == pytest.approx(0.6)
    assert result.coverage[c] == pytest.approx(0.5) and result.missing_strata[c] == ["s2"]
    assert result.overall == pytest.approx(np.mean([0.2, 0.6, 0.8, 0.4, 1.0, 0.5, 0.7, 0.9]))
    assert result.raw[result.groups.index("A")] == pytest.approx((0.2 + 0.6 + 0.8) / 3)
    assert result.cell_counts[("A", "s2")] == 2 and ("C", "s2") not in result.cell_counts
    assert np.allclose(result.deviation, result.adjusted - result.overall)


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_interval_matches_scipys_multi_sample_bootstrap(method):
    table = confounded(n=60)
    resamples = 20_000
    result = standardise(table, "group", "share", seed=SEED, resamples=resamples,
                         method=method)
    weights = result.weights
    rows = table[table["group"] == "A"]
    near = rows.loc[rows["share"] == "near", "iou"].to_numpy()
    far = rows.loc[rows["share"] == "far", "iou"].to_numpy()

    def adjusted(x_far, x_near, axis):  # cells resampled independently, weights fixed
        return weights["far"] * x_far.mean(axis=axis) + weights["near"] * x_near.mean(axis=axis)

    reference = scipy_stats.bootstrap(
        (far, near), adjusted, vectorized=True, n_resamples=resamples,
        method="BCa" if method == "bca" else "percentile", rng=np.random.default_rng(SEED + 1))
    tolerance = 0.15 * reference.standard_error  # Monte Carlo SD of the difference ~0.03 SE
    low, high = result.adjusted_ci[result.groups.index("A")]
    assert low == pytest.approx(reference.confidence_interval.low, abs=tolerance)
    assert high == pytest.approx(reference.confidence_interval.high, abs=tolerance)


def test_same_seed_same_interval_and_bad_columns_are_named():
    table = confounded(n=50)
    first = standardise(table, "group", "share", seed=3, resamples=500)
    again = standardise(table, "group", "share", seed=3, resamples=500)
    other = standardise(table, "group", "share", seed=4, resamples=500)
    assert np.array_equal(first.adjusted_ci, again.adjusted_ci)
    assert not np.array_equal(first.adjusted_ci, other.adjusted_ci)
    assert first.seed == 3 and first.resamples == 500
    with pytest.raises(ValueError, match="'person_share'"):
        standardise(table, "group", "person_share")
    broken = table.assign(iou=table["iou"].where(table.index != 3))
    with pytest.raises(ValueError, match="'iou' has missing"):
        standardise(broken, "group", "share")
