"""Decoding a row's image (fairness_eval.evaluation.images): RGB straight from the decoder is
the very image the BGR decode gives, channels swapped, for every kind of file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from fairness_eval.evaluation.images import RowFailure, read_bgr, read_rgb

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def synthetic_files(folder: Path) -> list[Path]:
    rng = np.random.default_rng(3)
    colour = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    files = {
        "colour.jpg": colour, "colour.png": colour, "colour.bmp": colour,
        "colour.webp": colour, "colour.tif": colour,
        "grey.jpg": colour[..., 0], "grey.png": colour[..., 0],
        "alpha.png": np.dstack([colour, colour[..., :1]]),
        "deep.png": colour.astype(np.uint16) * 257,
    }
    paths = []
    for name, pixels in files.items():
        path = folder / name
        assert cv2.imwrite(str(path), pixels), name
        paths.append(path)
    return paths


@pytest.mark.slow
def test_rgb_decoding_is_the_bgr_image_with_its_channels_swapped(tmp_path):
    photos = [*sorted((SHARED / "voc2012_person" / "images").glob("*.jpg"))[:25],
              *sorted((SHARED / "ccp_fashion" / "images").glob("*"))[:25]]
    assert len(photos) == 50
    for path in [*photos, *synthetic_files(tmp_path)]:
        rgb = read_rgb(path)
        assert rgb.dtype == np.uint8 and rgb.ndim == 3, path.name
        np.testing.assert_array_equal(rgb, read_bgr(path)[..., ::-1], err_msg=path.name)
        for orientation in (3, 6):  # the EXIF turns apply to either order alike
            np.testing.assert_array_equal(read_rgb(path, orientation=orientation),
                                          read_bgr(path, orientation=orientation)[..., ::-1])


def test_undecodable_bytes_name_the_file(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(RowFailure, match="broken.jpg: image could not be decoded"):
        read_rgb(path)
