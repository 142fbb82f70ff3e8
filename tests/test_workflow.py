"""The library workflow: each command as a function that returns what it made and its exit code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from fairness_eval import workflow
from fairness_eval.config.command_options import CheckOptions, TableSettings
from fairness_eval.config.settings import Settings
from fairness_eval.results.document import read_per_image

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
CARD_TABLE = REFERENCE / "mediapipe_selfie_2021_card.csv"


def test_validate_returns_the_counts_it_prints(voc_dataset):
    printed: list[str] = []
    result = workflow.validate(voc_dataset, ["bourdev_subcategory"], echo=printed.append)
    assert (result.exit_code, result.error, result.rows, result.valid) == (0, None, 300, 300)
    counts = result.value_counts["bourdev_subcategory"]
    assert (counts["Male"], counts["Female"], counts["Child"]) == (32, 20, 8)
    assert ["Male", "32"] in [line.split() for line in printed]


def _folder(root: Path, images: dict[str, bytes]) -> Path:
    """A folder dataset of the given encoded images, each with an empty 8-bit mask."""
    for name in ("images", "masks"):
        (root / name).mkdir(parents=True)
    for stem, data in images.items():
        (root / "images" / f"{stem}.png").write_bytes(data)
        cv2.imwrite(str(root / "masks" / f"{stem}.png"), np.zeros((64, 64), np.uint8))
    return root


def _png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    return cv2.imencode(".png", pixels)[1].tobytes()


def _corrupt_png() -> bytes:
    """A PNG whose header and end pass validation but whose pixel data cannot be decoded."""
    data = bytearray(_png(99))
    start = data.index(b"IDAT") + 4
    data[start + 8 : start + 40] = bytes(32)
    return bytes(data)


def test_validate_with_problems_implies_exit_2(tmp_path):
    data = _folder(tmp_path / "data", {"a": _png(0)})
    (data / "images" / "b.png").write_bytes(_png(1))  # no mask
    logged: list[str] = []
    result = workflow.validate(data, echo=lambda _: None, log=logged.append)
    assert result.exit_code == 2 and result.valid == 1
    assert result.error == f"1 invalid row(s) in {data}"
    assert logged == list(result.problems) and "missing mask" in logged[0]


def test_a_row_broken_during_inference_fails_the_run_unless_skip_invalid(tmp_path, model_file):
    data = _folder(tmp_path / "data", {"a": _png(0), "b": _png(1), "c": _corrupt_png()})
    logged: list[str] = []
    strict = workflow.run(data, Settings(out=tmp_path / "strict", workers=1, bootstrap=200,
                                         formats=(), gate=True),
                          echo=lambda _: None, log=logged.append)
    assert strict.exit_code == 2 and strict.gate_exit_code is None  # not gated
    assert strict.error.startswith("1 row(s) could not be evaluated")
    assert [row["image"] for row in strict.failed_rows] == ["c"]
    assert [line for line in logged if line.startswith("skipped: ")] == [
        f"skipped: {strict.failed_rows[0]['reason']}"]
    assert (tmp_path / "strict" / "results.json").exists()  # recorded all the same

    # No attribute: the gate has nothing to check, which it accepts only when allowed.
    accepted = workflow.run(data, Settings(out=tmp_path / "skip", workers=1, bootstrap=200,
                                           formats=("md",), gate=True, skip_invalid=True,
                                           allow_empty_gate=True),
                            echo=lambda _: None, log=lambda _: None)
    assert accepted.error is None and accepted.exit_code == accepted.gate_exit_code == 0
    assert accepted.reports == (tmp_path / "skip" / "summary.md",)
    assert accepted.document.dataset.evaluated == 2
    assert (tmp_path / "skip" / "junit.xml").exists()


def test_card_from_a_table_without_intervals_gates_on_point_verdicts(tmp_path):
    printed: list[str] = []
    result = workflow.card_from_table(
        CARD_TABLE, tmp_path / "card", TableSettings(average="96.57", inter_annotator_iou=98.74),
        formats="md", gate=True, echo=printed.append)
    assert result.exit_code == result.gate_exit_code == 0
    assert result.document.is_table and result.document.overall.value == pytest.approx(0.9657)
    assert result.reports == (tmp_path / "card" / "summary.md",)
    assert printed[-1].startswith("fairness gate: passed (")
    assert "on point verdicts" in printed[-1]


def test_card_from_a_table_does_not_load_the_evaluation_pipeline(tmp_path):
    script = (
        "import sys\n"
        "from fairness_eval import workflow\n"
        f"workflow.card_from_table({str(CARD_TABLE)!r}, {str(tmp_path / 'card')!r}, "
        "formats=(), echo=lambda _: None)\n"
        "print(sorted(m for m in sys.modules if m.startswith('fairness_eval.evaluation')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = ast.literal_eval(done.stdout)  # a printed list of module names
    assert "fairness_eval.evaluation.image_rows" not in loaded  # the per-image evaluation
    assert "fairness_eval.evaluation.executors" not in loaded
    assert "fairness_eval.evaluation.run_dir" in loaded


def test_dataset_images_find_every_evaluated_image_of_a_run(voc_run):
    run_dir, _ = voc_run
    images = workflow.dataset_images(run_dir)
    assert set(images) == set(read_per_image(run_dir)["image"].astype(str))
    image, truth, ignore = images[sorted(images)[0]].read()
    assert image.ndim == 3 and image.shape[:2] == truth.shape == ignore.shape
    assert set(np.unique(truth)) <= {0, 255} and truth.max() == 255


def test_report_examples_draw_the_runs_images(voc_run, tmp_path):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(voc_run[0], run_dir)
    workflow.report(run_dir, "html", examples=1, echo=lambda _: None)
    html = (run_dir / "model_card.html").read_text()
    # one overlay per group of bourdev_subcategory (every group has at least one image)
    groups = voc_run[1].document.attributes["bourdev_subcategory"].groups
    assert html.count('src="data:image/jpeg;base64,') == len(groups)


def test_report_examples_of_a_published_table_say_there_are_no_images(tmp_path):
    from fairness_eval.errors import UsageError

    workflow.card_from_table(CARD_TABLE, tmp_path / "card", formats=(), echo=lambda _: None)
    assert workflow.dataset_images(tmp_path / "card") is None
    with pytest.raises(UsageError, match="--examples: this run has no per_image.csv"):
        workflow.report(tmp_path / "card", "html", examples=1, echo=lambda _: None)


def test_report_and_check_return_what_they_wrote(voc_run, tmp_path):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(voc_run[0], run_dir)
    rendered = workflow.report(run_dir, "md,json", echo=lambda _: None)
    assert rendered.exit_code == 0
    assert rendered.reports == (run_dir / "summary.md", run_dir / "model_card.json")
    printed: list[str] = []
    # Male alone reaches 30 images, and criterion (b) compares two groups or more: nothing
    # could be gated, which is not a pass.
    checked = workflow.check(run_dir, echo=printed.append, env={})
    assert checked.exit_code == 2 and not checked.passed
    assert checked.error.startswith("fairness gate: nothing was checked")
    assert "too few groups" in checked.error and "--min-group-size" in checked.error
    assert "inter-annotator" not in checked.error  # the dataset has a second annotator
    assert (run_dir / "junit.xml").exists()
    allowed = workflow.check(run_dir, CheckOptions(allow_empty_gate=True), echo=printed.append,
                             env={})
    assert allowed.passed and allowed.error is None
    assert printed[-1].startswith("fairness gate: passed with nothing checked")
