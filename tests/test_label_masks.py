"""Label-index masks (person = 1) on real VOC masks: refused without `--mask-person-value`,
by `validate` and `run`, with the option named; read with it, every per-image count equals
the 0/255 masks' run. Also the VOC devkit's person class set by the same option."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import Image

VOC = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "voc2012_person"
ROWS = 10
FAST = ["--workers", "1", "--bootstrap", "200", "--format", ""]
COUNTS = ["image", "status", "intersection", "union", "iou", "boundary_iou", "gt_area",
          "pred_area", "ignored_pixels", "both_empty"]
MASK_FOLDERS = ("masks", "ignore", "masks_annotator2")


def _as_labels(source: Path, target: Path, person: int = 1) -> None:
    """A 0/255 mask written as a label-index mask: `person` where it was 255, else 0."""
    mask = cv2.imread(str(source), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(mask).tolist()) <= {0, 255}
    assert cv2.imwrite(str(target), np.where(mask >= 128, person, 0).astype(np.uint8))


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Ten real VOC images with their masks, ignore masks and second annotator's masks, as
    0/255 (`binary`) and as 0/1 label masks (`labels`); the second annotator's masks as
    supplied predictions, in both forms."""
    if not VOC.is_dir():
        pytest.fail(f"shared dataset missing: {VOC}")
    root = tmp_path_factory.mktemp("label_masks")
    stems = sorted(p.stem for p in (VOC / "masks_annotator2").glob("*.png"))[:ROWS]
    binary, labels = root / "binary", root / "labels"
    for folder in (binary, labels):
        (folder / "images").mkdir(parents=True)
        for name in MASK_FOLDERS:
            (folder / name).mkdir()
        with open(VOC / "attributes.csv", newline="") as source, \
                open(folder / "attributes.csv", "w", newline="") as target:
            reader = csv.DictReader(source)
            writer = csv.DictWriter(target, reader.fieldnames)
            writer.writeheader()
            writer.writerows(row for row in reader if row["image"] in stems)
    predictions = {"binary": root / "pred_binary", "labels": root / "pred_labels"}
    for folder in predictions.values():
        folder.mkdir()
    for stem in stems:
        for folder in (binary, labels):
            shutil.copyfile(VOC / "images" / f"{stem}.jpg", folder / "images" / f"{stem}.jpg")
        for name in MASK_FOLDERS:
            shutil.copyfile(VOC / name / f"{stem}.png", binary / name / f"{stem}.png")
            _as_labels(VOC / name / f"{stem}.png", labels / name / f"{stem}.png")
        shutil.copyfile(VOC / "masks_annotator2" / f"{stem}.png",
                        predictions["binary"] / f"{stem}.png")
        _as_labels(VOC / "masks_annotator2" / f"{stem}.png",
                   predictions["labels"] / f"{stem}.png")
    return SimpleNamespace(root=root, stems=stems, binary=binary, labels=labels,
                           predictions=predictions)


def _problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("fairness-eval:")]


def _per_image(run_dir: Path) -> pd.DataFrame:
    table = pd.read_csv(run_dir / "per_image.csv", dtype={"image": str})
    return table.sort_values("image").reset_index(drop=True)


# --------------------------------------------------------------------------- validate


def test_validate_refuses_each_label_mask_naming_the_option(cli, sets):
    done = cli("validate", "--dataset", sets.labels)
    assert done.returncode == 2
    lines = _problem_lines(done.stderr)
    assert len(lines) == ROWS
    for stem, line in zip(sets.stems, lines, strict=True):
        assert f"masks/{stem}.png" in line
        assert "holds only values 0 and 1" in line
        assert "a label-index mask? pass --mask-person-value 1" in line
        assert "(and 2 more)" in line  # its ignore and annotator masks too
    assert done.stderr.splitlines()[-1].startswith(f"fairness-eval: error: {ROWS} invalid row(s)")
    assert f"{ROWS} rows, 0 valid, {ROWS} with problems" in done.stdout


def test_validate_with_the_option_accepts_label_masks(cli, sets):
    done = cli("validate", "--dataset", sets.labels, "--mask-person-value", "1")
    assert done.returncode == 0, done.stderr
    assert f"{ROWS} rows, {ROWS} valid, 0 with problems" in done.stdout


def test_the_binary_masks_validate_as_before(cli, sets):
    done = cli("validate", "--dataset", sets.binary)
    assert done.returncode == 0, done.stderr
    assert f"{ROWS} rows, {ROWS} valid, 0 with problems" in done.stdout


def test_under_the_option_0_255_masks_are_refused_not_read_as_empty(cli, sets):
    done = cli("validate", "--dataset", sets.binary, "--mask-person-value", "1")
    assert done.returncode == 2
    lines = _problem_lines(done.stderr)
    assert len(lines) == ROWS
    for stem, line in zip(sets.stems, lines, strict=True):
        assert f"masks/{stem}.png" in line
        assert ("mask holds only 0 and 255 (a 0/255 mask), but --mask-person-value 1 reads "
                "person where the value is 1: no pixel would be person") in line
        assert "(and 2 more)" in line  # its ignore and annotator masks


def test_under_the_option_an_ignore_mask_holds_0_and_the_value_alone(sets, tmp_path):
    from fairness_eval.data.file_checks import file_problems
    from fairness_eval.data.samples import Sample

    stem = sets.stems[0]
    sample = Sample(1, stem, sets.labels / "images" / f"{stem}.jpg",
                    sets.labels / "masks" / f"{stem}.png",
                    ignore=sets.binary / "ignore" / f"{stem}.png", person_value=1)
    assert file_problems(sample) == [(str(sample.ignore), "ignore mask also holds 255: with "
                                      "--mask-person-value 1 an ignore mask holds 0 and 1 "
                                      "alone")]
    labelled = Sample(1, stem, sample.image, sample.mask,
                      ignore=sets.labels / "ignore" / f"{stem}.png", person_value=1)
    assert file_problems(labelled) == []


def test_an_out_of_range_value_is_one_line(cli, sets):
    done = cli("validate", "--dataset", sets.labels, "--mask-person-value", "256")
    assert done.returncode == 2
    assert done.stderr.strip() == ("fairness-eval: error: --mask-person-value: 256 must be "
                                   "at most 255")


# --------------------------------------------------------------------------- run


def test_run_refuses_label_masks_before_anything_is_evaluated(cli, sets, tmp_path):
    out = tmp_path / "run"
    done = cli("run", "--dataset", sets.labels, "--predictions", sets.predictions["labels"],
               "--out", out, *FAST)
    assert done.returncode == 2
    lines = _problem_lines(done.stderr)
    assert len(lines) == ROWS
    assert all("--mask-person-value 1" in line for line in lines)
    assert done.stderr.splitlines()[-1] == ("fairness-eval: error: 10 invalid row(s); fix "
                                            "them or pass --skip-invalid")
    assert not (out / "results.json").exists()


def test_label_predictions_are_refused_without_the_option(cli, sets, tmp_path):
    out = tmp_path / "run"
    done = cli("run", "--dataset", sets.binary, "--predictions", sets.predictions["labels"],
               "--out", out, *FAST)
    assert done.returncode == 2
    lines = _problem_lines(done.stderr)
    # Rows whose prediction is all 0 read the same either way and are not refused.
    nonempty = [s for s in sets.stems
                if cv2.imread(str(sets.predictions["labels"] / f"{s}.png"), -1).any()]
    assert len(lines) == len(nonempty) > 0
    for stem, line in zip(nonempty, lines, strict=True):
        assert f"pred_labels/{stem}.png" in line
        assert "prediction holds only values 0 and 1" in line
        assert "pass --mask-person-value 1" in line
    assert not (out / "results.json").exists()


@pytest.mark.slow
def test_with_the_option_every_count_equals_the_binary_runs(cli, sets, tmp_path):
    """Ground truth, ignore, annotator masks and supplied predictions all as 0/1."""
    binary, labels = tmp_path / "binary", tmp_path / "labels"
    done = cli("run", "--dataset", sets.binary, "--predictions", sets.predictions["binary"],
               "--out", binary, *FAST)
    assert done.returncode == 0, done.stderr
    done = cli("run", "--dataset", sets.labels, "--predictions", sets.predictions["labels"],
               "--out", labels, "--mask-person-value", "1", *FAST)
    assert done.returncode == 0, done.stderr
    expected, found = _per_image(binary), _per_image(labels)
    assert len(found) == ROWS and (found["status"] == "ok").all()
    assert found["gt_area"].gt(0).all() and found["ignored_pixels"].gt(0).all()
    assert 0.5 < found["iou"].mean() < 1.0  # the second annotator's masks: close, not equal
    annotator = [c for c in expected.columns if "annotator" in c]
    assert annotator and expected[annotator].notna().all().all()
    pd.testing.assert_frame_equal(found[COUNTS + annotator], expected[COUNTS + annotator])
    assert "mask_person_value" not in _settings(binary)
    assert _settings(labels)["mask_person_value"] == 1


def test_under_the_option_0_255_predictions_are_refused_not_read_as_empty(cli, sets,
                                                                          tmp_path):
    out = tmp_path / "run"
    done = cli("run", "--dataset", sets.labels, "--predictions", sets.predictions["binary"],
               "--mask-person-value", "1", "--out", out, *FAST)
    assert done.returncode == 2
    lines = _problem_lines(done.stderr)
    assert len(lines) == ROWS
    assert all("pred_binary/" in line and "prediction holds only 0 and 255 (a 0/255 mask), "
               "but --mask-person-value 1 reads person where the value is 1" in line
               for line in lines)
    assert not (out / "results.json").exists()


def _settings(run_dir: Path) -> dict:
    import json

    return json.loads((run_dir / "results.json").read_text())["settings"]


@pytest.mark.slow
@pytest.mark.real_run
def test_the_real_model_scores_label_masks_as_the_binary_ones(cli, sets, tmp_path,
                                                              model_file):
    binary, labels = tmp_path / "binary", tmp_path / "labels"
    done = cli("run", "--dataset", sets.binary, "--out", binary, *FAST)
    assert done.returncode == 0, done.stderr
    done = cli("run", "--dataset", sets.labels, "--out", labels, "--mask-person-value", "1",
               *FAST)
    assert done.returncode == 0, done.stderr
    expected, found = _per_image(binary), _per_image(labels)
    assert len(found) == ROWS and (found["status"] == "ok").all()
    assert found["pred_area"].gt(0).all()
    columns = COUNTS + [c for c in expected.columns if "annotator" in c]
    pd.testing.assert_frame_equal(found[columns], expected[columns])


# --------------------------------------------------------------------------- VOC devkit


def _devkit(folder: Path, stems: list[str], swap: bool) -> Path:
    """A VOC year folder of the shared labels; with `swap`, person (15) and aeroplane (1)
    trade indices, as in a devkit whose labelmap puts person at 1."""
    for name in ("JPEGImages", "SegmentationClass"):
        (folder / name).mkdir(parents=True)
    for stem in stems:
        shutil.copyfile(VOC / "images" / f"{stem}.jpg", folder / "JPEGImages" / f"{stem}.jpg")
        with Image.open(VOC / "labels" / f"{stem}.png") as label:
            assert label.mode == "P"
            indices = np.array(label)
            palette = label.getpalette()
        if swap:
            table = np.arange(256, dtype=np.uint8)
            table[[1, 15]] = [15, 1]
            indices = table[indices]
        image = Image.fromarray(indices, "P")
        image.putpalette(palette)
        image.save(folder / "SegmentationClass" / f"{stem}.png")
    return folder


def test_the_voc_devkit_person_class_is_the_option(cli, sets, tmp_path):
    stems = sets.stems[:4]
    standard = _devkit(tmp_path / "standard", stems, swap=False)
    swapped = _devkit(tmp_path / "swapped", stems, swap=True)
    # The option reads supplied predictions as label indices too.
    predictions = {"binary": tmp_path / "predictions", "labels": tmp_path / "label_predictions"}
    for kind, folder in predictions.items():
        folder.mkdir()
        for stem in stems:
            shutil.copyfile(sets.predictions[kind] / f"{stem}.png", folder / f"{stem}.png")
    runs = {}
    for name, dataset, kind, extra in (
            ("standard", standard, "binary", ()),
            ("swapped", swapped, "labels", ("--mask-person-value", "1")),
            ("unswapped", swapped, "binary", ())):
        runs[name] = tmp_path / f"run_{name}"
        done = cli("run", "--dataset", dataset, "--predictions", predictions[kind],
                   "--out", runs[name], *extra, *FAST)
        assert done.returncode == 0, done.stderr
    expected, found = _per_image(runs["standard"]), _per_image(runs["swapped"])
    assert expected["gt_area"].gt(0).all()
    pd.testing.assert_frame_equal(found[COUNTS], expected[COUNTS])
    # Without the option the swapped devkit's class 15 is no person: the figures differ.
    assert not _per_image(runs["unswapped"])["gt_area"].equals(expected["gt_area"])


def test_the_option_is_refused_for_a_layout_it_cannot_apply_to(cli, tmp_path):
    from format_helpers import build_penn_fudan

    folder = build_penn_fudan(tmp_path / "pf", sorted(p.stem for p in
                                                       (VOC / "masks").glob("*.png"))[:1])
    done = cli("validate", "--dataset", folder, "--mask-person-value", "1")
    assert done.returncode == 2
    assert "--mask-person-value 1:" in done.stderr and "penn-fudan dataset" in done.stderr


# --------------------------------------------------------------------------- the rule of a folder


def _prediction_set(folder: Path, predictions: dict[str, np.ndarray]):
    """A dataset of one image per prediction (the image's size), for check_predictions."""
    from fairness_eval.data.samples import Dataset, Sample

    (folder / "images").mkdir(parents=True)
    (folder / "predictions").mkdir()
    samples = []
    for row, (name, values) in enumerate(predictions.items(), start=1):
        image = folder / "images" / f"{name}.png"
        assert cv2.imwrite(str(image), np.zeros((*values.shape, 3), np.uint8))
        assert cv2.imwrite(str(folder / "predictions" / f"{name}.png"), values)
        samples.append(Sample(row, name, image, folder / "masks" / f"{name}.png"))
    return Dataset(folder, "set", folder, len(samples), samples, [], [], [])


def _refused(folder: Path, predictions: dict[str, np.ndarray], person_value=None) -> dict:
    from fairness_eval.evaluation.predictions import check_predictions

    dataset = _prediction_set(folder, predictions)
    check_predictions(dataset, folder / "predictions", person_value)
    assert len(dataset.samples) + len(dataset.problems) == len(predictions)
    return {problem.image: problem.reason for problem in dataset.problems}


def _person(shape=(40, 60), value=1) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    mask[10:30, 20:45] = value
    return mask


def _soft(top: int, shape=(40, 60)) -> np.ndarray:
    """A smooth probability map peaking at `top`: every value 0..top occurs."""
    y, x = np.mgrid[0:shape[0], 0:shape[1]]
    bump = np.exp(-((y - 20) ** 2 + (x - 30) ** 2) / 300.0)
    return np.rint(bump / bump.max() * top).astype(np.uint8)


def test_a_folder_of_label_predictions_is_refused_row_by_row(tmp_path):
    refused = _refused(tmp_path, {"a": _person(), "b": _person(), "c": np.zeros((40, 60),
                                                                               np.uint8)})
    assert set(refused) == {"a", "b"}  # all-zero reads the same either way
    assert all(reason.startswith("prediction holds only values 0 and 1") and
               reason.endswith("pass --mask-person-value 1") for reason in refused.values())


def test_near_empty_maps_beside_maps_that_reach_128_are_probability_maps(tmp_path):
    faint = np.zeros((40, 60), np.uint8)
    faint[:5, :5] = [0, 1, 2, 3, 1]  # an image without a person: the model's noise
    assert _refused(tmp_path, {"a": _person(value=255), "b": faint, "c": _soft(200)}) == {}


def test_a_low_confidence_map_is_no_label_mask(tmp_path):
    map_80 = _soft(80)
    assert len(np.unique(map_80)) > 8
    assert _refused(tmp_path, {"a": map_80}) == {}


def test_under_the_option_a_probability_map_is_refused(tmp_path):
    soft = _soft(255)
    refused = _refused(tmp_path, {"a": soft, "b": _person(value=1)}, person_value=1)
    assert list(refused) == ["a"]
    assert refused["a"].startswith(f"prediction holds {len(np.unique(soft))} distinct values "
                                   "(a probability map?)")
    assert "--mask-person-value 1 reads predictions as label indices" in refused["a"]


def test_under_the_option_a_prediction_is_person_where_its_value_is_n(tmp_path):
    from fairness_eval.data.samples import Sample
    from fairness_eval.evaluation.predictions import SuppliedPredictions

    values = _person(value=3)
    values[0, 0] = 1
    assert cv2.imwrite(str(tmp_path / "a.png"), values)
    sample = Sample(1, "a", tmp_path / "a.jpg", tmp_path / "m.png")
    found = SuppliedPredictions(tmp_path, 3).person_mask(sample, values.shape, 0.5)
    assert (found == (values == 3)).all() and found.sum() == 20 * 25


def test_the_configuration_file_key_reads_label_masks(cli, sets, tmp_path):
    config = tmp_path / "fairness-eval.toml"
    config.write_text("mask_person_value = 1\n")
    out = tmp_path / "run"
    done = cli("run", "--config", config, "--dataset", sets.labels, "--predictions",
               sets.predictions["labels"], "--out", out, *FAST)
    assert done.returncode == 0, done.stderr
    assert _settings(out)["mask_person_value"] == 1
    assert (_per_image(out)["status"] == "ok").all()
    config.write_text('mask-person-value = "one"\n')
    done = cli("run", "--config", config, "--dataset", sets.labels, "--predictions",
               sets.predictions["labels"], "--out", tmp_path / "other", *FAST)
    assert done.returncode == 2
    assert "mask-person-value" in done.stderr and "Traceback" not in done.stderr
