"""Derived attributes on synthetic masks with exact expectations, and their card order."""

from __future__ import annotations

import numpy as np
import pytest

from fairness_eval.data.derived import (
    BRIGHTNESS_LABELS,
    SHARE_BINS,
    brightness_label,
    count_people,
    derive_attributes,
    people_label,
    person_luma,
    person_share,
    person_share_label,
)
from fairness_eval.results.labels import group_order


def frame_with(pixels: int, shape=(100, 100)) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask.flat[:pixels] = True
    return mask


@pytest.mark.parametrize(("pixels", "label"), [
    (0, "0-5 %"), (499, "0-5 %"), (500, "5-20 %"), (1999, "5-20 %"), (2000, "20-50 %"),
    (4999, "20-50 %"), (5000, "50-100 %"), (10000, "50-100 %")])
def test_person_share_bins_are_half_open_at_5_20_50_percent(pixels, label):
    mask = frame_with(pixels)
    assert person_share(mask) == pixels / 10000
    assert person_share_label(person_share(mask)) == label


def test_people_counts_components_above_one_percent_of_the_person_area():
    mask = np.zeros((100, 100), bool)
    assert count_people(mask) == 0
    mask[0:30, 0:30] = True  # 900 px
    assert count_people(mask) == 1
    mask[50:60, 50:60] = True  # 100 px: 100 / 1000 = 10 % -> a second person
    assert count_people(mask) == 2
    mask[90:93, 90:93] = True  # 9 px of 1009: 0.9 % -> a fragment
    assert count_people(mask) == 2
    mask[0:4, 90:94] = True  # 16 px of 1025: 1.6 % -> a third
    assert count_people(mask) == 3
    assert [people_label(n) for n in (0, 1, 2, 3, 7)] == ["0", "1", "2", "3+", "3+"]


def test_people_are_8_connected_and_fragments_alone_count_as_one():
    diagonal = np.eye(20, dtype=bool)  # touching only at corners: one component
    assert count_people(diagonal) == 1
    speckle = np.zeros((300, 300), bool)
    speckle[::3, ::3] = True  # 10 000 single pixels, each 0.01 % of the area
    assert count_people(speckle) == 1


def test_brightness_is_rec601_luma_over_the_person_only():
    image = np.zeros((10, 10, 3), np.uint8)
    image[:5] = (200, 100, 50)  # luma 0.299*200 + 0.587*100 + 0.114*50 = 124.2
    image[5:] = (255, 255, 255)  # background, left out
    truth = np.zeros((10, 10), bool)
    truth[:5] = True
    assert person_luma(image, truth) == pytest.approx(124.2)
    assert brightness_label(124.2) == "luma 85-170 (mid)"
    assert [brightness_label(v) for v in (0, 84.99, 85, 169.99, 170, 255)] == [
        BRIGHTNESS_LABELS[0], BRIGHTNESS_LABELS[0], BRIGHTNESS_LABELS[1],
        BRIGHTNESS_LABELS[1], BRIGHTNESS_LABELS[2], BRIGHTNESS_LABELS[2]]
    assert person_luma(image, np.zeros((10, 10), bool)) is None
    assert brightness_label(None) is None
    grey = np.full((10, 10), 90, np.uint8)
    assert person_luma(grey, truth) == 90.0


def test_derive_attributes_labels_one_image():
    image = np.full((100, 100, 3), 30, np.uint8)
    truth = np.zeros((100, 100), bool)
    truth[0:50, 0:40] = True  # 20 %
    truth[70:80, 70:80] = True  # 1 %, 100 / 2100 of the person -> a second person
    assert derive_attributes(truth, image) == {
        "person_share": "20-50 %", "people": "2", "brightness": "luma 0-85 (dark)"}
    assert derive_attributes(truth, names=("people",)) == {"people": "2"}
    with pytest.raises(ValueError, match="brightness needs the image"):
        derive_attributes(truth, names=("brightness",))
    with pytest.raises(ValueError, match="unknown derived attribute"):
        derive_attributes(truth, image, names=("height",))


def test_labels_sort_from_low_to_high_in_the_cards_order():
    share_labels = [label for _, label in SHARE_BINS]
    assert sorted(reversed(share_labels), key=group_order) == share_labels
    people = ["0", "1", "2", "3+"]
    assert sorted(reversed(people), key=group_order) == people
    assert sorted(reversed(BRIGHTNESS_LABELS), key=group_order) == list(BRIGHTNESS_LABELS)
