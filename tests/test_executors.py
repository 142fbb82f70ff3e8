"""The executor interface with the local executor: any task, a model loaded once per worker.

The Dask executor's tests are in test_executor_dask.py; these need no extra. Tasks here are
small functions of this module (workers are forked, so they find them by name).
"""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
import time

import pytest

from fairness_eval.evaluation.executors import open_executor
from fairness_eval.evaluation.tasks import Task, WorkerSetup, batch_size, sample_tasks
from fairness_eval.evaluation.warm_imports import import_in_background


def _who_ran(context, payload: int) -> list[dict]:
    time.sleep(0.02)  # long enough that both workers get tasks
    return [{"row": payload, "pid": os.getpid(), "context": id(context),
             "segmenter": id(context.segmenter)}]


def _die(context, payload: int) -> list[dict]:
    os.kill(os.getpid(), signal.SIGKILL)
    return []


@pytest.fixture(scope="module")
def setup(model_file) -> WorkerSetup:
    return WorkerSetup(str(model_file.path))


def test_local_executor_runs_each_task_once_with_one_model_per_worker(setup):
    with open_executor("local", setup, workers=2) as executor:
        assert (executor.workers, executor.in_process) == (2, False)
        rows = [row for task_rows in executor.run(Task(_who_ran, n) for n in range(24))
                for row in task_rows]
    assert sorted(r["row"] for r in rows) == list(range(24))
    pids = {r["pid"] for r in rows}
    assert len(pids) == 2 and os.getpid() not in pids
    for pid in pids:  # every task of a worker saw the same loaded model
        assert len({(r["context"], r["segmenter"]) for r in rows if r["pid"] == pid}) == 1


def test_one_local_worker_runs_tasks_in_this_process(setup):
    with open_executor("local", setup, workers=1) as executor:
        assert executor.in_process
        rows = [r for task_rows in executor.run([Task(_who_ran, 1), Task(_who_ran, 2)])
                for r in task_rows]
    assert {r["pid"] for r in rows} == {os.getpid()}
    assert len({r["segmenter"] for r in rows}) == 1


def test_a_killed_local_worker_stops_the_run_with_one_line(setup):
    with open_executor("local", setup, workers=2) as executor, \
            pytest.raises(RuntimeError, match="a worker process died .*--resume"):
        list(executor.run([Task(_die, 0), *(Task(_who_ran, n) for n in range(1, 6))]))


def test_sample_tasks_cover_every_sample_once_in_batches():
    samples = list(range(203))  # anything sliceable stands for samples here
    tasks = sample_tasks(samples, workers=2)
    assert batch_size(203, 2) == 8 and batch_size(40, 2) == 2 and batch_size(5, 4) == 1
    assert [s for task in tasks for s in task.payload] == samples
    assert {len(task.payload) for task in tasks[:-1]} == {8} and tasks[-1].rows == 3


def test_keep_freed_memory_sets_glibc_thresholds():
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's")
    probe = "from fairness_eval.evaluation.memory import keep_freed_memory as k; print(k())"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "True", done.stderr


def test_warm_imports_load_modules_and_leave_failures_to_the_real_import():
    assert import_in_background([]) is None
    name = "fairness_eval.report.formatting"
    sys.modules.pop(name, None)
    thread = import_in_background(["fairness_eval.no_such_module", name])
    thread.join(timeout=60)
    assert not thread.is_alive() and name in sys.modules


def test_workers_start_before_the_statistics_stack_is_imported():
    # What `run` imports before it forks its workers: a module added here that imports
    # pandas or scipy at its top delays every run's first result by their import (~0.6 s).
    probe = ("import sys, fairness_eval.cli, fairness_eval.workflow, "
             "fairness_eval.evaluation.image_rows, fairness_eval.evaluation.predictor, "
             "fairness_eval.evaluation.predictions, fairness_eval.evaluation.workers, "
             "fairness_eval.evaluation.resume, fairness_eval.data.dataset; "
             "print(sorted(m for m in ('pandas', 'scipy', 'matplotlib', 'weasyprint') "
             "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


FORK_AFTER_OPENCV_THREADS = """
import sys, numpy as np, cv2
from fairness_eval.evaluation.executors import open_executor
from fairness_eval.evaluation.tasks import Task, WorkerSetup

def rows(context, payload):
    return [{"row": payload}]

cv2.setNumThreads(4)  # OpenCV's own thread pool at work in this process, as in a notebook
image = np.zeros((2000, 2000, 3), np.uint8)
for _ in range(3):
    cv2.GaussianBlur(image, (31, 31), 0)
with open_executor("local", WorkerSetup(sys.argv[1]), workers=2) as executor:
    print(sum(len(r) for r in executor.run([Task(rows, n) for n in range(6)])),
          cv2.getNumThreads())
"""


def test_workers_forked_after_opencv_used_its_threads_do_not_hang(model_file):
    done = subprocess.run([sys.executable, "-c", FORK_AFTER_OPENCV_THREADS,
                           str(model_file.path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["6", "4"]  # every row; the caller's thread count kept
