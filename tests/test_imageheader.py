"""Header reading of PNG and JPEG files, made for real with OpenCV in the test."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from fairness_eval.data.imageheader import UnreadableImage, read_image_info


def write(path: Path, image: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), image)
    return path


def test_png_grey_rgb_16bit_and_palette(tmp_path):
    grey = read_image_info(write(tmp_path / "g.png", np.zeros((7, 9), np.uint8)))
    assert (grey.width, grey.height, grey.channels, grey.bit_depth) == (9, 7, 1, 8)
    rgb = read_image_info(write(tmp_path / "c.png", np.zeros((4, 5, 3), np.uint8)))
    assert rgb.channels == 3
    deep = read_image_info(write(tmp_path / "d.png", np.zeros((4, 5), np.uint16)))
    assert deep.bit_depth == 16
    # a palette PNG, colour type 3, written by hand (OpenCV does not write them)
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 2, 2, 8, 3, 0, 0, 0)
    palette_png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                   + chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff")
                   + chunk(b"IDAT", zlib.compress(b"\x00\x00\x01\x00\x01\x00"))
                   + chunk(b"IEND", b""))
    (tmp_path / "p.png").write_bytes(palette_png)
    assert read_image_info(tmp_path / "p.png").palette


def test_jpeg_size_and_components(tmp_path):
    info = read_image_info(write(tmp_path / "a.jpg", np.full((30, 40, 3), 128, np.uint8)))
    assert (info.width, info.height, info.channels) == (40, 30, 3)


def test_truncated_files_are_refused(tmp_path):
    for name, image in (("t.jpg", np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)),
                        ("t.png", np.random.default_rng(1).integers(0, 255, (64, 64), np.uint8))):
        path = write(tmp_path / name, image)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        with pytest.raises(UnreadableImage, match="truncated"):
            read_image_info(path)


def test_empty_text_and_missing_files(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(UnreadableImage, match="empty file"):
        read_image_info(tmp_path / "empty.png")
    (tmp_path / "text.png").write_text("this is not an image\n")
    with pytest.raises(UnreadableImage, match="not a readable image"):
        read_image_info(tmp_path / "text.png")
    with pytest.raises(UnreadableImage, match="cannot read"):
        read_image_info(tmp_path / "absent.png")


def test_other_formats_fall_back_to_decoding(tmp_path):
    info = read_image_info(write(tmp_path / "b.bmp", np.zeros((3, 4, 3), np.uint8)))
    assert (info.width, info.height, info.channels) == (4, 3, 3)
