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
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.imageheader import UnreadableImage, read_image_info
from ..data.maskfile import MaskFileError, decode_gray8
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


def check_predictions(dataset: Dataset, folder: Path | str) -> None:
    """Move each sample whose prediction is missing or unusable to `dataset.problems`."""
    folder = Path(folder)
    valid = []
    for sample in dataset.samples:
        reason = prediction_problem(sample, folder)
        if reason is None:
            valid.append(sample)
        else:
            dataset.problems.append(Problem(str(prediction_path(folder, sample)), reason,
                                            sample.row, sample.image_id))
    dataset.samples = valid
    dataset.problems.sort(key=lambda p: (p.row is None, p.row or 0, p.file))


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

    def person_mask(self, sample: Sample, shape: tuple[int, int], mask_threshold: float
                    ) -> np.ndarray:
        """The row's predicted person mask (value / 255 > mask_threshold), as booleans.

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
        return threshold_table(mask_threshold)[values]
