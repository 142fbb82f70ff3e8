"""Pascal VOC devkit folders (data/formats/voc.py) and PNG index images (indexed.py): the
shared set's 300 original VOC palette labels decode to exactly its masks/ and ignore/."""

from __future__ import annotations

import io
import os
import shutil

import numpy as np
import pytest
from format_helpers import VOC, build_voc, folder_masks
from PIL import Image

from fairness_eval.data.formats import decode_mask, detect_layout, file_problems, load_layout
from fairness_eval.data.formats.indexed import NotAnIndexImage, read_indices
from fairness_eval.data.formats.voc import load_voc
from fairness_eval.errors import UsageError

LABELS = sorted((VOC / "labels").glob("*.png"))


@pytest.fixture(scope="module")
def devkit(tmp_path_factory):
    return build_voc(tmp_path_factory.mktemp("VOCdevkit") / "VOC2012")


@pytest.mark.slow
def test_all_voc_labels_decode_to_the_folder_layout_masks(devkit):
    assert detect_layout(devkit) == "voc"
    dataset = load_layout(devkit)
    assert dataset.problems == [] and dataset.rows == len(LABELS) == 300
    assert [s.image_id for s in dataset.samples] == [p.stem for p in LABELS]
    for sample in dataset.samples:
        assert sample.mask_format == "voc-palette" and sample.ignore is None
        mask, ignore = decode_mask(sample)
        expected_mask, expected_ignore = folder_masks(sample.image_id)
        assert np.array_equal(mask, expected_mask), sample.image_id
        assert np.array_equal(ignore, expected_ignore), sample.image_id
    assert all(file_problems(s) == [] for s in dataset.samples[:20])


def test_image_set_lists_rows_and_names_what_is_missing(devkit, tmp_path):
    root = tmp_path / "VOC2012"
    shutil.copytree(devkit, root, symlinks=True)
    ids = [p.stem for p in LABELS[:5]]
    (root / "SegmentationClass" / f"{ids[1]}.png").unlink()
    (root / "JPEGImages" / f"{ids[2]}.jpg").unlink()
    (root / "ImageSets/Segmentation/val.txt").write_text("\n".join([*ids, ids[0]]) + "\n")
    dataset = load_layout(root, image_set="val")
    assert dataset.rows == 6
    assert [s.image_id for s in dataset.samples] == [ids[0], ids[3], ids[4]]
    assert [str(p) for p in dataset.problems] == [
        f"{root}/SegmentationClass/{ids[1]}.png, row 2 ({ids[1]}): missing label "
        "(SegmentationClass)",
        f"{root}/JPEGImages/{ids[2]}.jpg, row 3 ({ids[2]}): missing image",
        f"{root}/ImageSets/Segmentation/val.txt, row 6 ({ids[0]}): duplicate id (also row 1)",
    ]
    with pytest.raises(UsageError, match=r"no .*train\.txt \(image sets: val\)"):
        load_layout(root, image_set="train")


def test_another_class_index(devkit):
    dataset = load_voc(devkit, person_class=9)  # chair
    sample = next(s for s in dataset.samples if (read_indices(s.mask) == 9).any())
    assert sample.mask_format == "voc-palette:9"
    mask, ignore = decode_mask(sample)
    assert np.array_equal(mask > 0, np.array(Image.open(sample.mask)) == 9)
    with pytest.raises(UsageError, match="255 is void"):
        load_voc(devkit, person_class=255)


def test_file_checks_name_the_label_that_does_not_fit(devkit, tmp_path):
    root = tmp_path / "VOC2012"
    shutil.copytree(devkit, root, symlinks=True)
    first, second = (p.stem for p in LABELS[:2])
    for stem in (first, second):
        os.unlink(root / "SegmentationClass" / f"{stem}.png")
    Image.open(LABELS[0]).convert("RGB").save(root / "SegmentationClass" / f"{first}.png")
    Image.open(LABELS[1]).crop((0, 0, 10, 10)).save(root / "SegmentationClass" / f"{second}.png")
    samples = load_layout(root).samples
    label = root / "SegmentationClass"
    assert file_problems(samples[0]) == [(str(label / f"{first}.png"), "VOC label has 3 "
                                          "channels; expected a palette or greyscale PNG of "
                                          "indices")]
    ((file, reason),) = file_problems(samples[1])
    assert file == str(label / f"{second}.png") and reason.startswith("VOC label is 10x10 but")


def test_index_pngs_read_as_pillow_reads_them():
    for path in LABELS:
        assert np.array_equal(read_indices(path), np.array(Image.open(path))), path.name


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_low_bit_depth_palette_and_grey_pngs(bits):
    indices = np.random.default_rng(bits).integers(0, 2**bits, (23, 31)).astype(np.uint8)
    palette = Image.fromarray(indices, "P")
    palette.putpalette([v for i in range(256) for v in (i, 255 - i, 7)])
    # (bit depth, colour type) in the header: palette at `bits`, greyscale at 8
    for image, options, header in ((palette, {"bits": bits}, (bits, 3)),
                                   (Image.fromarray(indices, "L"), {}, (8, 0))):
        buffer = io.BytesIO()
        image.save(buffer, "PNG", **options)
        data = buffer.getvalue()
        assert (data[24], data[25]) == header
        assert np.array_equal(read_indices("mask.png", data), indices)


def test_files_that_are_not_index_pngs_say_why(tmp_path):
    rgb = io.BytesIO()
    Image.new("RGB", (4, 4)).save(rgb, "PNG")
    with pytest.raises(NotAnIndexImage, match="RGB PNG"):
        read_indices("x.png", rgb.getvalue())
    with pytest.raises(NotAnIndexImage, match="not a PNG"):
        read_indices("x.jpg", (VOC / "images" / f"{LABELS[0].stem}.jpg").read_bytes())
    with pytest.raises(NotAnIndexImage, match="truncated"):
        read_indices("x.png", LABELS[0].read_bytes()[:-20])
