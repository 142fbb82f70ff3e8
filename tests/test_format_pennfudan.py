"""The Penn-Fudan layout (data/formats/pennfudan.py): instance masks made from the shared
VOC person regions decode, as their union, to exactly the folder layout's masks."""

from __future__ import annotations

import numpy as np
import pytest
from format_helpers import build_penn_fudan, folder_masks, person_instances, sample_stems
from PIL import Image

from fairness_eval.data.formats import decode_mask, detect_layout, file_problems, load_layout

STEMS = sample_stems(8)


@pytest.fixture(scope="module")
def penn_fudan(tmp_path_factory):
    return build_penn_fudan(tmp_path_factory.mktemp("PennFudanPed"), STEMS)


def test_union_of_instances_is_the_folder_layout_mask(penn_fudan):
    assert detect_layout(penn_fudan) == "penn-fudan"
    dataset = load_layout(penn_fudan)
    assert dataset.problems == [] and dataset.rows == len(STEMS)
    assert [s.image_id for s in dataset.samples] == STEMS
    assert sum(int(person_instances(s).max()) > 1 for s in STEMS) >= 3  # several people
    for sample in dataset.samples:
        assert sample.mask_format == "instances"
        assert sample.mask == penn_fudan / "PedMasks" / f"{sample.image_id}_mask.png"
        assert file_problems(sample) == []
        mask, ignore = decode_mask(sample)
        assert ignore is None
        assert np.array_equal(mask, folder_masks(sample.image_id)[0]), sample.image_id


def test_palette_instance_masks_read_by_index_not_colour(penn_fudan, tmp_path):
    """Instance 1 drawn black in the palette is still a person."""
    stem = STEMS[0]
    path = penn_fudan / "PedMasks" / f"{stem}_mask.png"
    labels = np.array(Image.open(path))
    palette = Image.fromarray(labels, "P")
    palette.putpalette([0, 0, 0] * 256)
    copy = tmp_path / "PennFudanPed"
    (copy / "PNGImages").mkdir(parents=True)
    (copy / "PedMasks").mkdir()
    (copy / "PNGImages" / f"{stem}.png").symlink_to(penn_fudan / "PNGImages" / f"{stem}.png")
    palette.save(copy / "PedMasks" / f"{stem}_mask.png")
    (sample,) = load_layout(copy).samples
    assert file_problems(sample) == []
    assert np.array_equal(decode_mask(sample)[0], folder_masks(stem)[0])


def test_missing_mask_is_a_problem_naming_the_expected_file(penn_fudan, tmp_path):
    copy = tmp_path / "PennFudanPed"
    (copy / "PedMasks").mkdir(parents=True)
    (copy / "PNGImages").mkdir()
    for stem in STEMS[:3]:
        (copy / "PNGImages" / f"{stem}.png").symlink_to(penn_fudan / "PNGImages" / f"{stem}.png")
    for stem in (STEMS[0], STEMS[2]):
        name = f"{stem}_mask.png"
        (copy / "PedMasks" / name).symlink_to(penn_fudan / "PedMasks" / name)
    dataset = load_layout(copy)
    assert [str(p) for p in dataset.problems] == [
        f"{copy}/PedMasks/{STEMS[1]}_mask.png, row 2 ({STEMS[1]}): missing mask"]
    assert [s.row for s in dataset.samples] == [1, 3] and dataset.rows == 3
