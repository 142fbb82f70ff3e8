"""Loading both dataset forms and validating every row, with real broken files."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from fairness_eval.data.dataset import load_dataset
from fairness_eval.errors import UsageError
from fairness_eval.results.names import NOT_ANNOTATED


def make_folder(root: Path, n: int = 3, attributes: str | None = None) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(n):
        cv2.imwrite(str(root / "images" / f"img{i}.jpg"), np.full((20, 30, 3), 100, np.uint8))
        mask = np.zeros((20, 30), np.uint8)
        mask[5:15, 10:20] = 255
        cv2.imwrite(str(root / "masks" / f"img{i}.png"), mask)
    if attributes is not None:
        (root / "attributes.csv").write_text(attributes)
    return root


def reasons(dataset) -> list[str]:
    return [str(p) for p in dataset.problems]


def test_folder_with_attributes_and_annotators(tmp_path):
    root = make_folder(tmp_path / "d", attributes="image,skin_tone,site\nimg0,3,a\nimg1,VI,b\n")
    (root / "masks_second").mkdir()
    cv2.imwrite(str(root / "masks_second" / "img1.png"), np.zeros((20, 30), np.uint8))
    dataset = load_dataset(root)
    assert dataset.rows == 3 and len(dataset.samples) == 3 and not dataset.problems
    # by default the columns of a standard vocabulary; the others are named in a note
    assert dataset.attributes == ["skin_tone"]
    assert any(note.startswith("not evaluated by default (no standard vocabulary): site;")
               for note in dataset.notes)
    assert load_dataset(root, ("skin_tone", "site")).attributes == ["skin_tone", "site"]
    by_id = {s.image_id: s for s in dataset.samples}
    assert by_id["img1"].attributes == {"skin_tone": "6", "site": "b"}  # canonical form
    assert by_id["img2"].attributes == {"skin_tone": None, "site": None}
    assert set(by_id["img1"].annotators) == {"second"} and not by_id["img0"].annotators
    assert dataset.value_counts()["skin_tone"] == {"3": 1, "6": 1, NOT_ANNOTATED: 1}


def test_manifest_csv_and_jsonl_give_the_same_samples(tmp_path):
    root = make_folder(tmp_path / "d")
    csv_path = root / "set.csv"
    csv_path.write_text("image,mask,gender\nimages/img0.jpg,masks/img0.png,Female\n"
                        "images/img1.jpg,masks/img1.png,\n")
    jsonl_path = root / "set.jsonl"
    jsonl_path.write_text(json.dumps({"image": "images/img0.jpg", "mask": "masks/img0.png",
                                      "gender": "female"}) + "\n" +
                          json.dumps({"image": "images/img1.jpg", "mask": "masks/img1.png",
                                      "gender": None}) + "\n")
    from_csv, from_jsonl = load_dataset(csv_path), load_dataset(jsonl_path)
    assert [s.attributes for s in from_csv.samples] == [s.attributes for s in from_jsonl.samples]
    assert from_csv.samples[0].attributes["gender"] == "female"
    assert from_csv.samples[0].image == root / "images/img0.jpg"


def test_every_row_problem_is_reported_at_once(tmp_path):
    root = make_folder(tmp_path / "d", n=7, attributes="image,skin_tone\nimg5,7\n")
    # 0: truncated JPEG; 1: text file named .png as mask; 2: mask of the wrong size;
    # 3: RGB mask; 4: missing mask; 5: skin tone 7 (outside the vocabulary); 6: fine
    data = (root / "images/img0.jpg").read_bytes()
    (root / "images/img0.jpg").write_bytes(data[: len(data) // 2])
    (root / "masks/img1.png").write_text("not a png")
    cv2.imwrite(str(root / "masks/img2.png"), np.zeros((10, 10), np.uint8))
    cv2.imwrite(str(root / "masks/img3.png"), np.zeros((20, 30, 3), np.uint8))
    (root / "masks/img4.png").unlink()
    dataset = load_dataset(root)
    assert [s.image_id for s in dataset.samples] == ["img6"]
    text = "\n".join(reasons(dataset))
    assert "img0.jpg, row 1 (img0): unreadable image: truncated" in text
    assert "img1.png, row 2 (img1): unreadable mask" in text
    assert "mask is 10x10 but the image is 30x20" in text
    assert "mask has 3 channels" in text
    assert "row 5 (img4): missing mask" in text
    assert "attributes.csv, row 1 (img5): skin_tone '7' is not in the vocabulary" in text
    # every row given is either valid or has a problem, under its dataset row number
    assert dataset.rows == 7 == len(dataset.samples) + len(dataset.problems)
    assert sorted(p.row for p in dataset.problems) == [1, 2, 3, 4, 5, 6]


def test_attribute_table_problems_stop_the_dataset_all_listed(tmp_path):
    from fairness_eval.data.samples import InvalidDataset

    root = make_folder(tmp_path / "d", n=2,
                       attributes="image,site\nimg0,a\nimg0,b\nghost,c\n,d\nimg1.jpg,e\n")
    with pytest.raises(InvalidDataset) as raised:
        load_dataset(root)
    text = "\n".join(str(p) for p in raised.value.problems)
    assert "attributes.csv, row 2 (img0): duplicate image (also row 1)" in text
    assert "attributes.csv, row 3 (ghost): no such image in images/" in text
    assert "attributes.csv, row 4: empty 'image' cell" in text
    assert len(raised.value.problems) == 3  # img1.jpg names img1: no problem


@pytest.mark.parametrize("column", ["iou", "status", "iou_extra", "inter_annotator_iou"])
def test_attribute_names_clashing_with_per_image_columns_are_refused(tmp_path, column):
    root = make_folder(tmp_path / "d", attributes=f"image,{column}\nimg0,x\n")
    with pytest.raises(UsageError, match=f"'{column}' clash with columns"):
        load_dataset(root)


def test_every_per_image_column_is_reserved():
    from fairness_eval.results.document import BASE_COLUMNS
    from fairness_eval.results.names import PER_IMAGE_COLUMNS

    assert set(BASE_COLUMNS) <= set(PER_IMAGE_COLUMNS)


def test_standard_attributes_are_never_set_aside_as_continuous(tmp_path):
    rows = "".join(f"img{i},region{i}\n" for i in range(40))
    root = make_folder(tmp_path / "d", n=40, attributes="image,region\n" + rows)
    dataset = load_dataset(root)
    assert dataset.attributes == ["region"]  # checked, so every typo is reported
    assert len(dataset.problems) == 40 and "not in the vocabulary" in dataset.problems[0].reason


def test_duplicates_in_manifest(tmp_path):
    root = make_folder(tmp_path / "d")
    manifest = root / "m.csv"
    manifest.write_text("image,mask\nimages/img0.jpg,masks/img0.png\n"
                        "images/img0.jpg,masks/img0.png\n")
    assert "duplicate image img0.jpg (also row 1)" in "\n".join(reasons(load_dataset(manifest)))


def test_manifest_path_climbing_out_is_refused(tmp_path):
    root = make_folder(tmp_path / "d")
    outside = make_folder(tmp_path / "other", n=1)
    manifest = root / "m.csv"
    manifest.write_text(f"image,mask\n../other/images/img0.jpg,masks/img0.png\n"
                        f"{outside / 'images/img0.jpg'},{root / 'masks/img0.png'}\n")
    dataset = load_dataset(manifest)
    assert "leaves the dataset folder" in reasons(dataset)[0]
    assert len(dataset.samples) == 1  # the absolute path is taken as given


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"image,label\na.jpg,x\n", "missing column(s) mask"),
        ("image,mask\nä.jpg,m.png\n".encode("latin-1"), "not UTF-8"),
        (b"image,mask\n", "empty dataset"),
        (b"image,mask\na.jpg\n", "1 cells where the header has 2"),
    ],
)
def test_dataset_level_errors(tmp_path, content, message):
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(content)
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_dataset(manifest)


def test_absent_attribute_and_missing_dataset(tmp_path):
    root = make_folder(tmp_path / "d", attributes="image,site\nimg0,a\n")
    with pytest.raises(UsageError, match="--attribute: no column 'region'.*site"):
        load_dataset(root, ["region"])
    with pytest.raises(UsageError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")


def test_continuous_columns_need_to_be_named(tmp_path):
    rows = "".join(f"img{i},{i / 7:.4f}\n" for i in range(40))
    root = make_folder(tmp_path / "d", n=40, attributes="image,score\n" + rows)
    assert load_dataset(root).attributes == []
    assert "looks continuous" in load_dataset(root).notes[0]
    assert load_dataset(root, ["score"]).attributes == ["score"]


@pytest.mark.slow
def test_shared_datasets_load_cleanly(voc_dataset, ccp_dataset):
    voc = load_dataset(voc_dataset)
    assert (voc.rows, len(voc.samples), voc.problems) == (300, 300, [])
    assert sum(1 for s in voc.samples if s.annotators) == 61
    assert sum(1 for s in voc.samples if s.ignore is not None) == 300
    counts = voc.value_counts()["bourdev_subcategory"]
    assert counts == {NOT_ANNOTATED: 238, "Child": 8, "Female": 20, "Male": 32, "Unknown": 1,
                      "mixed": 1}
    ccp = load_dataset(ccp_dataset)
    assert (ccp.rows, len(ccp.samples), ccp.attributes) == (300, 300, [])
