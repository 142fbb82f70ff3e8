"""File checks before inference: every file of every sample exists and is a usable image.

A mask is 8-bit single-channel; pixels >= 128 are person, anything below is background
(soft or anti-aliased masks are therefore accepted). Palette, 16-bit, RGB and grey+alpha
masks are refused, since their meaning is ambiguous. Masks must match their image's size.
A mask's values are never guessed (maskfile.py): one holding only 0 and values below 128
(a label-index mask) is refused with the way out, `--mask-person-value N`, which reads
every mask of the row as label indices (value == N is set); an ignore mask is then binary,
0 and N alone. Checking values decodes each mask, about a millisecond each.
An image above the pixel cap (--max-pixels) is a problem like any other, found from its
header, so it is never decoded. EXIF orientations are reported (see orientation.py).
Images' headers alone are read (see imageheader.py), so checking costs far less than
inference.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..config.rules import DEFAULT_MAX_PIXELS
from . import formats
from .imageheader import ImageInfo, UnreadableImage, read_image_info
from .maskfile import (
    LabelIndexMask,
    MaskFileError,
    binary_mask_reason,
    decode_gray8,
    foreign_values,
    person_pixels,
    present_values,
)
from .orientation import UPRIGHT, displayed_size
from .samples import Dataset, Problem, Sample

IGNORE_ROLE = "ignore mask"


def check_files(dataset: Dataset, *, max_pixels: int = DEFAULT_MAX_PIXELS,
                exif: str = "ignore") -> None:
    """Move each sample with an unusable file from `samples` to `problems` (one per row).

    An image above `max_pixels` is a problem (never decoded). Images with an EXIF
    orientation other than 1 are named in a note; under `exif` "rotate" they are turned
    upright before scoring (`Sample.orientation`) and their masks must fit that size.
    """
    valid = []
    oriented: list[tuple[Sample, int]] = []
    for sample in dataset.samples:
        image: list[ImageInfo] = []
        reasons = file_problems(sample, max_pixels=max_pixels, rotate=exif == "rotate",
                                image_info=image)
        if reasons:
            file, reason = reasons[0]
            extra = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
            dataset.problems.append(Problem(file, reason + extra, sample.row, sample.image_id))
            continue
        orientation = image[0].orientation if image else UPRIGHT
        if orientation != UPRIGHT:
            oriented.append((sample, orientation))
            if exif == "rotate":
                sample = replace(sample, orientation=orientation)
        valid.append(sample)
    dataset.samples = valid
    dataset.problems.sort(key=lambda p: (p.row is None, p.row or 0, p.file))
    if oriented:
        dataset.notes.append(_orientation_note(oriented, exif))


def _orientation_note(oriented: list[tuple[Sample, int]], exif: str) -> str:
    shown = ", ".join(f"{s.image.name} ({o})" for s, o in oriented[:3])
    more = f" and {len(oriented) - 3} more" if len(oriented) > 3 else ""
    if exif == "rotate":
        how = ("turned upright before scoring (--exif rotate); their masks are taken to be "
               "drawn on the displayed image")
    else:
        how = ("scored as stored, not as displayed (--exif ignore); their masks are taken to "
               "be drawn on the stored pixels (--exif rotate turns them upright)")
    return (f"{len(oriented)} image(s) carry an EXIF orientation other than 1: {shown}{more}; "
            f"{how}")


def file_problems(sample: Sample, *, max_pixels: int = DEFAULT_MAX_PIXELS,
                  rotate: bool = False, image_info: list[ImageInfo] | None = None
                  ) -> list[tuple[str, str]]:
    """(file, reason) for each file of the sample that cannot be used.

    `rotate`: masks must match the image's displayed size (its EXIF orientation applied).
    `image_info`, when given, receives the image's header facts.
    """
    problems: list[tuple[str, str]] = []
    image = _info(sample.image, "image", problems, max_pixels)
    if image is not None:
        if image.pixels > max_pixels:
            return [(str(sample.image), f"image is {image.width}x{image.height} "
                     f"({image.pixels / 1e6:,.0f} megapixels), above the limit of "
                     f"{max_pixels:,} pixels (--max-pixels)")]
        if image_info is not None:
            image_info.append(image)
    if sample.mask_format != "png":  # the format's own checks name a bad image file
        return formats.file_problems(sample)
    width, height = (0, 0) if image is None else (
        displayed_size(image.width, image.height, image.orientation) if rotate
        else (image.width, image.height))
    masks = [(sample.mask, "mask")]
    if sample.ignore is not None:
        masks.append((sample.ignore, IGNORE_ROLE))
    masks.extend((path, f"mask of annotator {name}") for name, path in sample.annotators.items())
    for path, role in masks:
        info = _info(path, role, problems, max_pixels)
        if info is None:
            continue
        if info.palette:
            problems.append((str(path), f"{role} is a palette PNG; save it as 8-bit greyscale"))
        elif info.channels != 1:
            problems.append((str(path), f"{role} has {info.channels} channels; "
                             "expected a single-channel 8-bit mask"))
        elif info.bit_depth != 8:
            problems.append((str(path), f"{role} is {info.bit_depth}-bit; expected 8-bit"))
        elif image is not None and (info.width, info.height) != (width, height):
            shown = "the upright image" if (width, height) != (image.width, image.height) \
                else "the image"
            hint = ""
            if image.orientation != UPRIGHT and not rotate:
                hint = (f" (the image's EXIF orientation is {image.orientation}; --exif rotate "
                        "turns it upright first)")
            problems.append((str(path), f"{role} is {info.width}x{info.height} but {shown} "
                             f"is {width}x{height}{hint}"))
        else:
            reason = value_problem(path, role, sample.person_value)
            if reason is not None:
                problems.append((str(path), reason))
    return problems


def value_problem(path: Path, role: str, person_value: int | None) -> str | None:
    """Why the values of an 8-bit single-channel mask cannot be read as asked (None: they
    can): a label-index mask without --mask-person-value; with it, a 0/255 mask (it would
    read as empty), or an ignore mask holding other values than 0 and N."""
    try:
        values = decode_gray8(path.read_bytes())
    except OSError as error:
        return f"{role}: {error.strerror or error}"
    except MaskFileError as error:
        return (f"{role} could not be decoded" if error.undecodable
                else f"{role} is not a single-channel 8-bit mask")
    if person_value is None:
        try:
            person_pixels(values)
        except LabelIndexMask as error:
            return f"{role} {error}"
        return None
    present = present_values(values)
    if role == IGNORE_ROLE:
        other = foreign_values(present, person_value)
        if other:
            shown = ", ".join(str(v) for v in other[:5]) + (" ..." if len(other) > 5 else "")
            return (f"{role} also holds {shown}: with --mask-person-value {person_value} an "
                    f"ignore mask holds 0 and {person_value} alone")
        return None
    reason = binary_mask_reason(present, person_value)
    return None if reason is None else f"{role} {reason}"


def _info(path: Path, role: str, problems: list[tuple[str, str]],
          max_pixels: int | None = None) -> ImageInfo | None:
    try:
        if not path.exists():
            problems.append((str(path), f"{role} file not found"))
            return None
        if not path.is_file():
            problems.append((str(path), f"{role} is not a file"))
            return None
    except OSError as error:  # symlink loops surface here on some Pythons
        problems.append((str(path), f"{role}: {error.strerror or error}"))
        return None
    try:
        return read_image_info(path, max_pixels)
    except UnreadableImage as error:
        problems.append((str(path), f"unreadable {role}: {error}"))
        return None
