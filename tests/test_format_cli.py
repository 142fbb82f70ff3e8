"""The dataset formats through the command line: `--images DIR` for a COCO annotation file
whose images are elsewhere, `--image-set NAME` for a VOC devkit, on `run` and `validate`;
both recorded in results.json's dataset block and used again to find a run's images."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from format_helpers import VOC, build_coco, build_voc, sample_stems

GOLDEN_PER_IMAGE = Path(__file__).parent / "golden" / "voc_per_image.csv"
STEMS = sample_stems(4)
COUNTS = ["image", "intersection", "union", "gt_area", "ignored_pixels"]
FAST = ["--workers", "1", "--bootstrap", "200", "--format", ""]


def coco_apart(tmp_path: Path) -> tuple[Path, Path]:
    """A COCO annotation file in annotations/ and its images in photos/ (not beside it)."""
    annotations = build_coco(tmp_path / "built", STEMS, "rle")
    (tmp_path / "annotations").mkdir()
    moved = Path(shutil.move(annotations, tmp_path / "annotations" / "person_val.json"))
    photos = Path(shutil.move(tmp_path / "built" / "images", tmp_path / "photos"))
    return moved, photos


@pytest.mark.real_run
def test_run_coco_with_images_elsewhere_scores_the_folder_layouts_pixels(tmp_path, model_file,
                                                                          cli):
    annotations, photos = coco_apart(tmp_path)
    out = tmp_path / "run"
    done = cli("run", "--dataset", annotations, "--images", photos, "--out", out,
               "--save-masks", *FAST)
    assert done.returncode == 0, done.stderr
    dataset = json.loads((out / "results.json").read_text())["dataset"]
    assert dataset["path"] == str(annotations.resolve())
    assert dataset["images_dir"] == str(photos.resolve()) and "image_set" not in dataset
    assert (dataset["rows"], dataset["evaluated"]) == (len(STEMS), len(STEMS))
    # The same pixels as the shared set's folder layout (pinned by the golden VOC run).
    scored = pd.read_csv(out / "per_image.csv", dtype={"image": str})[COUNTS]
    folder = pd.read_csv(GOLDEN_PER_IMAGE, dtype={"image": str})[COUNTS]
    folder = folder[folder["image"].isin(STEMS)]
    pd.testing.assert_frame_equal(scored.sort_values("image").reset_index(drop=True),
                                  folder.sort_values("image").reset_index(drop=True))
    # `report --examples` finds the run's images again through the recorded --images.
    from fairness_eval.workflow import dataset_images

    images = dataset_images(out)
    assert sorted(images) == STEMS
    assert {images[s].sample.image.parent for s in STEMS} == {photos.resolve()}


@pytest.mark.real_run
def test_run_voc_image_set_evaluates_its_ids_and_records_the_name(tmp_path, model_file, cli):
    devkit = build_voc(tmp_path / "VOC2012", STEMS)
    chosen = STEMS[1:3]
    (devkit / "ImageSets/Segmentation/val.txt").write_text("\n".join(chosen) + "\n")
    out = tmp_path / "run"
    done = cli("run", "--dataset", devkit, "--image-set", "val", "--out", out, *FAST)
    assert done.returncode == 0, done.stderr
    dataset = json.loads((out / "results.json").read_text())["dataset"]
    assert dataset["image_set"] == "val" and "images_dir" not in dataset
    assert dataset["rows"] == 2
    assert sorted(pd.read_csv(out / "per_image.csv", dtype={"image": str})["image"]) == chosen


def test_validate_takes_images_and_image_set(tmp_path, cli):
    annotations, photos = coco_apart(tmp_path)
    done = cli("validate", "--dataset", annotations, "--images", photos)
    assert done.returncode == 0, done.stderr
    assert f"{len(STEMS)} rows, {len(STEMS)} valid, 0 with problems" in done.stdout
    # Without --images the file_names are looked for beside the JSON: every row a problem.
    done = cli("validate", "--dataset", annotations)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"0 valid, {len(STEMS)} with problems" in done.stdout
    devkit = build_voc(tmp_path / "VOC2012", STEMS)
    (devkit / "ImageSets/Segmentation/val.txt").write_text(STEMS[0] + "\n")
    done = cli("validate", "--dataset", devkit, "--image-set", "val")
    assert done.returncode == 0, done.stderr
    assert "1 rows, 1 valid, 0 with problems" in done.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("--images", "{tmp}"), "--images: only for COCO annotation files; {voc} is not one"),
    (("--image-set", "val"), "--image-set: only for VOC devkit folders; {voc} is not one"),
])
def test_format_options_on_the_folder_layout_are_refused(tmp_path, args, message, cli):
    args = [a.format(tmp=tmp_path) for a in args]
    for command in (["validate"], ["run", *FAST, "--out", str(tmp_path / "out")]):
        done = cli(*command, "--dataset", VOC, *args)
        assert done.returncode == 2
        assert done.stderr.strip() == "fairness-eval: error: " + message.format(voc=VOC)
        assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("image_set", "message"), [
    ("../../../etc/x", "--image-set: '../../../etc/x' is not the name of a list in "
                       "ImageSets/Segmentation/ (e.g. val)"),
    ("test", "--image-set: no {devkit}/ImageSets/Segmentation/test.txt (image sets: val)"),
])
def test_a_bad_image_set_is_one_line(tmp_path, image_set, message, cli):
    devkit = build_voc(tmp_path / "VOC2012", STEMS[:1])
    (devkit / "ImageSets/Segmentation/val.txt").write_text(STEMS[0] + "\n")
    done = cli("validate", "--dataset", devkit, "--image-set", image_set)
    assert done.returncode == 2
    assert done.stderr.strip() == "fairness-eval: error: " + message.format(devkit=devkit)


def test_a_missing_images_folder_is_one_line(tmp_path, cli):
    annotations, _ = coco_apart(tmp_path)
    done = cli("validate", "--dataset", annotations, "--images", tmp_path / "absent")
    assert done.returncode == 2
    assert done.stderr.strip() == (f"fairness-eval: error: --images: {tmp_path / 'absent'} "
                                   "is not a folder")
