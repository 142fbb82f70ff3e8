"""Determinism: the same inputs and seed give the same results.json, whatever --workers.

Two real `fairness-eval run`s over the shared VOC set, one with 1 worker (in-process) and
one with 2 worker processes (rows arrive in completion order), must write byte-identical
per_image.csv files and results.json documents that differ only in when and how they ran
(timestamps, command line, --out, --workers). A third run with another --seed shows that
the comparison can fail: its bootstrap intervals move while its per-image table does not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-c",
       "import sys; sys.argv[0] = 'fairness-eval'; from fairness_eval.cli import main; main()"]
COMMON = ["--bootstrap", "2000", "--format", ""]


def run(dataset: Path, out: Path, *options: str) -> Path:
    done = subprocess.run([*CLI, "run", "--dataset", str(dataset), "--out", str(out), *COMMON,
                           *options], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return out


def without_circumstances(run_dir: Path) -> dict:
    document = json.loads((run_dir / "results.json").read_text())
    for key in ("command", "started", "finished"):
        document.pop(key)
    for key in ("out", "workers"):
        document["settings"].pop(key)
    return document


@pytest.fixture(scope="module")
def runs(tmp_path_factory, voc_dataset, model_file) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("determinism")
    return {
        "one_worker": run(voc_dataset, folder / "w1", "--workers", "1", "--seed", "0"),
        "two_workers": run(voc_dataset, folder / "w2", "--workers", "2", "--seed", "0"),
        "other_seed": run(voc_dataset, folder / "s1", "--workers", "2", "--seed", "1"),
    }


def test_one_and_two_workers_write_identical_results(runs):
    one, two = runs["one_worker"], runs["two_workers"]
    assert (one / "per_image.csv").read_bytes() == (two / "per_image.csv").read_bytes()
    assert without_circumstances(one) == without_circumstances(two)
    settings = [json.loads((r / "results.json").read_text())["settings"]["workers"]
                for r in (one, two)]
    assert settings == [1, 2]


def test_the_results_are_not_trivially_equal(runs):
    """The documents hold real numbers, and the seed reaches them."""
    same, other = without_circumstances(runs["two_workers"]), without_circumstances(
        runs["other_seed"])
    assert same["dataset"]["evaluated"] == 300 and 0.5 < same["overall"]["mean_iou"] < 0.9
    assert (runs["two_workers"] / "per_image.csv").read_bytes() == (
        runs["other_seed"] / "per_image.csv").read_bytes()
    assert same["overall"]["mean_iou"] == other["overall"]["mean_iou"]
    assert same["overall"]["ci"] != other["overall"]["ci"]
    same["settings"].pop("seed"), other["settings"].pop("seed")
    assert same != other
