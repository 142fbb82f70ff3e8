"""Supplied predictions (`--predictions DIR`): the threshold rule, the folder's hash,
validation of missing and mis-sized files, and the round trip of a `--save-masks` run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from fairness_eval.data.samples import Dataset, Sample
from fairness_eval.evaluation.predictions import (
    SuppliedPredictions,
    check_predictions,
    folder_sha256,
    threshold_table,
)

EXE = Path(sys.executable).with_name("fairness-eval")
SUBSET = 30  # VOC images of the round trip


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=300)


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.1, 0.999])
def test_a_pixel_is_person_where_value_over_255_exceeds_the_threshold(threshold):
    values = np.arange(256)
    expected = [v / 255 > threshold for v in values]
    assert threshold_table(threshold).tolist() == expected


def test_at_the_default_threshold_a_mask_is_person_from_128():
    table = threshold_table(0.5)
    assert not table[127] and table[128]


def test_a_binary_mask_reads_the_same_at_any_threshold(tmp_path):
    mask = np.zeros((4, 5), np.uint8)
    mask[1:3, 2:4] = 255
    cv2.imwrite(str(tmp_path / "a.png"), mask)
    sample = Sample(1, "a", tmp_path / "a.jpg", tmp_path / "m.png")
    for threshold in (0.01, 0.5, 0.99):
        found = SuppliedPredictions(tmp_path).person_mask(sample, (4, 5), threshold)
        assert (found == (mask == 255)).all()


def test_a_probability_map_is_cut_at_the_threshold(tmp_path):
    probability = np.array([[0, 127, 128, 178, 179, 255]], np.uint8)
    cv2.imwrite(str(tmp_path / "p.png"), probability)
    sample = Sample(1, "p", tmp_path / "p.jpg", tmp_path / "m.png")
    supplied = SuppliedPredictions(tmp_path)
    assert supplied.person_mask(sample, (1, 6), 0.5).tolist() == [[0, 0, 1, 1, 1, 1]]
    assert supplied.person_mask(sample, (1, 6), 0.7).tolist() == [[0, 0, 0, 0, 1, 1]]


# --------------------------------------------------------------------------- the folder


def test_the_folder_hash_follows_names_and_contents_only(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, order in ((one, ("a", "b")), (two, ("b", "a"))):
        folder.mkdir()
        for name in order:  # written in another order: same hash
            (folder / f"{name}.png").write_bytes(name.encode() * 3)
        (folder / "notes.txt").write_text("not a prediction")
    assert folder_sha256(one) == folder_sha256(two)
    digest, files, size = folder_sha256(one)
    assert (files, size) == (2, 6)
    (two / "b.png").write_bytes(b"bbc")
    assert folder_sha256(two)[0] != digest
    (two / "b.png").write_bytes(b"bbb")
    (two / "b.png").rename(two / "c.png")
    assert folder_sha256(two)[0] != digest


def _image(path: Path, height: int, width: int) -> Path:
    cv2.imwrite(str(path), np.full((height, width, 3), 90, np.uint8))
    return path


def test_missing_and_unusable_predictions_are_problems_of_their_rows(tmp_path):
    images, predictions = tmp_path / "images", tmp_path / "predictions"
    images.mkdir()
    predictions.mkdir()
    samples = [Sample(row, name, _image(images / f"{name}.png", 6, 8), images / "m.png")
               for row, name in enumerate(("fine", "missing", "small", "rgb", "deep"), start=1)]
    cv2.imwrite(str(predictions / "fine.png"), np.zeros((6, 8), np.uint8))
    cv2.imwrite(str(predictions / "small.png"), np.zeros((6, 7), np.uint8))
    cv2.imwrite(str(predictions / "rgb.png"), np.zeros((6, 8, 3), np.uint8))
    cv2.imwrite(str(predictions / "deep.png"), np.zeros((6, 8), np.uint16))
    dataset = Dataset(tmp_path, "t", tmp_path, 5, list(samples), [], [], [])
    check_predictions(dataset, predictions)
    assert [s.image_id for s in dataset.samples] == ["fine"]
    reasons = {p.image: p.reason for p in dataset.problems}
    assert reasons == {
        "missing": "prediction file not found",
        "small": "prediction is 7x6 but the image is 8x6",
        "rgb": "prediction has 3 channels; expected a single-channel 8-bit PNG",
        "deep": "prediction is 16-bit; expected 8-bit",
    }
    assert all(p.file == str(predictions / f"{p.image}.png") for p in dataset.problems)


# --------------------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def voc_subset(tmp_path_factory, voc_dataset: Path) -> Path:
    """A manifest of the first SUBSET VOC images: masks, void bands, a second annotator's
    masks where there is one, and the Bourdev subcategory."""
    attributes = pd.read_csv(voc_dataset / "attributes.csv", dtype=str).sort_values("image")
    rows = []
    for stem, subcategory in zip(attributes["image"].head(SUBSET),
                                 attributes["bourdev_subcategory"].head(SUBSET), strict=True):
        second = voc_dataset / "masks_annotator2" / f"{stem}.png"
        rows.append({"image": str(voc_dataset / "images" / f"{stem}.jpg"),
                     "mask": str(voc_dataset / "masks" / f"{stem}.png"),
                     "ignore": str(voc_dataset / "ignore" / f"{stem}.png"),
                     "mask_annotator2": str(second) if second.exists() else "",
                     "subcategory": subcategory})
    path = tmp_path_factory.mktemp("voc_subset") / "voc_subset.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def saved_masks_run(tmp_path_factory, voc_subset: Path, model_file) -> Path:
    out = tmp_path_factory.mktemp("saved") / "run"
    done = cli("run", "--dataset", str(voc_subset), "--out", str(out), "--save-masks",
               "--format", "", "--bootstrap", "200", "--workers", "2",
               "--min-group-size", "3")
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.real_run
def test_the_saved_masks_as_predictions_reproduce_the_per_image_table(
        saved_masks_run, voc_subset, tmp_path):
    out = tmp_path / "supplied"
    done = cli("run", "--dataset", str(voc_subset), "--out", str(out), "--predictions",
               str(saved_masks_run / "masks"), "--format", "html", "--bootstrap", "200",
               "--workers", "2", "--min-group-size", "3")
    assert done.returncode == 0, done.stderr
    original = (saved_masks_run / "per_image.csv").read_bytes()
    assert (out / "per_image.csv").read_bytes() == original
    assert len(pd.read_csv(out / "per_image.csv")) == SUBSET
    results = json.loads((out / "results.json").read_text())
    before = json.loads((saved_masks_run / "results.json").read_text())
    assert results["attributes"] == before["attributes"]  # intervals and verdicts alike
    model = results["model"]
    assert model["source"] == "predictions" and model["files"] == SUBSET
    assert "runtime" not in model and "spec" not in model and model["input_shape"] is None
    assert model["sha256"] == folder_sha256(saved_masks_run / "masks")[0]
    assert results["settings"]["predictions"] == str(saved_masks_run / "masks")
    card = (out / "model_card.html").read_text()
    assert "supplied" in card and model["sha256"] in card


@pytest.mark.real_run
def test_missing_and_mis_sized_predictions_are_listed_one_line_each(
        saved_masks_run, voc_subset, tmp_path):
    folder = tmp_path / "predictions"
    folder.mkdir()
    masks = sorted((saved_masks_run / "masks").glob("*.png"))
    for mask in masks[2:]:
        (folder / mask.name).write_bytes(mask.read_bytes())
    shrunk = cv2.imread(str(masks[3]), cv2.IMREAD_UNCHANGED)[:-1]
    cv2.imwrite(str(folder / masks[3].name), shrunk)
    out = tmp_path / "out"
    done = cli("run", "--dataset", str(voc_subset), "--out", str(out), "--predictions",
               str(folder), "--format", "", "--workers", "1")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == "fairness-eval: error: 3 invalid row(s); fix them or pass --skip-invalid"
    assert [line for line in lines[:-1] if "prediction" in line] == lines[:-1]
    assert sum("prediction file not found" in line for line in lines) == 2
    assert sum(f"{masks[3].name}" in line and "prediction is" in line for line in lines) == 1
    assert not (out / "results.json").exists()

    done = cli("run", "--dataset", str(voc_subset), "--out", str(out), "--predictions",
               str(folder), "--format", "", "--workers", "1", "--bootstrap", "200",
               "--skip-invalid")
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["dataset"]["evaluated"] == SUBSET - 3
    assert len(results["dataset"]["skipped"]) == 3


def test_predictions_and_a_model_together_is_one_line_and_exit_2(tmp_path):
    done = cli("run", "--dataset", str(tmp_path), "--predictions", str(tmp_path),
               "--model", "selfie-landscape")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "fairness-eval: error: --model and --predictions: give only one (a model name or "
        "file, a model spec, or a folder of predictions)"]
