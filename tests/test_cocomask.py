"""COCO RLE and polygon decoding (data/formats/cocomask.py) against the COCO API itself
(pycocotools, when installed: `pip install pycocotools`; those comparisons skip without it)
and against the encoding's definition, on the shared VOC person masks."""

from __future__ import annotations

import numpy as np
import pytest
from format_helpers import folder_masks, person_instances, polygons, sample_stems

from fairness_eval.data.formats.cocomask import (
    SegmentationError,
    check_segmentation,
    decode_counts_string,
    decode_rle,
    encode_counts_string,
    encode_mask,
    mask_to_rle_counts,
    polygon_mask,
    rle_counts_to_mask,
    segmentation_mask,
)

STEMS = sample_stems(24)
# pycocotools calls numpy in a way numpy 2 deprecates; not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools.mask")


@pytest.fixture(scope="module")
def coco_api():
    return pytest.importorskip(
        "pycocotools.mask", reason="pycocotools not installed (pip install pycocotools): "
        "the comparison with the COCO API is skipped")


def test_counts_and_strings_follow_the_definition():
    # 2x2, only the top-left pixel set: column-major 1,0,0,0 -> runs of 0, 1 and 3 pixels.
    mask = np.array([[1, 0], [0, 0]], dtype=bool)
    assert mask_to_rle_counts(mask) == [0, 1, 3]
    assert encode_mask(mask) == {"size": [2, 2], "counts": "013"}
    # From the fourth count on, the difference to the count two before is written:
    # 3 - 10 = -7 is one 5-bit group 11001 (sign bit set) -> chr(25 + 48) = "I".
    assert encode_counts_string([0, 10, 2, 3]) == "0:2I"
    assert decode_counts_string("0:2I") == [0, 10, 2, 3]
    # 40 needs two groups: 01000 with the continuation bit (+32), then 00001.
    assert encode_counts_string([40]) == "X1" and decode_counts_string("X1") == [40]


def test_masks_round_trip_through_both_rle_forms():
    for stem in STEMS:
        mask = folder_masks(stem)[0] > 0
        counts = mask_to_rle_counts(mask)
        assert sum(counts) == mask.size and sum(counts[1::2]) == mask.sum()
        assert np.array_equal(rle_counts_to_mask(counts, *mask.shape), mask)
        assert np.array_equal(decode_rle(encode_mask(mask), *mask.shape), mask)
        assert decode_counts_string(encode_counts_string(counts)) == counts


def test_rle_agrees_with_the_coco_api(coco_api):
    for stem in STEMS:
        mask, ignore = (m > 0 for m in folder_masks(stem))
        theirs = coco_api.encode(np.asfortranarray(mask.astype(np.uint8)))
        assert encode_mask(mask)["counts"] == theirs["counts"].decode("ascii")
        ours = {"size": list(theirs["size"]), "counts": theirs["counts"].decode("ascii")}
        assert np.array_equal(decode_rle(ours, *mask.shape), mask)
        # Uncompressed counts, as crowd regions are stored, read the same by both.
        counts = {"size": list(ignore.shape), "counts": mask_to_rle_counts(ignore)}
        compressed = coco_api.frPyObjects(counts, *ignore.shape)
        assert np.array_equal(coco_api.decode(compressed).astype(bool), ignore)
        assert np.array_equal(decode_rle(counts, *ignore.shape), ignore)


def test_polygons_from_real_outlines_fill_as_the_coco_api_fills(coco_api):
    compared = 0
    for stem in STEMS:
        labels = person_instances(stem)
        height, width = labels.shape
        for instance in range(1, labels.max() + 1):
            outline = polygons(labels == instance)
            if not outline:
                continue
            theirs = coco_api.decode(coco_api.merge(coco_api.frPyObjects(outline, height, width)))
            ours = segmentation_mask(outline, height, width)
            assert np.array_equal(ours, theirs.astype(bool)), (stem, instance)
            compared += 1
    assert compared >= len(STEMS)


def test_random_polygons_fill_as_the_coco_api_fills(coco_api):
    """Edge cases real outlines rarely hit: vertices outside the image, fractional and
    repeated vertices, self-intersections."""
    rng = np.random.default_rng(14)
    for trial in range(400):
        height, width = (int(v) for v in rng.integers(4, 90, 2))
        points = rng.uniform(-4, max(height, width) + 4, 2 * int(rng.integers(3, 10)))
        if trial % 3 == 0:
            points = np.round(points)
        if trial % 5 == 0:
            points[2:4] = points[0:2]
        polygon = points.tolist()
        theirs = coco_api.decode(coco_api.frPyObjects([polygon], height, width))[:, :, 0]
        assert np.array_equal(polygon_mask(polygon, height, width), theirs.astype(bool)), trial


@pytest.mark.parametrize("segmentation, reason", [
    ({"size": [3, 4], "counts": [0, 12]}, "not the image's [4, 3]"),
    ({"size": [4, 3], "counts": [0, 5]}, "cover 5 pixels, not 4x3 = 12"),
    ({"size": [4, 3], "counts": [3, -1, 10]}, "non-negative, not -1"),
    ({"size": [4, 3], "counts": "0\x7f"}, "invalid character"),
    ({"size": [4, 3], "counts": "X"}, "ends in the middle of a count"),
    ({"size": [4, 3], "counts": [1.5, 10.5]}, "string or a list of integers"),
    ([[0, 0, 2, 0, 2]], "even number (>= 6) of coordinates, not 5"),
    ([[0, 0, 2, 0, 2, "2"]], "list of numbers"),
    ([[0, 0, 2, 0, float("nan"), 2]], "finite"),
    ([], "non-empty list of polygons or an RLE dict"),
])
def test_bad_segmentations_say_why(segmentation, reason):
    with pytest.raises(SegmentationError, match=reason.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        check_segmentation(segmentation, 4, 3)
    with pytest.raises(SegmentationError):
        segmentation_mask(segmentation, 4, 3)
