"""IoU, its edge cases, the ignore mask and inter-annotator agreement."""

import numpy as np
import pytest

from fairness_eval.metrics.masks import (
    annotator_ious,
    iou_from_counts,
    mask_counts,
    mask_iou,
    to_binary,
)


def masks(*rows: str) -> np.ndarray:
    return np.array([[c == "#" for c in row] for row in rows])


def test_counts_and_iou_of_overlapping_squares():
    predicted = np.zeros((10, 10), bool)
    truth = np.zeros((10, 10), bool)
    predicted[0:4, 0:4] = True  # 16 px
    truth[2:6, 2:6] = True  # 16 px, overlap 2x2 = 4
    counts = mask_counts(predicted, truth)
    assert (counts.intersection, counts.union, counts.gt_area, counts.pred_area) == (4, 28, 16, 16)
    assert counts.iou == pytest.approx(4 / 28)


def test_both_empty_is_one_and_flagged():
    empty = np.zeros((5, 5), bool)
    counts = mask_counts(empty, empty)
    assert counts.union == 0 and counts.both_empty and counts.iou == 1.0
    assert iou_from_counts(0, 0) == 1.0


def test_prediction_empty_against_person_is_zero():
    truth = masks("##", "..")
    counts = mask_counts(np.zeros_like(truth), truth)
    assert counts.iou == 0.0 and not counts.both_empty


def test_ignored_pixels_count_for_neither_mask():
    predicted = masks("###.", "....")
    truth = masks(".##.", "....")
    ignore = masks("#...", "....")  # the only disagreement is ignored
    counts = mask_counts(predicted, truth, ignore)
    assert counts.iou == 1.0
    assert counts.ignored_pixels == 1
    assert counts.pred_area == 2  # the ignored predicted pixel is not scored
    assert mask_iou(predicted, truth) == pytest.approx(2 / 3)


def test_everything_ignored_counts_as_both_empty():
    truth = masks("##")
    counts = mask_counts(truth, truth, ignore=masks("##"))
    assert counts.both_empty and counts.iou == 1.0


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shapes differ"):
        mask_counts(np.zeros((2, 2), bool), np.zeros((2, 3), bool))


def test_threshold_of_eight_bit_masks_is_128():
    assert to_binary(np.array([0, 127, 128, 255], np.uint8)).tolist() == [False, False, True, True]


def test_annotator_ious_pairs_and_mean():
    primary = masks("####")
    others = {"b": masks("##.."), "c": masks("###.")}
    result = annotator_ious(primary, others)
    assert result["iou_b"] == pytest.approx(0.5)
    assert result["iou_c"] == pytest.approx(0.75)
    assert result["iou_b_vs_c"] == pytest.approx(2 / 3)
    assert result["inter_annotator_iou"] == pytest.approx((0.5 + 0.75 + 2 / 3) / 3)


def test_no_other_annotator_gives_no_agreement():
    assert annotator_ious(masks("#"), {}) == {}
