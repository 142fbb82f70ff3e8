"""Header reading of PNG and JPEG files (by Pillow), against files made for real with OpenCV
in the test and the shared datasets' files as OpenCV decodes them."""

import struct
import warnings
import zlib
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from fairness_eval.data.imageheader import UnreadableImage, read_image_info

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def write(path: Path, image: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), image)
    return path


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, bit_depth: int, colour_type: int, idat: bytes = b"",
        extra: bytes = b"") -> bytes:
    """A PNG with the header given and stub pixel data: what the header reader sees."""
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type,
                                         0, 0, 0))
            + extra + chunk(b"IDAT", idat or zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_png_grey_rgb_16bit_and_palette(tmp_path):
    grey = read_image_info(write(tmp_path / "g.png", np.zeros((7, 9), np.uint8)))
    assert (grey.width, grey.height, grey.channels, grey.bit_depth) == (9, 7, 1, 8)
    rgb = read_image_info(write(tmp_path / "c.png", np.zeros((4, 5, 3), np.uint8)))
    assert rgb.channels == 3
    deep = read_image_info(write(tmp_path / "d.png", np.zeros((4, 5), np.uint16)))
    assert deep.bit_depth == 16
    # a palette PNG, colour type 3, written by hand (OpenCV does not write them)
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


def test_bit_depths_and_channels_pillow_s_mode_does_not_name(tmp_path):
    # Pillow opens 16-bit RGB as "RGB" and 16-bit grey + alpha as "RGBA": the facts come
    # from the header's bit depth and colour type all the same.
    for (bit_depth, colour_type), facts in {(16, 2): (3, 16), (16, 4): (2, 16),
                                            (16, 6): (4, 16), (4, 0): (1, 4),
                                            (2, 3): (1, 2), (8, 4): (2, 8)}.items():
        path = tmp_path / f"{bit_depth}-{colour_type}.png"
        path.write_bytes(png(5, 3, bit_depth, colour_type))
        info = read_image_info(path)
        assert (info.width, info.height, info.channels, info.bit_depth) == (5, 3, *facts)
        assert info.palette == (colour_type == 3)


@pytest.mark.slow
def test_every_voc_file_has_the_size_channels_and_depth_its_decoder_gives():
    files = sorted(p for p in (DATASETS / "voc2012_person").rglob("*")
                   if p.suffix in (".jpg", ".png"))
    assert len(files) == 1261
    for path in files:
        info = read_image_info(path)
        decoded = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        palette = Image.open(path).mode == "P"
        assert (info.width, info.height) == (decoded.shape[1], decoded.shape[0]), path
        assert info.bit_depth == decoded.dtype.itemsize * 8 and info.palette == palette, path
        # OpenCV expands a palette to colour; the file holds one index per pixel.
        assert info.channels == (1 if palette or decoded.ndim == 2 else decoded.shape[2]), path
        assert info.orientation == 1, path


def test_the_shared_datasets_read_as_the_byte_parser_read_them():
    # (suffix, channels, bit depth, palette, orientation) of every JPEG and PNG under the
    # shared datasets, as the hand-written byte parser that Pillow replaced read them.
    facts = Counter()
    for path in DATASETS.rglob("*"):
        if path.suffix in (".jpg", ".png"):
            info = read_image_info(path)
            facts[path.suffix, info.channels, info.bit_depth, info.palette,
                  info.orientation] += 1
    assert facts == {(".png", 1, 8, False, 1): 1515, (".jpg", 3, 8, False, 1): 854,
                     (".png", 1, 8, True, 1): 300}


def test_a_jpeg_cut_in_its_scan_is_truncated_despite_an_end_marker_in_its_exif(tmp_path):
    # An EXIF thumbnail is a whole JPEG, end marker included, ahead of the image's scan.
    exif = Image.Exif()
    exif[0x927C] = b"\xff\xd8thumbnail\xff\xd9"  # MakerNote: raw bytes
    path = tmp_path / "thumb.jpg"
    noise = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(path, "JPEG", exif=exif.tobytes())
    data = path.read_bytes()
    assert read_image_info(path).width == 64
    path.write_bytes(data[: len(data) - 100])
    with pytest.raises(UnreadableImage, match=r"^truncated JPEG \(no end-of-image marker\)$"):
        read_image_info(path)
    path.write_bytes(data[: data.index(b"\xff\xda")])  # cut before the start of scan
    with pytest.raises(UnreadableImage,
                       match=r"^truncated or corrupt JPEG \(no frame header or scan\)$"):
        read_image_info(path)


def test_truncated_and_corrupt_png_headers_keep_their_reasons(tmp_path):
    cases = {
        png(5, 3, 8, 0)[:20]: "truncated PNG (no IHDR header)",
        png(5, 3, 8, 0)[:-12]: "truncated PNG (no IEND chunk)",
        png(0, 3, 8, 0): "corrupt PNG header",  # zero width
        png(5, 3, 8, 7): "corrupt PNG header",  # no colour type 7
        # A text chunk ahead of the pixels, cut short: the file is still called truncated.
        png(5, 3, 8, 0, extra=chunk(b"tEXt", b"k\0" + b"v" * 4000))[:2000]:
            "truncated PNG (no IEND chunk)",
    }
    for index, (data, reason) in enumerate(cases.items()):
        (tmp_path / f"{index}.png").write_bytes(data)
        with pytest.raises(UnreadableImage) as refused:
            read_image_info(tmp_path / f"{index}.png")
        assert str(refused.value) == reason


def webp_header(width: int, height: int) -> bytes:
    """The start of an extended WebP (VP8X) file: its canvas size and nothing else."""
    payload = bytes(4) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_huge_headers_give_their_size_or_the_limit_without_a_warning(tmp_path):
    bmp = (b"BM" + bytes(12) + struct.pack("<IiiHHI", 40, 70_000, -70_000, 1, 24, 0)
           + bytes(20))
    (tmp_path / "huge.png").write_bytes(png(70_000, 70_000, 8, 2))
    (tmp_path / "huge.bmp").write_bytes(bmp)
    (tmp_path / "huge.webp").write_bytes(webp_header(16_383, 16_383))
    with warnings.catch_warnings():
        # Pillow's DecompressionBombWarning (or any other) would fail the test.
        warnings.simplefilter("error")
        for name in ("huge.png", "huge.bmp"):
            info = read_image_info(tmp_path / name, max_pixels=100_000_000)
            assert (info.width, info.height, info.pixels) == (70_000, 70_000, 4_900_000_000)
        assert read_image_info(tmp_path / "huge.png").pixels == 4_900_000_000
        # Pillow's WebP reader refuses a canvas this large before it gives its size.
        with pytest.raises(UnreadableImage) as refused:
            read_image_info(tmp_path / "huge.webp", max_pixels=100_000_000)
    assert str(refused.value) == "image is above the limit of 100,000,000 pixels (--max-pixels)"
