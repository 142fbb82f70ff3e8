"""Ctrl-C, SIGTERM and SIGKILL to a real `fairness-eval run` with two worker processes.

Each run is a subprocess in a session of its own, over 120 VOC images (by path, through a
manifest), signalled once its progress store holds rows. What must hold: Ctrl-C (SIGINT
to the whole process group, as a terminal sends it) and SIGTERM to the main process alone
(a cancelled CI job) stop the run within 10 s with 130 and 143, without a traceback; a
second Ctrl-C does not hang it; no process of the run is left (the group is empty, the
workers recorded before the signal are gone), also after SIGKILL to the main process; and
`--resume` then ends with the per_image.csv and results.json of an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_helpers import comparable, processes, stored_rows

CLI = [sys.executable, "-c",
       "import sys; sys.argv[0] = 'fairness-eval'; from fairness_eval.cli import main; main()"]
IMAGES = 120
OPTIONS = ["--attribute", "bourdev_subcategory", "--min-group-size", "5", "--bootstrap", "500",
           "--seed", "5", "--format", "", "--workers", "2"]
STOP_WITHIN_S = 10.0


def fairness_eval(*arguments: object) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, arguments)], capture_output=True, text=True,
                          timeout=600)


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is `pid`, from /proc."""
    return [child for child, _, parent, _ in processes() if parent == pid]


def running(pid: int) -> bool:
    """Whether `pid` is a process that has not ended (a zombie has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def group_is_empty(group: int) -> bool:
    """Whether no process of process group `group` is running (zombies have ended)."""
    return not any(pgrp == group and state not in ("Z", "X")
                   for _, state, _, pgrp in processes())


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class Run:
    """A `run` subprocess in its own session (process group), stderr in a file."""

    def __init__(self, manifest: Path, out: Path, log: Path) -> None:
        self.out = out
        self.log = log
        self.process = subprocess.Popen(
            [*CLI, "run", "--dataset", str(manifest), "--out", str(out), *OPTIONS],
            stdout=subprocess.DEVNULL, stderr=log.open("w"), start_new_session=True)
        self.workers: list[int] = []

    def wait_for_rows(self) -> None:
        """Until the store holds rows and both workers are running; fails if it ended."""
        assert wait_until(lambda: self.process.poll() is not None or (
            stored_rows(self.out) > 0 and len(children_of(self.process.pid)) >= 2), 300)
        self.workers = children_of(self.process.pid)
        assert self.process.poll() is None, "the run ended before it could be signalled"
        assert len(self.workers) == 2 and stored_rows(self.out) < IMAGES

    def stopped_in(self) -> float:
        started = time.monotonic()
        try:
            self.process.wait(timeout=STOP_WITHIN_S + 20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            pytest.fail("the run did not stop (killed with SIGKILL)")
        return time.monotonic() - started

    def assert_nothing_left(self) -> None:
        assert wait_until(lambda: group_is_empty(self.process.pid), 3), \
            "a process of the run's group is still running"
        assert not [pid for pid in self.workers if running(pid)]

    def stderr(self) -> str:
        return self.log.read_text()

    def kill_leftovers(self) -> None:
        if not group_is_empty(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory, voc_dataset: Path) -> Path:
    """The first 120 VOC images with their masks, ignore masks and subcategory (blank
    where Bourdev's annotations have none)."""
    path = tmp_path_factory.mktemp("signals") / "voc120.csv"
    with open(voc_dataset / "attributes.csv", newline="") as handle:
        subcategory = {r["image"]: r["bourdev_subcategory"] for r in csv.DictReader(handle)}
    stems = sorted(p.stem for p in (voc_dataset / "images").glob("*.jpg"))[:IMAGES]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "mask", "ignore", "bourdev_subcategory"])
        for stem in stems:
            writer.writerow([voc_dataset / "images" / f"{stem}.jpg",
                             voc_dataset / "masks" / f"{stem}.png",
                             voc_dataset / "ignore" / f"{stem}.png",
                             subcategory.get(stem, "")])
    return path


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, manifest: Path, model_file) -> Path:
    out = tmp_path_factory.mktemp("signals") / "uninterrupted"
    done = fairness_eval("run", "--dataset", manifest, "--out", out, *OPTIONS)
    assert done.returncode == 0, done.stderr
    return out


def assert_resumes_to(run: Run, manifest: Path, uninterrupted: Path) -> None:
    kept = stored_rows(run.out)
    assert 0 < kept < IMAGES
    assert not (run.out / "results.json").exists()
    resumed = fairness_eval("run", "--dataset", manifest, "--out", run.out, "--resume",
                            *OPTIONS)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {kept} of {IMAGES} rows already evaluated" in resumed.stderr
    assert (run.out / "per_image.csv").read_bytes() == \
        (uninterrupted / "per_image.csv").read_bytes()
    assert comparable(run.out) == comparable(uninterrupted)


@pytest.mark.slow
def test_ctrl_c_stops_the_run_keeps_its_rows_and_exits_130(manifest, uninterrupted, tmp_path):
    run = Run(manifest, tmp_path / "run", tmp_path / "stderr.txt")
    try:
        run.wait_for_rows()
        os.killpg(run.process.pid, signal.SIGINT)  # a terminal's Ctrl-C: every process
        took = run.stopped_in()
        run.assert_nothing_left()
    finally:
        run.kill_leftovers()
    stderr = run.stderr()
    assert run.process.returncode == 130, stderr
    assert took < STOP_WITHIN_S
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    lines = stderr.strip().splitlines()
    assert lines[-1] == "fairness-eval: stopped by SIGINT (Ctrl-C)"
    kept = stored_rows(run.out)
    assert f"interrupted: {kept} of {IMAGES} rows are kept in {run.out / 'progress.sqlite'}; " \
           "run the same command with --resume to continue" in lines
    assert_resumes_to(run, manifest, uninterrupted)


@pytest.mark.slow
@pytest.mark.parametrize("gap", [0.0, 0.3])
def test_a_second_ctrl_c_exits_at_once_and_leaves_no_process(manifest, uninterrupted,
                                                              tmp_path, gap):
    run = Run(manifest, tmp_path / "run", tmp_path / "stderr.txt")
    try:
        run.wait_for_rows()
        os.killpg(run.process.pid, signal.SIGINT)
        time.sleep(gap)  # 0: during the first one's cleanup; 0.3: most likely after it
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGINT)
        took = run.stopped_in()
        run.assert_nothing_left()
    finally:
        run.kill_leftovers()
    stderr = run.stderr()
    assert run.process.returncode == 130, stderr
    assert took < STOP_WITHIN_S
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert stderr.strip().splitlines()[-1] in (
        "fairness-eval: stopped by SIGINT (Ctrl-C)",
        "fairness-eval: SIGINT (Ctrl-C) again: stopping now")
    assert_resumes_to(run, manifest, uninterrupted)


@pytest.mark.slow
def test_sigterm_to_the_main_process_stops_it_and_its_workers(manifest, uninterrupted,
                                                              tmp_path):
    run = Run(manifest, tmp_path / "run", tmp_path / "stderr.txt")
    try:
        run.wait_for_rows()
        os.kill(run.process.pid, signal.SIGTERM)  # the main process only, as a CI runner may
        took = run.stopped_in()
        run.assert_nothing_left()
    finally:
        run.kill_leftovers()
    stderr = run.stderr()
    assert run.process.returncode == 143, stderr
    assert took < STOP_WITHIN_S
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == "fairness-eval: stopped by SIGTERM"
    assert_resumes_to(run, manifest, uninterrupted)


@pytest.mark.slow
def test_workers_die_with_a_main_process_killed_by_sigkill(manifest, tmp_path, model_file):
    run = Run(manifest, tmp_path / "run", tmp_path / "stderr.txt")
    try:
        run.wait_for_rows()
        os.kill(run.process.pid, signal.SIGKILL)
        run.process.wait(timeout=30)
        run.assert_nothing_left()
    finally:
        run.kill_leftovers()
    assert run.process.returncode == -signal.SIGKILL


# The lifetime rules on a bare fork, without the model: a parent that forks a worker,
# prints its pid and sleeps until it is killed.
FORKED_WORKER = """
import os, sys, time
from fairness_eval.evaluation.lifetime import become_worker
parent = os.getpid()
child = os.fork()
if child == 0:
    how = become_worker(parent, parent_death_signal=sys.argv[1] == "prctl")
    print(how, os.getpid(), flush=True)
    time.sleep(120)
    os._exit(0)
time.sleep(120)
"""


@pytest.mark.parametrize("how", ["prctl", "watcher"])
def test_a_worker_exits_when_its_parent_is_killed(how):
    if how == "prctl" and not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux's")
    parent = subprocess.Popen([sys.executable, "-c", FORKED_WORKER, how],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        reported, worker = parent.stdout.readline().split()
        worker = int(worker)
        assert reported == how and running(worker)
        os.kill(worker, signal.SIGINT)  # ignored: only its parent decides
        time.sleep(0.3)
        assert running(worker)
        parent.kill()
        parent.wait(timeout=30)
        assert wait_until(lambda: not running(worker), 3), "the worker outlived its parent"
    finally:
        if not group_is_empty(parent.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(parent.pid, signal.SIGKILL)
        parent.stdout.close()
