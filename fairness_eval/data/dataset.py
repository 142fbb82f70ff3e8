"""Loading an evaluation set: detect its layout, load it, select attributes, check files.

Two input forms, one result (see samples.py). A *folder* holds `images/` and `masks/`
(folder.py); a *manifest* is a CSV or JSON Lines file listing the files (manifest.py).
Row-level problems are collected, not raised, so that every problem is reported at once.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..config.rules import DEFAULT_MAX_PIXELS
from ..errors import UsageError
from . import file_checks
from .attributes import select_attributes
from .folder import load_folder
from .formats import PNG, detect_layout, load_layout
from .formats.tabular import TableDataset, detect_table, load_table
from .manifest import find_manifest, load_manifest
from .samples import Dataset
from .video import VideoDataset, check_video_files, detect_video_layout, load_video_dataset


def load_dataset(
    path: Path | str,
    attributes: tuple[str, ...] | list[str] = (),
    check_files: bool = True,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    exif: str = "ignore",
    images: Path | str | None = None,
    image_set: str | None = None,
    mask_person_value: int | None = None,
    image_column: str | None = None,
    mask_column: str | None = None,
    configured: tuple[str, ...] = (),
) -> Dataset:
    """Load a dataset folder, manifest or format (COCO, VOC devkit, Penn-Fudan); validate
    every row.

    `max_pixels`: a larger image is a row problem. `exif`: "ignore" reports each image with
    an EXIF orientation (a note) and scores its stored pixels; "rotate" turns it upright
    first (its mask must then match the displayed size). `images`: COCO only, the folder
    the annotation file's `file_name`s are relative to. `image_set`: VOC only, the list
    ImageSets/Segmentation/<image_set>.txt instead of every labelled image.
    `mask_person_value` (--mask-person-value N): masks are label indices, person where the
    value is N (data/maskfile.py); for a VOC devkit, the person class. None: 8-bit masks,
    >= 128 is person (and a mask of 0 and values below 128 alone is a row problem).
    `image_column`, `mask_column`: a table's (Hugging Face `datasets` folder, Parquet)
    columns of images and masks (default "image", "mask"; formats/tabular.py).
    `attributes`: those evaluated (default: the columns of a standard vocabulary and those
    `configured`, a configuration's [attributes.NAME] tables; on a dataset with neither,
    every categorical column: attributes.select_attributes).

    Raises UsageError for problems that stop the whole dataset (missing path, unreadable
    or malformed manifest, empty dataset, an --attribute that names no column). Row-level
    problems are returned in `Dataset.problems`; those rows are not in `samples`.
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"--dataset: {path} does not exist")
    layout = detect_layout(path)
    video_layout = detect_video_layout(path)
    table = detect_table(path) if layout is None and video_layout is None else None
    if table is None and (image_column is not None or mask_column is not None):
        option = "--image-column" if image_column is not None else "--mask-column"
        raise UsageError(f"{option}: only for a Hugging Face dataset folder or Parquet; "
                         f"{path} is neither")
    if (images is not None or image_set is not None) and (layout is None or video_layout):
        option = "--images" if images is not None else "--image-set"
        kind = "COCO annotation files" if images is not None else "VOC devkit folders"
        raise UsageError(f"{option}: only for {kind}; {path} is not one")
    if mask_person_value is not None and not video_layout and layout in ("coco", "penn-fudan"):
        raise UsageError(f"--mask-person-value {mask_person_value}: {path} is a {layout} "
                         "dataset, whose masks are not read by value (the option is for mask "
                         "files and the VOC devkit)")
    if video_layout is not None:
        dataset = load_video_dataset(path, video_layout)
    elif layout is not None:
        dataset = load_layout(path, layout, images=None if images is None else Path(images),
                              image_set=image_set, person_class=mask_person_value)
    elif table is not None:
        dataset = load_table(path, table, image_column, mask_column)
    elif path.is_dir():
        manifest = find_manifest(path)
        dataset = load_manifest(manifest) if manifest else load_folder(path)
    elif path.is_file():
        dataset = load_manifest(path)
    else:  # a device or a pipe: /dev/zero would be read until memory runs out
        raise UsageError(f"--dataset: {path} is neither a folder nor a regular file")
    if mask_person_value is not None:
        dataset.samples = [replace(s, person_value=mask_person_value)
                           if s.mask_format == PNG else s for s in dataset.samples]
    if dataset.rows == 0:
        raise UsageError(f"{dataset.source}: empty dataset (no rows to evaluate)")
    select_attributes(dataset, tuple(attributes), tuple(configured))
    if check_files and isinstance(dataset, VideoDataset):
        check_video_files(dataset)
    elif check_files:
        file_checks.check_files(dataset, max_pixels=max_pixels, exif=exif)
    if isinstance(dataset, TableDataset):
        dataset.name_table_files()
    return dataset

