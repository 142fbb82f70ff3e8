"""Flicker: exact counts on synthetic frames, ignore pixels, empty unions and clip means."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from fairness_eval.metrics.temporal import clip_flicker, flicker, flicker_counts, flicker_series

DAVIS = (Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "davis2016_person"
         / "Annotations" / "480p")


def box(shape, top, left, height, width) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[top : top + height, left : left + width] = True
    return mask


def test_exact_flicker_of_a_prediction_that_jumps_while_the_person_moves():
    shape = (40, 40)
    prev_truth, truth = box(shape, 10, 10, 10, 10), box(shape, 10, 12, 10, 10)  # moves 2 px
    prev_pred = prev_truth.copy()
    pred = box(shape, 10, 12, 10, 10) | box(shape, 0, 0, 2, 5)  # follows, plus a 10 px blob
    # the truth changes on 2 x (10 x 2) = 40 px; the prediction changes there and on 10 more
    assert flicker_counts(prev_pred, pred, prev_truth, truth) == (10, 120)
    assert flicker(prev_pred, pred, prev_truth, truth) == pytest.approx(10 / 120)


def test_a_prediction_that_follows_the_truth_or_stands_still_does_not_flicker():
    shape = (30, 30)
    prev_truth, truth = box(shape, 5, 5, 10, 10), box(shape, 5, 8, 10, 10)
    assert flicker(prev_truth, truth, prev_truth, truth) == 0.0
    frozen = box(shape, 5, 5, 10, 10)  # stale, which IoU penalises, not flicker
    assert flicker(frozen, frozen, prev_truth, truth) == 0.0


def test_changes_the_truth_does_not_make_count_even_inside_the_person():
    shape = (20, 20)
    truth = box(shape, 2, 2, 10, 10)
    prev_pred, pred = truth.copy(), truth.copy()
    pred[5:7, 5:10] = False  # a 10 px hole opens in a still person
    assert flicker(prev_pred, pred, truth, truth) == pytest.approx(10 / 100)


def test_pixels_ignored_in_either_frame_are_excluded():
    shape = (20, 20)
    truth = box(shape, 0, 0, 10, 10)
    prev_pred, pred = truth.copy(), truth | box(shape, 15, 0, 2, 10)  # 20 spurious px
    ignore_now = box(shape, 15, 0, 1, 10)  # hides 10 of them
    ignore_before = box(shape, 0, 0, 10, 2)  # hides 20 person px
    assert flicker_counts(prev_pred, pred, truth, truth, ignore_now) == (10, 100)
    assert flicker_counts(prev_pred, pred, truth, truth, ignore_now, ignore_before) == (10, 80)


def test_no_person_in_either_frame_is_undefined_and_left_out_of_the_clip_mean():
    shape = (10, 10)
    empty = np.zeros(shape, bool)
    assert flicker(empty, box(shape, 0, 0, 3, 3), empty, empty) is None
    assert clip_flicker([None, 0.2, None, 0.4]) == pytest.approx(0.3)
    assert clip_flicker([None, None]) is None
    assert clip_flicker([]) is None


def test_series_pairs_each_annotated_frame_with_the_previous_one():
    shape = (20, 20)
    truths = [box(shape, 5, 5 + t, 8, 8) for t in range(4)]
    predictions = [truths[0], truths[1] | box(shape, 0, 0, 1, 4), truths[2], truths[3]]
    series = flicker_series(predictions, truths)
    assert series[0] is None and len(series) == 4
    # frame 1 adds a 4 px blob, frame 2 removes it again; the person's union is 72 px
    assert series[1:] == [pytest.approx(4 / 72), pytest.approx(4 / 72), 0.0]
    assert flicker_series([], []) == []
    with pytest.raises(ValueError, match="predictions"):
        flicker_series(predictions[:2], truths)


def test_real_clip_flicker_equals_a_direct_count():
    frames = [cv2.imread(str(DAVIS / "breakdance" / f"{i:05d}.png"), 0) >= 128
              for i in range(0, 12, 3)]
    rng = np.random.default_rng(0)  # a prediction: the truth with speckle that changes
    predictions = [f ^ (rng.random(f.shape) < 0.001) for f in frames]
    series = flicker_series(predictions, frames)
    for t in range(1, len(frames)):
        pred_change = predictions[t] ^ predictions[t - 1]
        truth_change = frames[t] ^ frames[t - 1]
        expected = (pred_change & ~truth_change).sum() / (frames[t] | frames[t - 1]).sum()
        assert series[t] == pytest.approx(expected, abs=1e-12)
    assert clip_flicker(series) > 0
