"""The local executor: tasks in worker processes started on this machine.

Each process loads the model once (one LiteRT interpreter is not thread-safe) and sets
OpenCV to one thread, so `workers` processes use `workers` cores. The processes are forked
when the executor is made, so they load the model while the client goes on with its own
start-up. Each worker has its own pipe and at most IN_FLIGHT tasks sent ahead; the client
waits on the pipes and the processes alike, so a worker that dies (killed, out of memory)
stops the run with one line, and the durable store keeps what was done for --resume.

Stopping is the client's alone, and never waits on a worker: a finished run tells each
worker to exit; an interrupted or failed one (Ctrl-C, SIGTERM, a task's error) terminates
them and reaps them within STOP_GRACE_S. No thread of the client takes part, so nothing
is left for the interpreter's exit to join. Workers ignore Ctrl-C and die with the client
whatever ends it (lifetime.py). `evaluate_samples` is the one-call form.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import TracebackType

import cv2

from ..data.samples import Sample
from ..models.spec import ModelSpec
from .executors import Executor
from .lifetime import become_worker, blocked_stop_signals
from .memory import keep_freed_memory
from .predictions import SuppliedPredictions
from .tasks import Row, Task, WorkerContext, WorkerSetup, sample_tasks

# Tasks sent ahead to each worker: one at work and one waiting, so no worker idles for a
# round trip, and at the end no worker holds a queue of tasks that another could have run.
IN_FLIGHT = 2
STOP_GRACE_S = 2.0  # how long a stopped worker may take to exit before it is killed
WORKER_DIED = ("a worker process died (killed, or out of memory?); "
               "rerun with --resume to continue the run")


def _worker_main(connection: Connection, setup: WorkerSetup, parent: int,
                 inherited: tuple[int, ...]) -> None:
    """A worker: load the model, then run each task received until told to stop."""
    become_worker(parent)
    # Forked after earlier workers, this process holds copies of the client's ends of
    # their pipes: closed, so that they see the end of their pipe when the client goes.
    for descriptor in inherited:
        with contextlib.suppress(OSError):
            os.close(descriptor)
    keep_freed_memory()
    context: WorkerContext | None = None
    failure: Exception | None = None
    try:
        context = WorkerContext(setup)
    except Exception as error:  # noqa: BLE001 (answered to every task, in the client)
        failure = error
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            if context is None:
                raise failure  # type: ignore[misc]
            answer: tuple[str, object] = ("rows", task.run(context))
        except Exception as error:  # noqa: BLE001 (raised again in the client)
            answer = ("error", error)
        _answer(connection, answer)


def _answer(connection: Connection, answer: tuple[str, object]) -> None:
    try:
        connection.send(answer)
    except (EOFError, OSError):
        os._exit(1)  # the client is gone
    except Exception as error:  # noqa: BLE001 (an answer that does not pickle)
        kind, value = answer
        text = f"{type(value).__name__}: {value}" if kind == "error" else str(error)
        connection.send(("error", RuntimeError(text)))


class _Worker:
    """One worker process, the client's end of its pipe, and the tasks sent to it."""

    def __init__(self, context: multiprocessing.context.BaseContext, setup: WorkerSetup,
                 inherited: tuple[int, ...]) -> None:
        self.connection, child = context.Pipe(duplex=True)
        self.process = context.Process(
            target=_worker_main, args=(child, setup, os.getpid(), inherited),
            name="fairness-eval-worker", daemon=True)
        try:
            self.process.start()
        finally:
            child.close()
        self.in_flight = 0

    def send(self, task: Task) -> None:
        try:
            self.connection.send(task)
        except (EOFError, OSError):
            raise RuntimeError(WORKER_DIED) from None
        self.in_flight += 1

    def receive(self) -> list[Row]:
        try:
            kind, value = self.connection.recv()
        except (EOFError, OSError):
            raise RuntimeError(WORKER_DIED) from None
        self.in_flight -= 1
        if kind == "error":
            raise value
        return value


class LocalExecutor(Executor):
    """Tasks in `workers` processes started now; with one worker, in this process (whose
    malloc then keeps freed memory, as a worker's does: memory.py)."""

    def __init__(self, setup: WorkerSetup, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self._setup = setup
        self._inline: WorkerContext | None = None
        self._pool: list[_Worker] | None = None
        self.in_process = self.workers == 1
        if self.workers > 1:
            self._pool = []
            try:
                self._start(setup)
            except BaseException:
                self._stop(now=True)
                raise

    def _start(self, setup: WorkerSetup) -> None:
        assert self._pool is not None
        fork = sys.platform.startswith("linux")
        context = multiprocessing.get_context("fork" if fork else "spawn")
        # A child forked while OpenCV's thread pool runs in this process waits forever
        # for those threads when it sets its own thread count: fork from a quiet pool.
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            with blocked_stop_signals():
                for _ in range(self.workers):
                    inherited = tuple(w.connection.fileno() for w in self._pool) if fork \
                        else ()
                    self._pool.append(_Worker(context, setup, inherited))
        finally:
            cv2.setNumThreads(threads)

    def run(self, tasks: Iterable[Task]) -> Iterator[list[Row]]:
        if self._pool is None:
            if self.workers > 1:
                raise RuntimeError("the local executor is closed")
            if self._inline is None:
                # This process is the worker: it keeps freed image buffers as workers do.
                keep_freed_memory()
                self._inline = WorkerContext(self._setup)
            for task in tasks:
                yield task.run(self._inline)
            return
        pool = self._pool
        pending = iter(tasks)
        finished = False
        try:
            for worker in pool:
                self._feed(worker, pending)
            while busy := [w for w in pool if w.in_flight]:
                ready = set(wait([w.connection for w in busy] +
                                 [w.process.sentinel for w in busy]))
                for worker in busy:
                    if worker.connection in ready or worker.process.sentinel in ready:
                        rows = worker.receive()
                        self._feed(worker, pending)
                        yield rows
            finished = True
        finally:
            if not finished:  # interrupted, a task failed, or the caller stopped reading
                self._stop(now=True)

    def _feed(self, worker: _Worker, pending: Iterator[Task]) -> None:
        while worker.in_flight < IN_FLIGHT:
            task = next(pending, None)
            if task is None:
                return
            worker.send(task)

    def close(self) -> None:
        self._stop(now=False)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        # Leaving on an error or an interrupt: workers still loading the model need not
        # finish loading it to be told to stop.
        self._stop(now=error is not None)

    def _stop(self, now: bool) -> None:
        """End every worker: told to exit when idle, terminated `now`; killed after
        STOP_GRACE_S either way, and reaped."""
        pool, self._pool = self._pool or [], None
        for worker in pool:
            if now or worker.in_flight:
                worker.process.terminate()
            else:
                with contextlib.suppress(OSError):
                    worker.connection.send(None)
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in pool:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.exitcode is None:
                worker.process.kill()
                worker.process.join()
            worker.connection.close()


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


__all__ = ["IN_FLIGHT", "LocalExecutor", "STOP_GRACE_S", "evaluate_samples"]
