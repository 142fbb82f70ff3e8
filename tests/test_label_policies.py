"""Label policies: majority's tie rule, unanimous's (disputed) group, and label resampling,
whose intervals widen where labels are disputed and equal the stratified bootstrap's where
every vote agrees."""

from __future__ import annotations

import numpy as np
import pytest

from fairness_eval.data.label_policies import (
    DISPUTED,
    majority_label,
    policy_labels,
    unanimous_label,
    vote_matrix,
)
from fairness_eval.data.votes import AttributeVotes, ImageVotes
from fairness_eval.stats.bootstrap import make_sample, stratified_bootstrap
from fairness_eval.stats.label_resample import label_bootstrap

SCALE = ("1", "2", "3", "4", "5", "6")


def test_majority_and_its_tie_rule():
    assert majority_label({"2": 2, "3": 1}) == "2"
    assert majority_label({"3": 1, "2": 2}) == "2"
    assert majority_label({"2": 2, "3": 2}) == DISPUTED  # 2 against 2
    assert majority_label({"1": 1, "2": 1, "3": 1}) == DISPUTED
    assert majority_label({"4": 1}) == "4"
    assert majority_label({"4": 0, "5": 1}) == "5"  # a zero count is no vote
    assert majority_label({}) is None and majority_label({"1": 0}) is None


def test_unanimous_and_the_disputed_group():
    assert unanimous_label({"2": 3}) == "2"
    assert unanimous_label({"2": 2, "3": 1}) == DISPUTED
    assert unanimous_label({"2": 1}) == "2"
    assert unanimous_label({"2": 3, "3": 0}) == "2"
    assert unanimous_label({}) is None
    votes = AttributeVotes("skin_tone", SCALE, True, {
        "a": ImageVotes({"2": 3}, {}), "b": ImageVotes({"2": 2, "3": 1}, {}),
        "c": ImageVotes({"2": 1, "3": 1}, {}), "d": ImageVotes({"5": 0}, {})}, named=False)
    assert policy_labels(votes, "unanimous") == {"a": "2", "b": DISPUTED, "c": DISPUTED}
    assert policy_labels(votes, "majority") == {"a": "2", "b": "2", "c": DISPUTED}
    assert policy_labels(votes, "resample") == policy_labels(votes, "majority")
    with pytest.raises(ValueError, match="policy must be one of"):
        policy_labels(votes, "plurality")
    assert vote_matrix(votes, ["b", "z"]).tolist() == [[0, 2, 1, 0, 0, 0], [0] * 6]


def simulated(seed: int, n: int = 900, disputed_share: float = 0.0):
    """IoU of n images in three groups (true means 0.60, 0.80, 0.95), three votes each; a
    share of images gets one dissenting vote for a neighbouring group."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    iou = np.clip(rng.normal(np.array([0.60, 0.80, 0.95])[truth], 0.1), 0, 1)
    counts = np.zeros((n, 3))
    counts[np.arange(n), truth] = 3
    dissent = np.flatnonzero(rng.random(n) < disputed_share)
    neighbour = np.where(truth[dissent] == 0, 1, truth[dissent] - 1)
    counts[dissent, truth[dissent]] -= 1
    counts[dissent, neighbour] += 1
    return iou, counts


def majority_bootstrap(iou, counts, scale, seed, resamples, method="percentile", **options):
    labels = counts.argmax(axis=1)
    groups = [j for j in range(len(scale)) if (labels == j).any()]
    samples = [make_sample("mean", iou=iou[labels == j]) for j in groups]
    return stratified_bootstrap(samples, [("t", scale[j]) for j in groups], seed=seed,
                                resamples=resamples, method=method, **options)


def drawn(iou, counts, scale, strata, *, groups=None, **options):
    """label_bootstrap over the values some vote names (or `groups`), weights = shares."""
    counts = np.asarray(counts, dtype=float)
    named = [j for j in range(len(scale)) if counts[:, j].sum() > 0]
    groups = groups or [scale[j] for j in named]
    weights = counts[:, [scale.index(g) for g in groups]]
    weights = weights / weights.sum(axis=1, keepdims=True)
    return label_bootstrap(iou, np.ones(len(iou)), weights, strata, groups, attribute="t",
                           **options)


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_unanimous_votes_give_the_majority_results_exactly(method):
    iou, counts = simulated(1)
    scale = ("a", "b", "c")
    strata = [scale[j] for j in counts.argmax(axis=1)]
    for seed in (0, 5):
        resampled = drawn(iou, counts, scale, strata, seed=seed, resamples=2000,
                          method=method, sd_factor=1.0)
        figures = resampled.figures
        majority = majority_bootstrap(iou, counts, scale, seed, 2000, method, sd_factor=1.0)
        for field in ("n", "value", "ci", "deviation", "deviation_ci", "z_ci", "margin_ci",
                      "spread"):
            np.testing.assert_array_equal(getattr(figures, field), getattr(majority, field),
                                          err_msg=field)
        assert figures.reference == majority.reference and figures.sd == majority.sd
        assert figures.interval_at("margin", 1, 0.99) == majority.interval_at("margin", 1,
                                                                               0.99)
        assert resampled.expected.tolist() == majority.n.tolist()
        assert not resampled.empty_share.any() and resampled.discarded == 0


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_disputed_images_widen_their_groups_intervals(method):
    """A quarter of the images carry a dissenting vote for a neighbouring group: under
    resample the groups that receive or lose them get intervals at least as wide as under
    majority (the Monte Carlo SE of a 4,000-resample width is about 2 %), and repeated
    seeds agree on it."""
    iou, counts = simulated(2, disputed_share=0.25)
    scale = ("a", "b", "c")
    strata = [scale[j] for j in counts.argmax(axis=1)]
    widths = []
    for seed in (0, 1, 2):
        resampled = drawn(iou, counts, scale, strata, seed=seed, resamples=4000,
                          method=method)
        majority = majority_bootstrap(iou, counts, scale, seed, 4000, method)
        ci = resampled.figures.ci
        ratio = np.diff(ci, axis=1)[:, 0] / np.diff(majority.ci, axis=1)[:, 0]
        widths.append(ratio)
        assert (ratio > 0.98).all()
        # The estimate weights images by their vote share: between the groups' means.
        assert 0.55 < resampled.figures.value[0] < resampled.figures.value[2] < 0.97
        np.testing.assert_allclose(resampled.expected.sum(), len(iou))
    assert np.mean(widths) > 1.05


def test_label_moves_between_groups_follow_the_votes():
    """One image voted 1:2 between two groups: over resamples its group membership follows
    the shares, so the second group's expected size is 2/3 of the image more; its stratum
    (majority label) keeps n."""
    iou = np.array([0.2, 0.9, 0.9, 0.9, 0.5, 0.5, 0.5])
    counts = np.array([[1, 2], [3, 0], [3, 0], [3, 0], [0, 3], [0, 3], [0, 3]])
    result = drawn(iou, counts, ("x", "y"), ["y", "x", "x", "x", "y", "y", "y"], seed=3,
                   resamples=20000, sd_factor=1.0)
    assert result.expected.tolist() == pytest.approx([3 + 1 / 3, 3 + 2 / 3])
    assert result.figures.n.tolist() == [3, 4]
    assert result.figures.value[0] == pytest.approx((0.9 * 3 + 0.2 / 3) / (3 + 1 / 3))
    assert result.figures.margin_ci.shape == (2, 2)
    # Group x holds the 0.2 image in a third of the resamples that draw it: its lower
    # bound goes below 0.9, its upper stays there.
    assert result.figures.ci[0, 0] < 0.85 and result.figures.ci[0, 1] == pytest.approx(0.9)


def test_a_group_only_minority_votes_name():
    iou = np.array([0.5, 0.6, 0.7, 0.8])
    counts = np.array([[3, 0, 0], [3, 0, 0], [2, 0, 1], [3, 0, 0]])
    result = drawn(iou, counts, ("1", "2", "3"), ["1"] * 4, counted=[True, False],
                   seed=0, resamples=2000)
    assert result.figures.n.tolist() == [4, 0]
    # Group "3" is empty when none of the 4 draws is image 3 labelled 3: (11/12)^4.
    assert result.empty_share[1] == pytest.approx((11 / 12) ** 4, abs=0.025)
    assert result.empty_share[0] == 0 and result.discarded == 0
    # Its interval is over the resamples that hold it: only image 3 can be there.
    assert result.figures.ci[1].tolist() == pytest.approx([0.7, 0.7])
    assert "no image drawn into it in" in result.figures.notes[1]


def test_resamples_that_leave_a_gated_group_empty_are_discarded():
    """A gated group of two images each voted 1:1 with another group is empty in about a
    quarter of the resamples (neither draw lands in it); those are discarded and counted,
    and every interval stays finite."""
    iou = np.array([0.3, 0.4, 0.8, 0.9, 0.85, 0.8])
    counts = np.array([[1, 1], [1, 1], [0, 2], [0, 2], [0, 2], [0, 2]])
    result = drawn(iou, counts, ("a", "b"), ["a", "a", "b", "b", "b", "b"], seed=1,
                   resamples=4000, method="bca", sd_factor=1.0)
    assert result.discarded / 4000 == pytest.approx(0.25, abs=0.03)
    assert np.isfinite(result.figures.ci).all()
    assert np.isfinite(result.figures.interval_at("deviation", 0, 0.99)).all()


def test_a_group_empty_in_a_resample_is_no_part_of_a_group_mean_reference():
    """A, B at 0.8 and C at 1.0; C holds no image in the first of two resamples. With no
    group gated, the group-mean reference averages the groups that exist: 0.8 in the first
    resample (A's deviation 0), 0.867 in the second (-0.067); C's empty sums never count
    as 0 / 0 := 1."""
    from fairness_eval.stats.bootstrap import bootstrap_from_sums

    found = bootstrap_from_sums(
        np.array([8.0, 4.0, 1.0]), np.array([10.0, 5.0, 1.0]),
        np.array([[8.0, 8.0], [4.0, 4.0], [0.0, 1.0]]),
        np.array([[10.0, 10.0], [5.0, 5.0], [0.0, 1.0]]),
        jackknife=lambda: iter(()), n=np.array([10, 5, 1]), spread=np.zeros(3),
        counted=[False, False, False], reference="group-mean", method="percentile",
        empty=np.array([[False, False], [False, False], [True, False]]))
    low, high = found.deviation_ci[0]
    assert low == pytest.approx(-0.2 / 3 * 0.975, abs=1e-9)
    assert high == pytest.approx(-0.2 / 3 * 0.025, abs=1e-9)
    assert found.ci[2].tolist() == [1.0, 1.0]  # over the one resample that holds C
    assert "no image drawn into it in 50.0 % of the resamples" in found.notes[2]


def test_pooled_sums_with_unanimous_votes_equal_the_stratified_ones():
    rng = np.random.default_rng(4)
    inter, union = rng.integers(0, 50, 60).astype(float), rng.integers(50, 90, 60).astype(float)
    group = rng.integers(0, 2, 60)
    weights = np.eye(2)[group]
    strata = ["a" if g == 0 else "b" for g in group]
    result = label_bootstrap(inter, union, weights, strata, ["a", "b"], attribute="t",
                             unit_denominator=False, seed=2, resamples=1000)
    samples = [make_sample("pooled", intersection=inter[group == g], union=union[group == g])
               for g in (0, 1)]
    plain = stratified_bootstrap(samples, [("t", "a"), ("t", "b")], seed=2, resamples=1000)
    np.testing.assert_array_equal(result.figures.ci, plain.ci)
    np.testing.assert_array_equal(result.figures.spread, plain.spread)


def test_bad_inputs():
    with pytest.raises(ValueError, match="one row of weights"):
        label_bootstrap([0.5], [1.0], np.ones((2, 2)) / 2, ["a"], ["a", "b"], attribute="t")
    with pytest.raises(ValueError, match="must sum to 1"):
        label_bootstrap([0.5], [1.0], np.zeros((1, 2)), ["a"], ["a", "b"], attribute="t")


def test_the_disputed_group_is_reported_never_gated_nor_in_the_reference():
    import pandas as pd

    from fairness_eval.config.settings import StatisticsSettings
    from fairness_eval.fairness.assess import evaluate
    from fairness_eval.results.names import NOT_GATED, VIOLATION

    rng = np.random.default_rng(0)
    sizes = {"1": 60, "2": 60, DISPUTED: 60}
    means = {"1": 0.86, "2": 0.85, DISPUTED: 0.40}  # disputed images far below the rest
    iou = np.concatenate([np.clip(rng.normal(means[g], 0.05, n), 0, 1)
                          for g, n in sizes.items()])
    groups = np.repeat(list(sizes), list(sizes.values()))
    table = pd.DataFrame({"image": [f"i{i}" for i in range(len(iou))], "status": "ok",
                          "iou": iou, "intersection": iou, "union": 1.0,
                          "skin_tone": groups})
    settings = StatisticsSettings(bootstrap=500, inter_annotator_iou=0.9874,
                                  min_group_size=20)
    block = evaluate(table, ["skin_tone"], settings)["attributes"]["skin_tone"]
    disputed = block["groups"][DISPUTED]
    assert disputed["n"] == 60 and not disputed["gated"]
    assert disputed["verdicts"]["b"]["statistical"] == NOT_GATED
    assert disputed["value"] == pytest.approx(iou[groups == DISPUTED].mean())
    # The reference pools the gated groups only: the groups' deviations stay small.
    assert abs(block["groups"]["1"]["deviation"]) < 0.01
    assert block["groups"]["1"]["gated"] and block["groups"]["2"]["gated"]
    assert VIOLATION not in (block["groups"]["1"]["verdicts"]["b"]["statistical"],
                             block["groups"]["2"]["verdicts"]["b"]["statistical"])
