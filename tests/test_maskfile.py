"""The one decoder of 8-bit single-channel mask files and the one reading of their values
(data/maskfile.py): never guessed."""

import cv2
import numpy as np
import pytest

from fairness_eval.data.maskfile import (
    LabelIndexMask,
    MaskFileError,
    binary_mask_reason,
    decode_gray8,
    person_pixels,
    present_values,
)


def _png(array: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", array)
    assert ok
    return encoded.tobytes()


def test_values_come_back_as_stored():
    mask = np.array([[0, 127, 128, 255]], dtype=np.uint8)
    assert np.array_equal(decode_gray8(_png(mask)), mask)


@pytest.mark.parametrize(("content", "undecodable"), [
    (b"not an image", True),
    (_png(np.zeros((2, 2, 3), np.uint8)), False),  # colour
    (_png(np.zeros((2, 2), np.uint16)), False),  # 16-bit
])
def test_other_files_are_refused_and_told_apart(content, undecodable):
    with pytest.raises(MaskFileError) as refused:
        decode_gray8(content)
    assert refused.value.undecodable is undecodable


# --------------------------------------------------------------------------- reading values


def test_an_8bit_mask_is_set_from_128():
    values = np.array([[0, 1, 127, 128, 200, 255]], dtype=np.uint8)
    assert person_pixels(values).tolist() == [[False, False, False, True, True, True]]


def test_an_empty_mask_is_empty_either_way():
    values = np.zeros((3, 4), np.uint8)
    assert not person_pixels(values).any()
    assert not person_pixels(values, 1).any()


def test_a_label_index_mask_is_refused_naming_the_option():
    values = np.array([[0, 0, 1, 1]], dtype=np.uint8)
    with pytest.raises(LabelIndexMask) as refused:
        person_pixels(values)
    assert refused.value.present == [0, 1]
    assert str(refused.value) == ("holds only values 0 and 1 (none >= 128, so no pixel would "
                                  "be person): a label-index mask? pass --mask-person-value 1")


def test_with_the_option_a_pixel_is_set_where_its_value_is_n():
    values = np.array([[0, 1, 2, 15, 255]], dtype=np.uint8)
    assert person_pixels(values, 1).tolist() == [[False, True, False, False, False]]
    assert person_pixels(values, 15).tolist() == [[False, False, False, True, False]]


def test_a_multi_class_label_mask_asks_for_its_person_label():
    values = np.array([[0, 3, 7, 15]], dtype=np.uint8)
    with pytest.raises(LabelIndexMask, match=r"holds only values 0, 3, 7 and 15 .*pass "
                       r"--mask-person-value N, N its person label$"):
        person_pixels(values)


def test_a_soft_mask_that_never_reaches_128_is_refused_as_such():
    values = np.arange(100, dtype=np.uint8).reshape(10, 10)
    with pytest.raises(LabelIndexMask, match=r"holds only values below 128 \(max 99, 100 "
                       r"distinct values\), so no pixel would be person; save it as 0/255"):
        person_pixels(values)


def test_a_mask_of_one_value_below_128_names_it():
    with pytest.raises(LabelIndexMask, match=r"holds only values 5 \(.*pass "
                       r"--mask-person-value 5$"):
        person_pixels(np.full((2, 2), 5, np.uint8))


def test_a_0_255_mask_cannot_be_read_with_another_person_value():
    assert "a 0/255 mask" in binary_mask_reason([0, 255], 1)
    assert binary_mask_reason([0, 255], 255) is None
    assert binary_mask_reason([0, 1, 255], 1) is None  # a label mask with a void label
    assert binary_mask_reason([0, 1], 1) is None
    assert present_values(np.array([[3, 0, 3, 255]], np.uint8)) == [0, 3, 255]
