"""Where tasks run: the `Executor` interface and `open_executor`, which picks one by name.

    from fairness_eval.evaluation.executors import open_executor
    from fairness_eval.evaluation.tasks import WorkerSetup, sample_tasks

    with open_executor("dask", WorkerSetup(model_spec), workers=4,
                       scheduler="tcp://10.0.0.5:8786") as executor:
        for rows in executor.run(sample_tasks(samples, executor.workers)):
            ...  # each task's rows, in completion order

`local` runs tasks in processes forked on this machine (workers.py); `dask` on a
dask.distributed cluster, an existing one at `scheduler` or a LocalCluster it starts and
closes (dask_executor.py, needs the `dask` extra; imported only when asked for). Both load
the model once per worker, run any `Task` (tasks.py), and yield each task's rows as it
completes, in no fixed order: the caller keys rows by their `row`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType

from ..errors import UsageError
from .tasks import Row, Task, WorkerSetup


class Executor:
    """Runs tasks in workers that each loaded the model once; a context manager."""

    workers: int = 1  # worker processes (Dask: worker threads) the tasks are spread over
    in_process: bool = False  # tasks run in this process's main thread (one local worker)

    def run(self, tasks: Iterable[Task]) -> Iterator[list[Row]]:
        """Each task's rows, as the task completes (any order); raises a task's error."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the workers this executor started (idempotent)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def open_executor(kind: str, setup: WorkerSetup, *, workers: int = 1,
                  scheduler: str | None = None, log: Callable[[str], None] = lambda _: None
                  ) -> Executor:
    """A started executor of `kind` ("local" or "dask"); close it (or use `with`).

    `workers`: processes to start (local; dask without `scheduler`). `scheduler`: the
    address of a running Dask scheduler (tcp://HOST:PORT). Raises UsageError (one line)
    when the dask extra is missing or the scheduler cannot be reached.
    """
    if kind == "local":
        from .workers import LocalExecutor

        return LocalExecutor(setup, workers=workers)
    if kind == "dask":
        if importlib.util.find_spec("distributed") is None:
            raise UsageError("--executor dask: dask.distributed is not installed; "
                             "pip install 'fairness-eval[dask]'")
        from .dask_executor import DaskExecutor

        return DaskExecutor(setup, workers=workers, scheduler=scheduler, log=log)
    from ..config.rules import EXECUTORS

    raise ValueError(f"unknown executor {kind!r} (known: {', '.join(EXECUTORS)})")


__all__ = ["Executor", "open_executor"]
