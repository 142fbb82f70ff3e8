"""data/orientation.py and the EXIF orientation imageheader.py reads, against Pillow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from fairness_eval.data.imageheader import read_image_info
from fairness_eval.data.orientation import apply_orientation, displayed_size


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
