"""Decoding one 8-bit single-channel image file: a ground-truth, ignore or annotator mask
of any layout, or a supplied prediction, and reading its values as person pixels. One
decoder and one reading, so every reader refuses the same files; each caller words the
failure for its own file.

A mask's values are never guessed. By default a mask is an 8-bit mask: a pixel is set
(person, ignored) where its value is >= 128, so soft and anti-aliased masks read as drawn.
A label-index mask (person = 1, as FiftyOne, CVAT and Label Studio export them) holds only
0 and values below 128; read that way it has no person at all, so such a mask is refused
(`LabelIndexMask`) rather than scored as empty. `--mask-person-value N` reads every mask
as label indices instead: a pixel is set where its value == N. A mask of 0 alone is empty
either way.
"""

from __future__ import annotations

import cv2
import numpy as np

PERSON_LEVEL = 128  # an 8-bit mask's pixel >= 128 is person / ignored
MASK_PERSON_OPTION = "--mask-person-value"
# A label-index mask holds a few class indices; more distinct values than this below 128
# is a soft map that happens never to reach 128, and the hint says so.
LABEL_VALUES = 8
# One image's label-index mask holds a few classes; a file with more distinct values than
# this is a probability map, not read as label indices.
MAX_LABELS = 32


class MaskFileError(ValueError):
    """The bytes are no 8-bit single-channel image; `undecodable` tells the two cases apart."""

    def __init__(self, undecodable: bool) -> None:
        self.undecodable = undecodable
        super().__init__("could not be decoded" if undecodable
                         else "is not a single-channel 8-bit image")


class LabelIndexMask(ValueError):
    """An 8-bit mask whose values are all below 128 but not all 0 (see the docstring)."""

    def __init__(self, values: np.ndarray) -> None:
        self.present = present_values(values)
        super().__init__(label_index_reason(self.present))


def decode_gray8(content: bytes) -> np.ndarray:
    """The image's values (uint8, height x width) as stored; MaskFileError otherwise."""
    image = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise MaskFileError(undecodable=True)
    if image.ndim != 2 or image.dtype != np.uint8:
        raise MaskFileError(undecodable=False)
    return image


def person_pixels(values: np.ndarray, person_value: int | None = None) -> np.ndarray:
    """A decoded mask's set pixels as booleans: value == `person_value` when given, else
    value >= 128, refusing a mask that holds only 0 and values below 128 (LabelIndexMask)."""
    if person_value is not None:
        return values == person_value
    if values.size:
        top = int(values.max())  # one pass, on the per-image path
        if 0 < top < PERSON_LEVEL:
            raise LabelIndexMask(values)
    return values >= PERSON_LEVEL


def present_values(values: np.ndarray) -> list[int]:
    """The distinct values a uint8 array holds, ascending."""
    return np.flatnonzero(np.bincount(values.ravel(), minlength=256)).tolist()


def label_index_reason(present: list[int]) -> str:
    """Why a mask holding only `present` (all < 128, not all 0) is refused, and the way out."""
    nonzero = [v for v in present if v]
    if len(present) > LABEL_VALUES:
        return (f"holds only values below {PERSON_LEVEL} (max {present[-1]}, "
                f"{len(present)} distinct values), so no pixel would be person; save it as "
                f"0/255, or pass {MASK_PERSON_OPTION} N if it is a label-index mask whose "
                "person label is N")
    shown = (", ".join(str(v) for v in present[:-1]) + " and " if len(present) > 1 else ""
             ) + str(present[-1])
    if len(nonzero) == 1:
        hint = f"pass {MASK_PERSON_OPTION} {nonzero[0]}"
    else:
        hint = f"pass {MASK_PERSON_OPTION} N, N its person label"
    return (f"holds only values {shown} (none >= {PERSON_LEVEL}, so no pixel would be "
            f"person): a label-index mask? {hint}")


def binary_mask_reason(present: list[int], person_value: int) -> str | None:
    """Why a mask of 0 and 255 alone cannot be read as label indices with person =
    `person_value` (it would be empty); None when it can."""
    if person_value == 255 or present[-1] != 255 or not set(present) <= {0, 255}:
        return None
    return (f"holds only 0 and 255 (a 0/255 mask), but {MASK_PERSON_OPTION} {person_value} "
            f"reads person where the value is {person_value}: no pixel would be person")


def foreign_values(present: list[int], person_value: int) -> list[int]:
    """The values of a binary mask (ignore mask) other than 0 and `person_value`."""
    return [v for v in present if v not in (0, person_value)]
