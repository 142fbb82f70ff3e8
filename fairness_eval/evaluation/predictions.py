"""Supplied predictions (`--predictions DIR`): masks or probability maps made elsewhere.

Any framework can write them: one 8-bit single-channel PNG per image, named
`<image id>.png` (the image's file name without its suffix, as per_image.csv's `image`
column and `--save-masks` name them), the size of the image. A pixel is person where

    value / 255 > mask_threshold          (--threshold, default 0.5: value >= 128)

so a binary mask (0 / 255) reads the same at every threshold, and a probability map
scaled to 0..255 is cut like a model's probability. No model runs. Missing, unreadable,
multi-channel, 16-bit, palette or mis-sized files are validation problems of their row,
listed with every other problem before anything is evaluated (`--skip-invalid` applies).
The folder is recorded by its SHA-256 (`folder_sha256`).

Values are never guessed (data/maskfile.py). A label-index prediction (0 and 1) would read
as empty at every threshold, so a file holding only 0 and a few values below 128 is a
problem of its row naming --mask-person-value, unless another file of the folder reaches
128: then the folder holds probability maps, and that file is one that never came near
0.5 (an image without a person), read as it is. A low-confidence map with many distinct
values is never taken for a label mask. With `--mask-person-value N` every file is read
as label indices (person where value == N, whatever --threshold); a file with more
distinct values than a label mask holds (a probability map), or a 0/255 mask, is then a
problem of its row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.imageheader import UnreadableImage, read_image_info
from ..data.maskfile import (
    LABEL_VALUES,
    MASK_PERSON_OPTION,
    MAX_LABELS,
    PERSON_LEVEL,
    MaskFileError,
    binary_mask_reason,
    decode_gray8,
    label_index_reason,
    present_values,
)
from ..data.samples import Dataset, Problem, Sample
from ..errors import UsageError
from .images import RowFailure

PREDICTION_SUFFIX = ".png"


def prediction_path(folder: Path, sample: Sample) -> Path:
    """Where the supplied prediction of a row is: `<folder>/<image id>.png`."""
    return Path(folder) / f"{sample.image_id}{PREDICTION_SUFFIX}"


def threshold_table(mask_threshold: float) -> np.ndarray:
    """For each 8-bit value v, whether v / 255 > mask_threshold (a 256-entry lookup)."""
    return np.arange(256, dtype=np.float64) / 255.0 > mask_threshold


def folder_sha256(folder: Path | str) -> tuple[str, int, int]:
    """(SHA-256, file count, total bytes) of the PNG files directly in `folder`.

    The hash is the SHA-256 of the lines `<file name> <SHA-256 of its bytes>\\n`, one per
    `*.png` file, sorted by name: any added, removed, renamed or changed file changes it.
    """
    folder = Path(folder)
    digest = hashlib.sha256()
    count = size = 0
    try:
        files = sorted(p for p in folder.iterdir()
                       if p.suffix.lower() == PREDICTION_SUFFIX and p.is_file())
        for path in files:
            data = path.read_bytes()
            digest.update(f"{path.name} {hashlib.sha256(data).hexdigest()}\n".encode())
            count += 1
            size += len(data)
    except OSError as error:
        raise UsageError(f"--predictions: cannot read {folder} "
                         f"({error.strerror or error})") from None
    return digest.hexdigest(), count, size


def check_predictions(dataset: Dataset, folder: Path | str,
                      person_value: int | None = None) -> None:
    """Move each sample whose prediction is missing or unusable to `dataset.problems`,
    its values read as `person_value` says (--mask-person-value; see the docstring)."""
    folder = Path(folder)
    valid = []
    reasons: dict[int, str] = {}
    label_like: list[tuple[Sample, list[int]]] = []  # held until the folder is known
    reaches_person = False
    for sample in dataset.samples:
        reason = prediction_problem(sample, folder)
        present = _present(prediction_path(folder, sample)) if reason is None else None
        if present is not None and person_value is not None:
            reason = _label_problem(present, person_value)
        elif present is not None and person_value is None:
            reaches_person = reaches_person or present[-1] >= PERSON_LEVEL
            if 0 < present[-1] < PERSON_LEVEL and len(present) <= LABEL_VALUES:
                label_like.append((sample, present))
        if reason is not None:
            reasons[id(sample)] = reason
        valid.append(sample)
    if not reaches_person:
        for sample, present in label_like:
            reasons[id(sample)] = f"prediction {label_index_reason(present)}"
    for sample in valid:
        if id(sample) in reasons:
            dataset.problems.append(Problem(str(prediction_path(folder, sample)),
                                            reasons[id(sample)], sample.row, sample.image_id))
    dataset.samples = [s for s in valid if id(s) not in reasons]
    dataset.problems.sort(key=lambda p: (p.row is None, p.row or 0, p.file))


def _label_problem(present: list[int], person_value: int) -> str | None:
    """Why a prediction cannot be read as label indices with person = `person_value`."""
    if len(present) > MAX_LABELS:
        return (f"prediction holds {len(present)} distinct values (a probability map?), but "
                f"{MASK_PERSON_OPTION} {person_value} reads predictions as label indices "
                f"(person where the value is {person_value})")
    reason = binary_mask_reason(present, person_value)
    return None if reason is None else f"prediction {reason}"


def _present(path: Path) -> list[int] | None:
    """The distinct values of a prediction file; None when it cannot be decoded (its
    row then fails as it is evaluated, naming the reason)."""
    try:
        return present_values(decode_gray8(path.read_bytes()))
    except (OSError, MaskFileError):
        return None


def prediction_problem(sample: Sample, folder: Path) -> str | None:
    """Why the supplied prediction of a row cannot be used (None: it can)."""
    path = prediction_path(folder, sample)
    if not path.is_file():
        return "prediction file not found" if not path.exists() else "prediction is not a file"
    try:
        info = read_image_info(path)
    except UnreadableImage as error:
        return f"unreadable prediction: {error}"
    if info.palette:
        return "prediction is a palette PNG; save it as 8-bit greyscale"
    if info.channels != 1:
        return f"prediction has {info.channels} channels; expected a single-channel 8-bit PNG"
    if info.bit_depth != 8:
        return f"prediction is {info.bit_depth}-bit; expected 8-bit"
    try:
        image = read_image_info(sample.image)
    except UnreadableImage:
        return None  # the image's own check reports it
    if (info.width, info.height) != (image.width, image.height):
        return (f"prediction is {info.width}x{info.height} but the image is "
                f"{image.width}x{image.height}")
    return None


@dataclass(frozen=True)
class SuppliedPredictions:
    """The predictions folder of a run, in place of a model (picklable for the workers)."""

    folder: Path
    person_value: int | None = None  # --mask-person-value: person where value == N

    def person_mask(self, sample: Sample, shape: tuple[int, int], mask_threshold: float
                    ) -> np.ndarray:
        """The row's predicted person mask (value / 255 > mask_threshold, or value ==
        person_value when set), as booleans.

        `shape` is the image's (height, width). RowFailure when the file cannot be decoded
        or no longer fits (it passed validation but changed, or is corrupt past its header).
        """
        path = prediction_path(self.folder, sample)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise RowFailure(f"{path}: prediction cannot be read "
                             f"({error.strerror or error})") from None
        try:
            values = decode_gray8(data)
        except MaskFileError as error:
            raise RowFailure(f"{path}: prediction could not be decoded" if error.undecodable
                             else f"{path}: prediction is not a single-channel 8-bit PNG"
                             ) from None
        if values.shape != shape:
            raise RowFailure(f"{path}: prediction is {values.shape[1]}x{values.shape[0]} but "
                             f"the image is {shape[1]}x{shape[0]}")
        if self.person_value is not None:
            return values == self.person_value
        return threshold_table(mask_threshold)[values]
