"""The card's criteria on given group figures: attainability, verdicts, gating, thresholds."""

import math

import numpy as np
import pytest

from fairness_eval.fairness.criteria import (
    GroupFigures,
    assess_attribute,
    criterion_b_threshold,
    max_attainable_sd,
    n_needed,
    worst,
)
from fairness_eval.results.names import NOT_ANNOTATED


@pytest.mark.parametrize("k, ddof", [(2, 0), (6, 0), (11, 0), (6, 1), (12, 1)])
def test_attainable_bound_is_reached_by_one_outlier(k, ddof):
    values = [0.9] * (k - 1) + [0.5]
    figures = [GroupFigures(label=str(i), n=100, value=v) for i, v in enumerate(values)]
    block = assess_attribute(figures, reference=float(np.mean(values)), sd_ddof=ddof)
    expected = math.sqrt((k - 1) * (k - ddof) / k)
    assert max_attainable_sd(k, ddof) == pytest.approx(expected)
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
        GroupFigures(NOT_ANNOTATED, 100, 0.5, deviation_ci=(-0.5, -0.3),
                     not_annotated=True),
    ]
    block = assess_attribute(figures, reference=reference, threshold_b=0.02)
    assert block["verdict"] == "inconclusive"
    assert block["k"] == 2
    tiny = block["groups"]["tiny"]
    assert tiny["small_group"] is True and tiny["gated"] is False
    assert tiny["verdicts"]["b"] == {"point": "not gated", "statistical": "not gated"}
    assert block["groups"][NOT_ANNOTATED]["verdicts"]["b"]["statistical"] == "not gated"
    assert block["range"]["value"] == pytest.approx(0.01)  # gated groups only
    assert block["range"]["exceeds_threshold"] is False


def test_nothing_gated_gives_not_evaluated():
    figures = [GroupFigures("a", 3, 0.9, deviation_ci=(-0.1, 0.1)),
               GroupFigures("b", 4, 0.8, deviation_ci=(-0.1, 0.1))]
    block = assess_attribute(figures, reference=0.85, threshold_b=0.02)
    assert block["k"] == 0
    assert block["verdict"] == "not evaluated"
    assert block["criteria"]["a"]["can_fire"] is False


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


def test_criterion_b_threshold_is_twice_the_disagreement():
    assert criterion_b_threshold(0.9874) == pytest.approx(0.0252)
    assert criterion_b_threshold(None) is None


@pytest.mark.parametrize("verdicts, expected", [
    (["pass", "inconclusive", "pass"], "inconclusive"),
    (["pass", "violation", "inconclusive"], "violation"),
    (["not gated", "not evaluated"], "not evaluated"),
    ([], "not evaluated"),
])
def test_worst_verdict_orders_violation_over_inconclusive_over_pass(verdicts, expected):
    assert worst(verdicts) == expected


def test_n_needed_inverts_the_normal_half_width():
    # z * 0.05 / sqrt(n) < 0.01 / 2  <=>  n > (2 * 1.96 * 0.05 / 0.01)^2 = 384.1...
    assert n_needed(0.05, 0.01, 0.95) == math.floor((2 * 1.959963984540054 * 0.05 / 0.01) ** 2) + 1
    assert n_needed(0.05, 0.01, 0.95) == 385
    assert n_needed(0.0, 0.01, 0.95) is None and n_needed(0.05, None, 0.95) is None
