"""Format detection and mask decoding dispatch (data/formats/__init__.py): which layout a
--dataset path is, and one (mask, ignore) decoder interface over every mask format."""

from __future__ import annotations

import numpy as np
import pytest
from format_helpers import VOC, build_coco, build_penn_fudan, build_voc, folder_masks

from fairness_eval.data.formats import (
    decode_mask,
    decoder,
    detect_layout,
    file_problems,
    load_layout,
    mask_source,
)
from fairness_eval.data.samples import Sample
from fairness_eval.errors import UsageError

STEM = "000032"


def test_each_layout_is_detected_and_nothing_else(tmp_path):
    coco = build_coco(tmp_path / "coco", [STEM])
    voc = build_voc(tmp_path / "voc", [STEM])
    penn = build_penn_fudan(tmp_path / "penn", [STEM])
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("image,mask\n")
    assert [detect_layout(p) for p in (coco, coco.parent, voc, penn)] == [
        "coco", "coco", "voc", "penn-fudan"]
    assert [detect_layout(p) for p in (VOC, manifest, tmp_path / "absent")] == [None] * 3
    (coco.parent / "masks").mkdir()  # images/ + masks/ is the folder layout, JSON or not
    assert detect_layout(coco.parent) is None


def test_png_samples_decode_like_the_folder_layout():
    sample = Sample(1, STEM, VOC / "images" / f"{STEM}.jpg", VOC / "masks" / f"{STEM}.png",
                    VOC / "ignore" / f"{STEM}.png")
    mask, ignore = decode_mask(sample)
    expected = folder_masks(STEM)
    assert np.array_equal(mask, expected[0]) and np.array_equal(ignore, expected[1])
    assert mask_source(sample) == sample.mask.read_bytes()
    without_ignore = Sample(1, STEM, sample.image, sample.mask)
    assert decode_mask(without_ignore)[1] is None
    with pytest.raises(ValueError, match="not a single-channel 8-bit mask"):
        decode_mask(Sample(1, STEM, sample.image, sample.image))


def test_unknown_mask_format_and_misplaced_options(tmp_path):
    sample = Sample(1, STEM, VOC / "images" / f"{STEM}.jpg", VOC / "masks" / f"{STEM}.png",
                    mask_format="cityscapes")
    with pytest.raises(ValueError, match="unknown mask format 'cityscapes'"):
        decode_mask(sample)
    with pytest.raises(ValueError):
        file_problems(sample)
    assert decoder("voc-palette:12").MASK_FORMAT == "voc-palette"
    voc = build_voc(tmp_path / "voc", [STEM])
    with pytest.raises(UsageError, match="--images: only for COCO"):
        load_layout(voc, images=tmp_path)
    with pytest.raises(UsageError, match="--image-set: only for VOC"):
        load_layout(build_coco(tmp_path / "coco", [STEM]), image_set="val")
    with pytest.raises(UsageError, match="not a COCO, VOC or Penn-Fudan dataset"):
        load_layout(VOC)
