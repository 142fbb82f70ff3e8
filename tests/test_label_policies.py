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
from fairness_eval.stats.label_resample import resample_labels

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


def majority_bootstrap(iou, counts, scale, seed, resamples):
    labels = counts.argmax(axis=1)
    groups = [j for j in range(len(scale)) if (labels == j).any()]
    samples = [make_sample("mean", iou=iou[labels == j]) for j in groups]
    return stratified_bootstrap(samples, [("t", scale[j]) for j in groups], seed=seed,
                                resamples=resamples, method="percentile")


def test_unanimous_votes_give_the_majority_results_exactly():
    iou, counts = simulated(1)
    scale = ("a", "b", "c")
    strata = [scale[j] for j in counts.argmax(axis=1)]
    for seed in (0, 5):
        resampled = resample_labels(iou, counts, scale, strata, attribute="t", seed=seed,
                                    resamples=2000)
        majority = majority_bootstrap(iou, counts, scale, seed, 2000)
        assert resampled.groups == scale
        np.testing.assert_array_equal(resampled.value, majority.value)
        np.testing.assert_array_equal(resampled.ci, majority.ci)
        np.testing.assert_array_equal(resampled.deviation_ci, majority.deviation_ci)
        assert resampled.reference == majority.reference
        assert resampled.images.tolist() == majority.n.tolist()
        assert not resampled.empty_share.any()


def test_disputed_images_widen_their_groups_intervals():
    """A quarter of the images carry a dissenting vote for a neighbouring group: under
    resample the groups that receive or lose them get intervals at least as wide as under
    majority (the Monte Carlo SE of a 4,000-resample width is about 2 %), and repeated
    seeds agree on it."""
    iou, counts = simulated(2, disputed_share=0.25)
    scale = ("a", "b", "c")
    strata = [scale[j] for j in counts.argmax(axis=1)]
    widths = []
    for seed in (0, 1, 2):
        resampled = resample_labels(iou, counts, scale, strata, attribute="t", seed=seed,
                                    resamples=4000)
        majority = majority_bootstrap(iou, counts, scale, seed, 4000)
        ratio = np.diff(resampled.ci, axis=1)[:, 0] / np.diff(majority.ci, axis=1)[:, 0]
        widths.append(ratio)
        assert (ratio > 0.98).all()
        # The estimate weights images by their vote share: between the groups' means.
        assert 0.55 < resampled.value[0] < resampled.value[2] < 0.97
        np.testing.assert_allclose(resampled.images.sum(), len(iou))
    assert np.mean(widths) > 1.05


def test_label_moves_between_groups_follow_the_votes():
    """One image voted 1:2 between two groups: over resamples its group membership follows
    the shares, so the second group's expected size is 2/3 of the image more."""
    iou = np.array([0.2, 0.9, 0.9, 0.9, 0.5, 0.5, 0.5])
    counts = np.array([[1, 2], [3, 0], [3, 0], [3, 0], [0, 3], [0, 3], [0, 3]])
    result = resample_labels(iou, counts, ("x", "y"), ["y", "x", "x", "x", "y", "y", "y"],
                             attribute="t", seed=3, resamples=20000, sd_factor=1.0)
    assert result.images.tolist() == pytest.approx([3 + 1 / 3, 3 + 2 / 3])
    assert result.value[0] == pytest.approx((0.9 * 3 + 0.2 / 3) / (3 + 1 / 3))
    assert result.margin is not None and result.margin_ci.shape == (2, 2)


def test_a_group_only_minority_votes_name():
    iou = np.array([0.5, 0.6, 0.7, 0.8])
    counts = np.array([[3, 0, 0], [3, 0, 0], [2, 0, 1], [3, 0, 0]])
    result = resample_labels(iou, counts, ("1", "2", "3"), ["1"] * 4, attribute="t",
                             seed=0, resamples=2000)
    assert result.groups == ("1", "3")
    # Group "3" is empty when none of the 4 draws is image 3 labelled 3: (11/12)^4.
    assert result.empty_share[1] == pytest.approx((11 / 12) ** 4, abs=0.025)
    assert result.empty_share[0] == 0
    assert result.ci[1, 0] == pytest.approx(0.7)


def test_bad_inputs():
    with pytest.raises(ValueError, match="one row of votes"):
        resample_labels([0.5], np.ones((2, 2)), ("a", "b"), ["a"], attribute="t")
    with pytest.raises(ValueError, match="at least one vote"):
        resample_labels([0.5], np.zeros((1, 2)), ("a", "b"), ["a"], attribute="t")


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
