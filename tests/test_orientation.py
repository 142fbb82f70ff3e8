"""data/orientation.py and the EXIF orientation imageheader.py reads, against Pillow."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from fairness_eval.data.imageheader import read_image_info
from fairness_eval.data.orientation import apply_orientation, displayed_size, exif_orientation


@pytest.mark.parametrize("kind", ["JPEG", "PNG"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_each_orientation_is_read_and_turned_as_pillow_does(tmp_path: Path, kind: str,
                                                            orientation: int) -> None:
    stored = np.random.default_rng(orientation).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"image.{kind.lower()}"
    Image.fromarray(stored).save(path, kind, exif=exif.tobytes(),
                                 **({"quality": 100} if kind == "JPEG" else {}))
    info = read_image_info(path)
    assert (info.width, info.height, info.orientation) == (10, 6, orientation)
    decoded = np.asarray(Image.open(path).convert("RGB"))
    upright = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    turned = apply_orientation(decoded, orientation)
    assert np.array_equal(turned, upright)
    assert displayed_size(info.width, info.height, orientation) == (turned.shape[1],
                                                                    turned.shape[0])


def test_an_image_without_exif_is_upright(tmp_path: Path) -> None:
    path = tmp_path / "plain.jpg"
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(path, "JPEG")
    assert read_image_info(path).orientation == 1


@pytest.mark.parametrize("kind", ["JPEG", "PNG"])
def test_big_endian_exif_is_read_as_pillow_reads_it(tmp_path: Path, kind: str) -> None:
    # Pillow writes "II" (little-endian) EXIF by default; cameras write "MM" just as often.
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif.endian = ">"
        exif[0x0112] = orientation
        block = exif.tobytes()
        assert block.startswith(b"Exif\0\0MM")
        path = tmp_path / f"{orientation}.{kind.lower()}"
        Image.fromarray(np.zeros((6, 10, 3), np.uint8)).save(path, kind, exif=block)
        assert read_image_info(path).orientation == orientation
        assert Image.open(path).getexif()[0x0112] == orientation


@pytest.mark.parametrize("block", [b"Exif\0\0garbage", b"Exif\0\0II*\0\xff\xff\xff\x00",
                                   b"Exif\0\0II*\0\x08\0\0\0\x05\0\x12\x01\x03\0"])
def test_corrupt_exif_is_upright_without_a_warning(tmp_path: Path, block: bytes) -> None:
    path = tmp_path / "corrupt.jpg"
    Image.fromarray(np.zeros((6, 10, 3), np.uint8)).save(path, "JPEG", exif=block)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's "Corrupt EXIF data" warning fails it
        info = read_image_info(path)
    assert (info.width, info.height, info.orientation) == (10, 6, 1)


def test_exif_orientation_values_outside_1_to_8_are_upright() -> None:
    for value, expected in ((0, 1), (9, 1), (6, 6), (65535, 1)):
        exif = Image.Exif()
        exif[0x0112] = value
        assert exif_orientation(exif.tobytes()) == expected
    assert exif_orientation(None) == exif_orientation(b"") == 1
