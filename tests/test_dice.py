"""Dice, the metric catalogue's worked example: its per-image values on real masks against an
independent count (the F1 score of the person pixels), its edge cases, and `--metric dice`
end to end on real VOC photos and DAVIS clips."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from video_helpers import davis_subset, run_cli  # noqa: E402

from fairness_eval.config.settings import Settings  # noqa: E402
from fairness_eval.data.dataset import load_dataset  # noqa: E402
from fairness_eval.errors import UsageError  # noqa: E402
from fairness_eval.evaluation.images import read_mask  # noqa: E402
from fairness_eval.evaluation.per_image import decode_sample, evaluate_samples  # noqa: E402
from fairness_eval.metrics.catalogue import METRIC_NAMES, metric_info  # noqa: E402
from fairness_eval.metrics.masks import mask_counts  # noqa: E402
from fairness_eval.metrics.scores import score_masks  # noqa: E402
from fairness_eval.models.segmenter import Segmenter  # noqa: E402


def f1_of_person_pixels(predicted: np.ndarray, truth: np.ndarray,
                        ignore: np.ndarray | None) -> float:
    """Dice computed independently: F1 = 2 TP / (2 TP + FP + FN) over the scored pixels,
    flattened, both masks empty scoring 1 (as IoU does)."""
    scored = np.ones(truth.shape, bool) if ignore is None else ~ignore
    p = predicted.ravel()[scored.ravel()]
    g = truth.ravel()[scored.ravel()]
    tp = int(np.sum(p & g))
    fp = int(np.sum(p & ~g))
    fn = int(np.sum(~p & g))
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def test_dice_is_in_the_catalogue_as_a_ratio_a_clip_can_average():
    dice = metric_info("dice")
    assert dice is not None and "dice" in METRIC_NAMES
    assert (dice.label, dice.lower_is_better, dice.bounds, dice.clip) == ("Dice", False,
                                                                          (0.0, 1.0), True)


def test_edge_cases_follow_iou():
    empty = np.zeros((6, 6), bool)
    person = empty.copy()
    person[1:3, 1:3] = True  # 4 px
    assert score_masks(empty, empty)[1]["dice"] == 1.0  # nothing there, nothing found
    assert score_masks(empty, person)[1]["dice"] == 0.0
    assert score_masks(person, person)[1]["dice"] == 1.0
    half = empty.copy()
    half[1:3, 1:2] = True  # 2 px, all inside the 4 px person
    assert score_masks(half, person)[1]["dice"] == pytest.approx(2 * 2 / (2 + 4))
    # A prediction only on ignored pixels, against no scored person: both empty, 1.0.
    assert score_masks(person, empty, person)[1]["dice"] == 1.0
    # Ignored pixels leave both counts: the person's ignored half is neither hit nor missed.
    ignore = empty.copy()
    ignore[1:3, 2:3] = True
    assert score_masks(half, person, ignore)[1]["dice"] == 1.0


def test_dice_equals_f1_on_real_annotator_masks(voc_dataset):
    """The two annotators' masks of real VOC images (void pixels ignored): 2|A&B|/(|A|+|B|)
    equals the F1 score of the person pixels counted independently."""
    samples = [s for s in load_dataset(voc_dataset).samples if s.annotators][:20]
    assert len(samples) == 20
    for sample in samples:
        decoded = decode_sample(sample)
        for other in decoded.others.values():
            counts, scores = score_masks(other, decoded.truth, decoded.ignore)
            expected = f1_of_person_pixels(other, decoded.truth, decoded.ignore)
            assert scores["dice"] == pytest.approx(expected, rel=1e-12, abs=0)
            iou = counts.masks.iou
            assert scores["dice"] == pytest.approx(2 * iou / (1 + iou), rel=1e-12)
            assert scores["iou"] == mask_counts(other, decoded.truth, decoded.ignore).iou


def test_per_image_rows_hold_dice_of_the_real_predictions(model_file, voc_dataset, tmp_path):
    """The model's masks of real VOC photos, saved by the run: each row's dice is the F1
    of that saved mask against the ground truth, void pixels ignored."""
    samples = load_dataset(voc_dataset).samples[:12]
    rows = evaluate_samples(samples, Segmenter(model_file.path), 0.5, tmp_path)
    checked = 0
    for sample, row in zip(samples, rows, strict=True):
        decoded = decode_sample(sample)
        predicted = read_mask(tmp_path / f"{sample.image_id}.png", decoded.truth.shape,
                              "mask", (tmp_path / f"{sample.image_id}.png").read_bytes())
        expected = f1_of_person_pixels(predicted, decoded.truth, decoded.ignore)
        assert row["dice"] == pytest.approx(expected, rel=1e-12, abs=0)
        assert list(row).index("dice") == list(row).index("boundary_iou") + 1
        checked += 0 < row["dice"] < 1
    assert checked >= 10  # real, imperfect masks, not only the edge cases


def test_metric_dice_is_a_choice_and_a_typo_is_not():
    assert Settings(metric="dice").metric == "dice"
    with pytest.raises(UsageError, match="--metric"):
        Settings(metric="dcie")


def test_run_judges_dice_on_stills(voc_dataset, tmp_path, monkeypatch):
    subset = tmp_path / "voc"
    for folder in ("images", "masks", "ignore"):
        (subset / folder).mkdir(parents=True)
    names = sorted(p.stem for p in (voc_dataset / "images").glob("*.jpg"))[:24]
    for name in names:
        (subset / "images" / f"{name}.jpg").symlink_to(voc_dataset / "images" / f"{name}.jpg")
        for folder in ("masks", "ignore"):
            (subset / folder / f"{name}.png").symlink_to(voc_dataset / folder / f"{name}.png")
    (subset / "attributes.csv").write_text(
        "image,half\n" + "".join(f"{n},{'ab'[i % 2]}\n" for i, n in enumerate(names)))
    out = tmp_path / "run"
    code = run_cli(["run", "--dataset", str(subset), "--attribute", "half", "--metric", "dice",
                    "--min-group-size", "5", "--bootstrap", "200", "--workers", "1",
                    "--out", str(out), "--format", "md"], monkeypatch)
    assert code in (0, 1)
    results = json.loads((out / "results.json").read_text())
    assert results["bootstrap"]["metric"] == "dice"
    with open(out / "per_image.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    dice = np.array([float(r["dice"]) for r in rows if r["status"] == "ok"])
    overall = results["overall"]
    assert overall["value"] == pytest.approx(dice.mean(), rel=1e-12)
    assert "Dice" in (out / "summary.md").read_text()


def test_run_judges_dice_per_clip(tmp_path, monkeypatch):
    root = davis_subset(tmp_path / "davis", frames=3)
    out = tmp_path / "run"
    code = run_cli(["run", "--dataset", str(root), "--attribute", "background",
                    "--metric", "dice", "--min-group-size", "1", "--bootstrap", "200",
                    "--workers", "1", "--out", str(out), "--format", "md"], monkeypatch)
    assert code in (0, 1)
    assert json.loads((out / "results.json").read_text())["bootstrap"]["metric"] == "dice"
    with open(out / "per_frame.csv", newline="") as handle:
        frames = list(csv.DictReader(handle))
    with open(out / "per_clip.csv", newline="") as handle:
        clips = {row["clip"]: row for row in csv.DictReader(handle)}
    for name, row in clips.items():
        mine = [float(f["dice"]) for f in frames if f["clip"] == name and f["status"] == "ok"]
        assert mine and float(row["dice"]) == pytest.approx(np.mean(mine), rel=1e-12)
    # Each frame's Dice is the F1 of its counts (per_frame.csv keeps the areas).
    for frame in (f for f in frames if f["status"] == "ok"):
        areas = int(frame["gt_area"]) + int(frame["pred_area"])
        expected = 1.0 if areas == 0 else 2 * int(frame["intersection"]) / areas
        assert float(frame["dice"]) == pytest.approx(expected, rel=1e-12)
