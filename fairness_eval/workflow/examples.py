"""The images behind a run's example overlays, read as the run scored them: the workflow
hands these to the reporter, which never loads a dataset itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError


def dataset_images(run_dir: Path | str) -> dict[str, Any] | None:
    """The images behind a run (image id -> an `ExampleImage` that reads image and truth),
    from the dataset path results.json records, for the card's example overlays.

    None when the run has no images to draw (a published table, or no saved masks): the
    reporter then says why.
    """
    from ..data.dataset import load_dataset
    from ..evaluation.run_dir import SAVED_MASKS_DIR
    from ..results.document import read_results

    document = read_results(run_dir)
    if document.is_table or not (Path(run_dir) / SAVED_MASKS_DIR).is_dir():
        return None
    recorded = document.dataset
    path = recorded.path if recorded is not None else None
    if not path or not Path(path).exists():
        raise UsageError(f"--examples: the dataset of this run ({path}) is not at hand")
    person_value = document.settings.values.get("mask_person_value")
    return example_images(load_dataset(path, check_files=False, images=recorded.images_dir,
                                        image_set=recorded.image_set,
                                        mask_person_value=person_value),
                           document.settings.exif)


def example_images(dataset: Any, exif: str) -> dict[str, Any] | None:
    if dataset is None:
        return None
    rotate = exif == "rotate"
    return {sample.image_id: ExampleImage(sample, rotate) for sample in dataset.samples}


@dataclass(frozen=True)
class ExampleImage:
    """A dataset row as the card's overlays read it (report.overlays.ExampleImage): the
    image as the run scored it, turned upright when the run was made with --exif rotate."""

    sample: Any
    rotate: bool = False

    def read(self) -> tuple[Any, Any, Any]:
        from ..data.formats import decode_mask
        from ..data.imageheader import read_image_info
        from ..data.orientation import UPRIGHT
        from ..evaluation.images import RowFailure, read_bgr

        path = self.sample.image
        # The orientation from the header, as validation hands it to the pipeline (an
        # unreadable header raises UnreadableImage, a ValueError: the overlay says so).
        orientation = read_image_info(path).orientation if self.rotate else UPRIGHT
        try:
            image = read_bgr(path, orientation=orientation)
        except RowFailure as error:
            raise ValueError(str(error)) from None
        truth, ignore = decode_mask(self.sample)  # PNG, VOC palette, instances, COCO
        return image, truth, ignore
