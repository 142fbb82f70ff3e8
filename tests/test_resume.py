"""Durable progress: a real `fairness-eval run` killed with SIGKILL resumes where it stopped.

The killed run works over the shared VOC set (by path). Its progress store must hold the
rows finished before the kill; `--resume` with the same `--out` must evaluate only the
missing rows and end with a per_image.csv and results.json identical to an uninterrupted
run's (apart from when and how it ran: timestamps, command line, --out, --resume,
--workers). A resume whose settings or input content differ is refused with exit 2.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
from run_helpers import comparable, stored_rows

from fairness_eval.errors import UsageError

CLI = [sys.executable, "-c",
       "import sys; sys.argv[0] = 'fairness-eval'; from fairness_eval.cli import main; main()"]
STATISTICS = ["--bootstrap", "1000", "--seed", "3", "--format", ""]
def fairness_eval(*arguments: object, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, arguments)], capture_output=True, text=True,
                          timeout=timeout)




def kill_mid_run(dataset: Path, out: Path, rows: int) -> int:
    """Start a 1-worker run, SIGKILL it once some rows (not all) are stored; rows kept."""
    process = subprocess.Popen(
        [*CLI, "run", "--dataset", str(dataset), "--out", str(out), "--workers", "1",
         *STATISTICS],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if 0 < stored_rows(out) < rows:
                break
            time.sleep(0.01)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the whole group: no worker survives
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    return stored_rows(out)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, voc_dataset, model_file) -> Path:
    out = tmp_path_factory.mktemp("resume") / "uninterrupted"
    done = fairness_eval("run", "--dataset", voc_dataset, "--out", out, "--workers", "1",
                         *STATISTICS)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def killed(tmp_path_factory, voc_dataset, uninterrupted) -> tuple[Path, int]:
    """A run folder whose run was killed mid-way, kept pristine (tests resume copies)."""
    out = tmp_path_factory.mktemp("resume") / "killed"
    kept = kill_mid_run(voc_dataset, out, rows=300)
    assert 0 < kept < 300
    assert not (out / "results.json").exists() and not (out / "per_image.csv").exists()
    return out, kept


def test_killed_run_resumes_to_the_uninterrupted_results(killed, uninterrupted, voc_dataset,
                                                         tmp_path):
    original, kept = killed
    out = tmp_path / "run"
    shutil.copytree(original, out)  # the store with its write-ahead log, as the kill left it
    resumed = fairness_eval("run", "--dataset", voc_dataset, "--out", out, "--resume",
                            "--workers", "2", *STATISTICS)
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr
    assert f"resuming: {kept} of 300 rows already evaluated, {300 - kept} to go" in \
        resumed.stderr
    assert (out / "per_image.csv").read_bytes() == (uninterrupted / "per_image.csv").read_bytes()
    assert comparable(out) == comparable(uninterrupted)
    assert stored_rows(out) == 300


def test_resume_keeps_the_stored_rows_instead_of_recomputing_them(killed, voc_dataset,
                                                                  uninterrupted, tmp_path):
    original, kept = killed
    out = tmp_path / "run"
    shutil.copytree(original, out)
    # Mark one stored row: if --resume evaluated it again, the mark would be gone.
    with sqlite3.connect(out / "progress.sqlite") as connection:
        row, data = connection.execute("SELECT row, data FROM rows ORDER BY row LIMIT 1"
                                       ).fetchone()
        marked = {**json.loads(data), "iou": 0.123456}
        # Written with its hash, as the store writes a row, so it reads as stored.
        text = json.dumps(marked)
        connection.execute("UPDATE rows SET data = ?, data_sha256 = ? WHERE row = ?",
                           (text, hashlib.sha256(text.encode("utf-8")).hexdigest(), row))
    resumed = fairness_eval("run", "--dataset", voc_dataset, "--out", out, "--resume",
                            "--workers", "1", *STATISTICS)
    assert resumed.returncode == 0, resumed.stderr
    table = _csv_rows(out / "per_image.csv")
    reference = _csv_rows(uninterrupted / "per_image.csv")
    assert table[row]["iou"] == "0.123456" != reference[row]["iou"]
    assert {r: v for r, v in table.items() if r != row} == \
        {r: v for r, v in reference.items() if r != row}


def _csv_rows(path: Path) -> dict[int, dict[str, str]]:
    import csv

    with open(path, newline="") as handle:
        return {int(r["row"]): r for r in csv.DictReader(handle)}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (["--threshold", "0.6"], "threshold: was 0.5, now 0.6"),
        (["--model", "selfie-landscape"], "model_sha256: was '9ee168ec"),
        (["--save-masks"], "save_masks: was False, now True"),
    ],
)
def test_resume_with_another_setting_is_refused(uninterrupted, voc_dataset, tmp_path, change,
                                                named):
    out = tmp_path / "run"
    shutil.copytree(uninterrupted, out)
    before = (out / "results.json").read_bytes()
    refused = fairness_eval("run", "--dataset", voc_dataset, "--out", out, "--resume",
                            "--workers", "1", *STATISTICS, *change)
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    (line,) = [text for text in refused.stderr.splitlines() if "--resume" in text]
    assert line.startswith("fairness-eval: error: --resume:") and named in line
    assert (out / "results.json").read_bytes() == before  # nothing rewritten


@pytest.mark.parametrize("changed", ["image", "mask"])
def test_resume_after_the_content_changed_is_refused(voc_dataset, tmp_path, changed):
    stems = sorted(p.stem for p in (voc_dataset / "images").glob("*.jpg"))[:3]
    mine = tmp_path / "mine"
    mine.mkdir()
    image = shutil.copy(voc_dataset / "images" / f"{stems[0]}.jpg", mine)
    mask = shutil.copy(voc_dataset / "masks" / f"{stems[0]}.png", mine)
    lines = ["image,mask", f"{image},{mask}"]
    lines += [f"{voc_dataset / 'images' / f'{s}.jpg'},{voc_dataset / 'masks' / f'{s}.png'}"
              for s in stems[1:]]
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    first = fairness_eval("run", "--dataset", manifest, "--out", out, "--workers", "1",
                          *STATISTICS)
    assert first.returncode == 0, first.stderr
    # Same size and format, one pixel different: only the content changes.
    path = Path(image if changed == "image" else mask)
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    pixels[0, 0] = 255 - pixels[0, 0]
    assert cv2.imwrite(str(path), pixels)
    refused = fairness_eval("run", "--dataset", manifest, "--out", out, "--resume",
                            "--workers", "1", *STATISTICS)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines()[-1] == (
        f"fairness-eval: error: --resume: {stems[0]} changed since the interrupted run "
        "(image or mask content differs); start a new --out")


def test_a_progress_store_that_is_not_a_database_is_refused(voc_dataset, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "progress.sqlite").write_bytes(b"this is not an SQLite file" * 10)
    # listed by the run ledger, as a run's own store is (a store no run wrote is refused
    # before it is opened: tests/test_hostile_writes.py)
    (out / ".fairness-eval-run.json").write_text('{"files": ["progress.sqlite"]}')
    refused = fairness_eval("run", "--dataset", voc_dataset, "--out", out, "--resume",
                            "--workers", "1", *STATISTICS)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    last = refused.stderr.strip().splitlines()[-1]
    assert "progress.sqlite: not a usable progress store" in last


def test_resume_under_another_opencv_release_is_refused(uninterrupted, voc_dataset, tmp_path):
    """A library release can change per-image numbers: it is part of the resume key."""
    out = tmp_path / "run"
    shutil.copytree(uninterrupted, out)
    with sqlite3.connect(out / "progress.sqlite") as connection:
        (text,) = connection.execute("SELECT value FROM meta WHERE key = 'resume_key'"
                                     ).fetchone()
        key = {**json.loads(text), "opencv_version": "3.4.0"}
        connection.execute("UPDATE meta SET value = ? WHERE key = 'resume_key'",
                           (json.dumps(key),))
    refused = fairness_eval("run", "--dataset", voc_dataset, "--out", out, "--resume",
                            "--workers", "1", *STATISTICS)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"opencv_version: was '3.4.0', now '{cv2.__version__}'" in refused.stderr


def test_a_run_killed_before_its_first_write_starts_afresh_on_resume(tmp_path):
    """A store without a resume key holds nothing: --resume begins the run anew."""
    from fairness_eval.evaluation.store import ProgressStore

    ProgressStore(tmp_path / "progress.sqlite").close()  # tables made, key not yet written
    store = ProgressStore.reopen(tmp_path, {"threshold": 0.5})
    try:
        assert store.done() == {}
        store.add({"row": 1, "image": "a", "iou": 0.5})
    finally:
        store.close()
    reopened = ProgressStore.reopen(tmp_path, {"threshold": 0.5})
    try:
        assert reopened.done() == {1: {"row": 1, "image": "a", "iou": 0.5}}
    finally:
        reopened.close()
    with pytest.raises(UsageError, match=r"threshold: was 0\.5, now 0\.6"):
        ProgressStore.reopen(tmp_path, {"threshold": 0.6})
