"""Boundary IoU against the reference algorithm on real masks, and its exact band geometry."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy import ndimage

from fairness_eval.metrics.boundary import (
    band_width,
    boundary_counts,
    boundary_iou,
    mask_to_boundary,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
VOC = SHARED / "datasets" / "voc2012_person"
DAVIS = SHARED / "datasets" / "davis2016_person" / "Annotations" / "480p"
# 2008_001249 touches the frame edge and has a part thinner than the band; 2008_001283 and
# 2008_002868 are 500 x 375 (diagonal 625: 0.02 x 625 = 12.5, the rounding tie) with
# several parts thinner than the band; 2008_000213 touches the edge.
VOC_IMAGES = ("2008_000213", "2008_001249", "2008_001283", "2008_002868")


# The oracle: the algorithm of `mask_to_boundary` in bowenc0221/boundary-iou-api
# (Cheng et al., CVPR 2021; BSD 2-clause), boundary_iou/utils/boundary_utils.py at commit
# 8006aa98e931ee410dbb1fede30271d5bc859769, written out here step for step with the same
# OpenCV calls on a 0/1 uint8 mask, independently of the module under test.
def reference_mask_to_boundary(mask: np.ndarray, dilation_ratio: float = 0.02) -> np.ndarray:
    rows, cols = mask.shape
    diagonal = np.sqrt(rows**2 + cols**2)
    iterations = int(round(dilation_ratio * diagonal))
    if iterations < 1:
        iterations = 1
    framed = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    shrunk = cv2.erode(framed, np.ones((3, 3), dtype=np.uint8), iterations=iterations)
    return mask - shrunk[1 : rows + 1, 1 : cols + 1]


def reference_boundary_iou(truth: np.ndarray, predicted: np.ndarray,
                           dilation_ratio: float = 0.02) -> float:
    truth_band = reference_mask_to_boundary(truth, dilation_ratio)
    predicted_band = reference_mask_to_boundary(predicted, dilation_ratio)
    intersection = ((truth_band * predicted_band) > 0).sum()
    union = ((truth_band + predicted_band) > 0).sum()
    return intersection / union


def read01(path: Path) -> np.ndarray:
    mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert mask is not None, path
    return (mask >= 128).astype(np.uint8)


def real_pairs() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, truth, prediction stand-in): VOC's two annotators; DAVIS frames 5 apart."""
    pairs = [(f"voc {image}", read01(VOC / "masks" / f"{image}.png"),
              read01(VOC / "masks_annotator2" / f"{image}.png")) for image in VOC_IMAGES]
    for clip in ("paragliding-launch", "breakdance", "dance-twirl"):
        pairs.append((f"davis {clip}", read01(DAVIS / clip / "00040.png"),
                      read01(DAVIS / clip / "00045.png")))
    return pairs


def touches_edge(mask: np.ndarray) -> bool:
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def has_part_thinner_than_band(mask: np.ndarray, band: np.ndarray) -> bool:
    count, labels = cv2.connectedComponents(mask)
    return any(band[labels == part].all() for part in range(1, count))


def test_real_masks_cover_the_edge_and_thin_cases():
    masks = [truth for _, truth, _ in real_pairs()]
    bands = [mask_to_boundary(m) for m in masks]
    assert any(touches_edge(m) for m in masks)
    assert sum(has_part_thinner_than_band(m, b) for m, b in zip(masks, bands, strict=True)) >= 3
    assert any(m.shape == (375, 500) for m in masks)


@pytest.mark.parametrize("ratio", [0.02, 0.005, 0.05])
def test_band_is_the_reference_band_on_real_masks(ratio):
    for name, truth, predicted in real_pairs():
        for mask in (truth, predicted):
            expected = reference_mask_to_boundary(mask, ratio) > 0
            assert np.array_equal(mask_to_boundary(mask, ratio), expected), name


@pytest.mark.parametrize("ratio", [0.02, 0.005])
def test_boundary_iou_is_the_reference_value_on_real_masks(ratio):
    values = []
    for name, truth, predicted in real_pairs():
        ours = boundary_iou(predicted, truth, ratio=ratio)
        expected = reference_boundary_iou(truth, predicted, ratio)
        assert ours == pytest.approx(expected, abs=1e-9), name
        values.append(ours)
    assert 0.0 < min(values) < max(values) < 1.0  # the pairs really differ along their edges


def random_masks(count: int) -> list[np.ndarray]:
    """Seeded masks of ellipses and bars of every size, some cut by the frame, some full."""
    rng = np.random.default_rng(7)
    masks = [np.ones((40, 70), np.uint8), np.zeros((40, 70), np.uint8)]
    while len(masks) < count:
        rows, cols = int(rng.integers(5, 400)), int(rng.integers(5, 400))
        mask = np.zeros((rows, cols), np.uint8)
        for _ in range(int(rng.integers(1, 5))):
            centre = (int(rng.integers(-20, cols + 20)), int(rng.integers(-20, rows + 20)))
            axes = (int(rng.integers(1, cols)), int(rng.integers(1, rows)))
            cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
            if rng.random() < 0.5:  # a bar thinner than the band
                x = int(rng.integers(0, cols))
                mask[:, x:x + int(rng.integers(1, 4))] = 1
        masks.append(mask)
    return masks


@pytest.mark.parametrize("ratio", [0.02, 0.1])
def test_band_is_the_reference_band_on_random_masks(ratio):
    # The band is computed inside each mask's bounding box only: masks at every position,
    # size and frame contact must still give the whole-image reference band.
    for mask in random_masks(60):
        expected = reference_mask_to_boundary(mask, ratio) > 0
        assert np.array_equal(mask_to_boundary(mask, ratio), expected), mask.shape
        assert np.array_equal(mask_to_boundary(mask.astype(bool), ratio), expected)


def test_band_width_rounds_as_the_reference_does():
    # 0.02 x 625 = 12.5: Python's round (half to even) gives 12, not 13
    assert band_width((375, 500)) == 12
    assert band_width((480, 854)) == round(0.02 * np.hypot(480, 854)) == 20
    assert band_width((10, 10)) == 1  # 0.28 rounds to 0: at least one pixel


def test_band_is_erosion_by_a_square_of_side_2d_plus_1_with_zeros_outside():
    truth = read01(VOC / "masks" / "2008_001249.png")
    d = band_width(truth.shape)
    eroded = ndimage.binary_erosion(truth, np.ones((2 * d + 1, 2 * d + 1)), border_value=0)
    assert np.array_equal(mask_to_boundary(truth), truth.astype(bool) & ~eroded)


def test_exact_band_of_a_rectangle_inside_at_and_thinner_than_the_band():
    shape = (100, 100)  # diagonal 141.4: d = 3
    assert band_width(shape) == 3
    inside = np.zeros(shape, np.uint8)
    inside[20:60, 30:80] = 1  # 40 x 50
    assert mask_to_boundary(inside).sum() == 40 * 50 - 34 * 44
    at_edge = np.zeros(shape, np.uint8)
    at_edge[0:40, 0:50] = 1  # cut by the top and left edges: a band there too
    assert mask_to_boundary(at_edge).sum() == 40 * 50 - 34 * 44
    thin = np.zeros(shape, np.uint8)
    thin[10:90, 50:56] = 1  # 6 px wide < 2d + 1 = 7: all band
    assert mask_to_boundary(thin).sum() == thin.sum()


def test_both_empty_is_one_and_one_empty_is_zero():
    empty = np.zeros((50, 50), bool)
    person = np.zeros((50, 50), bool)
    person[10:30, 10:30] = True
    assert boundary_iou(empty, empty) == 1.0
    assert boundary_iou(empty, person) == 0.0
    assert boundary_iou(person, person) == 1.0


def test_ignored_pixels_are_left_out_of_both_counts():
    truth = read01(VOC / "masks" / "2008_001283.png")
    predicted = read01(VOC / "masks_annotator2" / "2008_001283.png")
    ignore = read01(VOC / "ignore" / "2008_001283.png").astype(bool)
    predicted_band, truth_band = mask_to_boundary(predicted), mask_to_boundary(truth)
    scored = ~ignore
    expected = ((predicted_band & truth_band & scored).sum(),
                ((predicted_band | truth_band) & scored).sum())
    assert boundary_counts(predicted, truth, ignore) == expected
    assert (predicted_band & ignore).any()  # the void band really removes pixels here
    assert boundary_iou(predicted, truth, ignore) != boundary_iou(predicted, truth)


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="shapes differ"):
        boundary_iou(np.zeros((4, 4)), np.zeros((4, 5)))
