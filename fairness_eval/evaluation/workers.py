"""The local executor: tasks in worker processes forked on this machine.

Each process loads the model once (one LiteRT interpreter is not thread-safe) and sets
OpenCV to one thread, so `workers` processes use `workers` cores. The processes are forked
when the executor is made, so they load the model while the client goes on with its own
start-up. A worker that dies (killed, out of memory) stops the run with one line; the
durable store keeps what was done for --resume. `evaluate_samples` is the one-call form.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from pathlib import Path

import cv2

from ..data.samples import Sample
from ..models.spec import ModelSpec
from .executors import Executor
from .memory import keep_freed_memory
from .predictions import SuppliedPredictions
from .tasks import Row, Task, WorkerContext, WorkerSetup, sample_tasks

# Tasks handed out ahead per worker: enough that no worker waits for the next one.
TASKS_AHEAD = 4

# The loaded state of this worker process, set once by _start_worker.
_context: list[WorkerContext] = []


def _start_worker(setup: WorkerSetup) -> None:
    keep_freed_memory()
    _context[:] = [WorkerContext(setup)]


def _run_task(task: Task) -> list[Row]:
    return task.run(_context[0])


def _ready() -> None:
    """A no-op task: submitting it starts the processes (and their model loading) now."""


class LocalExecutor(Executor):
    """Tasks in `workers` forked processes; with one worker, in this process (whose malloc
    then keeps freed memory, as a worker's does: memory.py)."""

    def __init__(self, setup: WorkerSetup, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self._setup = setup
        self._inline: WorkerContext | None = None
        self._pool: ProcessPoolExecutor | None = None
        self.in_process = self.workers == 1
        if self.workers > 1:
            method = "fork" if sys.platform.startswith("linux") else "spawn"
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context(method),
                initializer=_start_worker, initargs=(setup,))
            # A child forked while OpenCV's thread pool runs in this process waits forever
            # for those threads when it sets its own thread count: fork from a quiet pool.
            threads = cv2.getNumThreads()
            cv2.setNumThreads(1)
            try:
                self._pool.submit(_ready)  # forks every worker now (see _ready)
            finally:
                cv2.setNumThreads(threads)

    def run(self, tasks: Iterable[Task]) -> Iterator[list[Row]]:
        if self._pool is None:
            if self._inline is None:
                # This process is the worker: it keeps freed image buffers as workers do.
                keep_freed_memory()
                self._inline = WorkerContext(self._setup)
            for task in tasks:
                yield task.run(self._inline)
            return
        pending = iter(tasks)
        running: set[Future] = {self._pool.submit(_run_task, task)
                                for task in islice(pending, TASKS_AHEAD * self.workers)}
        try:
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    rows = future.result()
                    for task in islice(pending, 1):
                        running.add(self._pool.submit(_run_task, task))
                    yield rows
        except BrokenProcessPool:
            raise RuntimeError("a worker process died (killed, or out of memory?); "
                               "rerun with --resume to continue the run") from None
        finally:
            for future in running:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def evaluate_samples(samples: list[Sample], model: ModelSpec | SuppliedPredictions | Path, *,
                     mask_threshold: float = 0.5, workers: int = 1, threads: int = 1,
                     masks_dir: Path | None = None) -> Iterator[Row]:
    """Yield one row per sample, in completion order, using `workers` local processes.

    `model`: a ModelSpec, supplied predictions, or a model file (its default spec).
    """
    setup = WorkerSetup(model if not isinstance(model, Path) else str(model), threads,
                        mask_threshold,
                        str(masks_dir) if masks_dir else None)
    workers = min(workers, max(1, len(samples)))
    with LocalExecutor(setup, workers) as executor:
        for rows in executor.run(sample_tasks(samples, workers)):
            yield from rows


__all__ = ["LocalExecutor", "TASKS_AHEAD", "evaluate_samples"]
