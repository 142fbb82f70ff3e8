"""A real run end to end: the model over the shared VOC images, the run folder it writes."""

import dataclasses
import shutil
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from fairness_eval.config.settings import Settings
from fairness_eval.data.dataset import load_dataset
from fairness_eval.data.samples import InvalidDataset
from fairness_eval.errors import UsageError
from fairness_eval.evaluation.workers import evaluate_samples
from fairness_eval.results.document import read_per_image, read_results
from fairness_eval.workflow.run import run_evaluation


def test_saved_masks_reproduce_every_per_image_number(voc_run, voc_dataset):
    run_dir, _ = voc_run
    table = read_per_image(run_dir)
    assert len(table) == 300 and (table["status"] == "ok").all()
    for row in table.itertuples():
        predicted = cv2.imread(str(run_dir / "masks" / f"{row.image}.png"), cv2.IMREAD_UNCHANGED)
        assert set(np.unique(predicted)) <= {0, 255}
        truth = cv2.imread(str(voc_dataset / "masks" / f"{row.image}.png"), 0) >= 128
        scored = cv2.imread(str(voc_dataset / "ignore" / f"{row.image}.png"), 0) < 128
        p, t = (predicted == 255) & scored, truth & scored
        intersection, union = int((p & t).sum()), int((p | t).sum())
        assert (row.intersection, row.union) == (intersection, union), row.image
        assert row.iou == pytest.approx(intersection / union if union else 1.0)
        assert (row.gt_area, row.pred_area) == (int(t.sum()), int(p.sum()))


def test_results_document_has_the_promised_keys(voc_run):
    run_dir, outcome = voc_run
    document = read_results(run_dir)
    # What was written reads back as what was built, plus the hashes of the tables beside it.
    assert dataclasses.replace(document, tables=None) == outcome.document
    assert document.tables is not None
    assert document.model.sha256.startswith("9ee168ec")
    assert document.model.input_shape == (1, 256, 256, 3)
    assert document.dataset.rows == 300 and document.dataset.evaluated == 300
    assert document.dataset.skipped == ()
    assert set(document.versions) >= {"fairness_eval", "litert", "numpy", "opencv", "python"}
    table = read_per_image(run_dir)
    overall = document.overall
    assert overall.n == 300
    assert overall.mean_iou == pytest.approx(table["iou"].mean())
    assert overall.pooled_iou == pytest.approx(table["intersection"].sum()
                                               / table["union"].sum())
    groups = document.attributes["bourdev_subcategory"].groups
    assert {g: v.n for g, v in groups.items()} == {
        "(not annotated)": 238, "Child": 8, "Female": 20, "Male": 32, "Unknown": 1, "mixed": 1}
    male = table[table["bourdev_subcategory"] == "Male"]
    assert groups["Male"].mean_iou == pytest.approx(male["iou"].mean())


def test_inter_annotator_iou_comes_from_the_second_annotator(voc_run):
    run_dir, _ = voc_run
    table = read_per_image(run_dir)
    assert table["iou_annotator2"].notna().sum() == 61
    assert np.allclose(table["inter_annotator_iou"].dropna(), table["iou_annotator2"].dropna())
    iaa = read_results(run_dir).inter_annotator_iou
    assert iaa.source == "dataset" and iaa.annotators == ("annotator2",)
    # SOURCE.md measured 0.955 for VOC vs annotator 2 with void ignored
    assert iaa.value == pytest.approx(0.955, abs=0.001)
    assert iaa.ci[0] < iaa.value < iaa.ci[1]


def test_one_and_two_workers_give_identical_rows(voc_dataset, model_file):
    samples = load_dataset(voc_dataset).samples[:24]
    one = sorted(evaluate_samples(samples, model_file.path, workers=1), key=lambda r: r["row"])
    two = sorted(evaluate_samples(samples, model_file.path, workers=2), key=lambda r: r["row"])
    assert one == two


def broken_copy(voc_dataset: Path, target: Path, n: int = 12) -> Path:
    """A small folder dataset from VOC images (copied into a temp dir), two rows broken."""
    for folder in ("images", "masks"):
        (target / folder).mkdir(parents=True)
    stems = sorted(p.stem for p in (voc_dataset / "images").glob("*.jpg"))[:n]
    for stem in stems:
        shutil.copy(voc_dataset / "images" / f"{stem}.jpg", target / "images")
        shutil.copy(voc_dataset / "masks" / f"{stem}.png", target / "masks")
    (target / "masks" / f"{stems[0]}.png").write_bytes(b"")  # zero-byte mask
    cv2.imwrite(str(target / "masks" / f"{stems[1]}.png"), np.zeros((5, 5), np.uint8))
    return target


def test_invalid_rows_stop_the_run_unless_skipped(voc_dataset, tmp_path):
    data = broken_copy(voc_dataset, tmp_path / "data")
    with pytest.raises(InvalidDataset) as raised:
        run_evaluation(data, Settings(out=tmp_path / "a", workers=1, bootstrap=200, formats=()))
    assert len(raised.value.problems) == 2
    assert not (tmp_path / "a").exists()  # nothing evaluated, nothing written
    outcome = run_evaluation(data, Settings(out=tmp_path / "b", workers=1, bootstrap=200,
                                            skip_invalid=True, formats=()))
    dataset = outcome.document.dataset
    assert dataset.rows == 12 and dataset.evaluated == 10 and len(dataset.skipped) == 2
    assert {s.row for s in dataset.skipped} == {1, 2}
    assert "empty file" in dataset.skipped[0].reason
    table = pd.read_csv(tmp_path / "b" / "per_image.csv")
    assert list(table["status"]).count("skipped") == 2 and len(table) == 12


def test_a_non_empty_out_is_not_overwritten_unless_asked(voc_dataset, tmp_path):
    data = broken_copy(voc_dataset, tmp_path / "data", n=4)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    settings = Settings(out=out, workers=1, bootstrap=200, skip_invalid=True, formats=())
    with pytest.raises(UsageError, match="not empty; pass --overwrite"):
        run_evaluation(data, settings)
    run_evaluation(data, dataclasses.replace(settings, overwrite=True))
    assert (out / "notes.txt").read_text() == "mine" and (out / "results.json").exists()


def test_resume_into_a_folder_without_progress_is_refused(voc_dataset, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text("{}")  # the user's, or another tool's
    settings = Settings(out=out, workers=1, bootstrap=200, resume=True, skip_invalid=True,
                        formats=())
    with pytest.raises(UsageError, match="holds no progress.sqlite"):
        run_evaluation(broken_copy(voc_dataset, tmp_path / "data", n=4), settings)
    assert (out / "results.json").read_text() == "{}"


def test_overwrite_leaves_no_stale_masks_or_reports(voc_dataset, tmp_path):
    data = broken_copy(voc_dataset, tmp_path / "data", n=4)
    out = tmp_path / "out"
    run_evaluation(data, Settings(out=out, workers=1, bootstrap=200, skip_invalid=True,
                                  save_masks=True, formats=()))
    assert len(list((out / "masks").glob("*.png"))) == 2
    # Written by hand, not by fairness-eval: no ledger lists it, so --overwrite keeps it
    # (--overwrite removes only what fairness-eval wrote, never the user's files).
    (out / "junit.xml").write_text("<old/>")
    run_evaluation(data, Settings(out=out, workers=1, bootstrap=200, skip_invalid=True,
                                  overwrite=True, formats=()))
    assert not (out / "masks").exists() and (out / "junit.xml").read_text() == "<old/>"


def test_an_image_the_model_cannot_take_is_skipped_not_fatal(voc_dataset, model_file,
                                                             monkeypatch):
    from fairness_eval.models import segmenter

    samples = load_dataset(voc_dataset).samples[:3]

    def refuse(*args):
        raise cv2.error("image too large for the warp")

    # Where a huge image fails: the resize to the model's size, one image at a time or
    # in a group the model is invoked on at once.
    monkeypatch.setattr(segmenter, "to_model_size", refuse)
    rows = list(evaluate_samples(samples, model_file.path, workers=1))
    assert [r["status"] for r in rows] == ["skipped"] * 3
    assert "could not be segmented (image too large for the warp)" in rows[0]["reason"]
