"""The one decoder of 8-bit single-channel mask files (data/maskfile.py)."""

import cv2
import numpy as np
import pytest

from fairness_eval.data.maskfile import MaskFileError, decode_gray8


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
