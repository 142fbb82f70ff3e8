"""COCO instance annotations as a dataset (data/formats/coco.py): built from the shared VOC
person masks, they decode to exactly the folder layout's masks, and bad files are reported
row by row, naming the file."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from format_helpers import VOC, build_coco, coco_document, folder_masks, sample_stems

from fairness_eval.data.formats import (
    decode_mask,
    detect_layout,
    file_problems,
    load_layout,
    mask_source,
)
from fairness_eval.data.formats.coco import load_coco
from fairness_eval.data.samples import InvalidDataset
from fairness_eval.errors import UsageError

STEMS = sample_stems(10)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools.mask")


@pytest.fixture(scope="module")
def rle_set(tmp_path_factory):
    return build_coco(tmp_path_factory.mktemp("coco_rle"), STEMS, "rle")


def test_folder_of_rle_annotations_decodes_to_the_folder_layout_masks(rle_set):
    folder = rle_set.parent
    assert detect_layout(folder) == "coco" and detect_layout(rle_set) == "coco"
    dataset = load_layout(folder)
    assert dataset.problems == [] and dataset.rows == len(STEMS)
    assert [s.image_id for s in dataset.samples] == STEMS
    assert [s.row for s in dataset.samples] == list(range(1, len(STEMS) + 1))
    for sample in dataset.samples:
        assert sample.mask_format == "coco" and sample.mask == rle_set
        assert sample.image == folder / "images" / f"{sample.image_id}.jpg"
        assert file_problems(sample) == []
        mask, ignore = decode_mask(sample)
        expected_mask, expected_ignore = folder_masks(sample.image_id)
        assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
        assert np.array_equal(mask, expected_mask), sample.image_id
        assert np.array_equal(ignore, expected_ignore), sample.image_id


def test_json_elsewhere_with_images_folder_gives_the_same_samples(rle_set, tmp_path):
    moved = tmp_path / "instances_val.json"
    shutil.copy(rle_set, moved)
    dataset = load_layout(moved, images=rle_set.parent / "images")
    assert dataset.name == "instances_val"
    reference = load_layout(rle_set.parent)
    assert [(s.image_id, s.image) for s in dataset.samples] == [
        (s.image_id, s.image) for s in reference.samples]
    for ours, theirs in zip(dataset.samples, reference.samples, strict=True):
        assert mask_source(ours) == mask_source(theirs)


def test_mask_source_is_the_images_entry_and_decodes_the_same(rle_set):
    dataset = load_layout(rle_set.parent)
    whole = rle_set.stat().st_size
    sources = [mask_source(s) for s in dataset.samples]
    assert len(set(sources)) == len(sources) and max(map(len, sources)) < whole
    for sample, source in zip(dataset.samples, sources, strict=True):
        entry = json.loads(source)
        assert entry["file_name"] == f"{sample.image_id}.jpg"
        # Only the person category is kept: the dog covering the image is not in it.
        assert all(a["segmentation"] != [[0, 0, entry["width"], 0, entry["width"],
                                          entry["height"], 0, entry["height"]]]
                   for a in entry["annotations"])
        for ours, again in zip(decode_mask(sample, source), decode_mask(sample), strict=True):
            assert np.array_equal(ours, again)


def test_polygon_annotations_decode_as_the_coco_api_decodes(tmp_path):
    coco_api = pytest.importorskip("pycocotools.mask",
                                   reason="pycocotools not installed (pip install pycocotools)")
    path = build_coco(tmp_path / "coco_polygons", STEMS, "polygon")
    document = json.loads(path.read_text())
    dataset = load_layout(path.parent)
    assert dataset.problems == []
    for sample, image in zip(dataset.samples, document["images"], strict=True):
        mask, ignore = decode_mask(sample)
        assert ignore is None  # no crowd regions in this set
        polygons = [p for a in document["annotations"]
                    if a["image_id"] == image["id"] and a["category_id"] == 1
                    for p in a["segmentation"]]
        rles = coco_api.frPyObjects(polygons, image["height"], image["width"])
        expected = coco_api.decode(coco_api.merge(rles)).astype(bool)
        assert np.array_equal(mask > 0, expected), sample.image_id


def test_every_problem_is_listed_once_naming_the_file(tmp_path):
    stems = STEMS[:4]
    path = build_coco(tmp_path / "broken", stems, "rle")
    document = coco_document(stems, "rle")
    images, annotations = document["images"], document["annotations"]
    images[1]["width"] = "wide"
    images.append(dict(images[0], id=99))  # same file name: same stem
    images.append({"id": 100, "height": 5, "width": 5})
    images.append({"id": 101, "file_name": "../outside.jpg", "height": 5, "width": 5})
    third = [a for a in annotations if a["image_id"] == 3 and a["category_id"] == 1]
    third[0]["segmentation"] = {"size": [1, 1], "counts": [0, 1]}
    third[1]["iscrowd"] = 2
    annotations.append(dict(third[-1], id=500, image_id=12345))
    path.write_text(json.dumps(document))
    dataset = load_coco(path)
    lines = [str(p) for p in dataset.problems]
    assert all(line.startswith(str(path.resolve())) for line in lines)
    assert [(p.row, p.image) for p in dataset.problems] == [
        (2, stems[1]), (3, stems[2]), (5, stems[0]), (6, None), (7, "outside"), (None, None)]
    assert "'width' and 'height' must be positive integers" in lines[0]
    assert "RLE size [1, 1] is not the image's" in lines[1] and "(and 1 more)" in lines[1]
    assert "duplicate image stem" in lines[2] and "(also row 1)" in lines[2]
    assert "without a 'file_name'" in lines[3]
    assert "leaves the images folder" in lines[4]
    assert "annotation 500: image_id 12345 is not in 'images'" in lines[5]
    assert [s.image_id for s in dataset.samples] == [stems[0], stems[3]]
    assert dataset.rows == 7


def test_file_checks_name_a_missing_image_and_a_size_the_json_contradicts(rle_set, tmp_path):
    folder = tmp_path / "coco"
    shutil.copytree(rle_set.parent, folder)
    (folder / "images" / f"{STEMS[0]}.jpg").unlink()
    document = json.loads((folder / "annotations.json").read_text())
    document["images"][1]["width"] += 1
    for annotation in document["annotations"]:  # keep the annotations valid at that size
        if annotation["image_id"] == 2:
            annotation["segmentation"] = [[0, 0, 4, 0, 4, 4]]
    (folder / "annotations.json").write_text(json.dumps(document))
    samples = load_layout(folder).samples
    assert file_problems(samples[0]) == [
        (str(folder / "images" / f"{STEMS[0]}.jpg"), "image file not found")]
    ((file, reason),) = file_problems(samples[1])
    height, width = folder_masks(STEMS[1])[0].shape
    assert reason == (f"image is {width}x{height} but annotations.json gives "
                      f"{width + 1}x{height}")


def test_attributes_csv_beside_the_json(rle_set, tmp_path):
    folder = tmp_path / "coco"
    shutil.copytree(rle_set.parent, folder)
    (folder / "attributes.csv").write_text(
        "image,scene\n" + "".join(f"{s},{'multi' if i % 2 else 'single'}\n"
                                  for i, s in enumerate(STEMS)))
    dataset = load_layout(folder)
    assert [s.attributes["scene"] for s in dataset.samples] == [
        "multi" if i % 2 else "single" for i in range(len(STEMS))]
    assert dataset.attribute_columns == ["scene"]
    (folder / "attributes.csv").write_text("image,scene\nnot_an_image,x\n")
    with pytest.raises(InvalidDataset) as error:
        load_layout(folder)
    assert "no such image in annotations.json" in str(error.value.problems[0])


@pytest.mark.parametrize("content, message", [
    ("{not json", "not a COCO annotation file (not JSON"),
    ('{"images": []}', "expected lists 'images', 'annotations' and 'categories'"),
    ('{"images": [], "annotations": [], "categories": [{"id": 1, "name": "dog"}]}',
     "no 'person' category (categories: dog)"),
])
def test_files_that_are_not_coco_are_usage_errors(tmp_path, content, message):
    path = tmp_path / "annotations.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_layout(path)


def test_shared_voc_is_not_taken_for_a_format():
    assert detect_layout(VOC) is None  # images/ + masks/: the folder layout
