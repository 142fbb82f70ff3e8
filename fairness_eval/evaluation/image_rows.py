"""A run's images evaluated in workers and stored: rows of numbers out, nothing judged.

`evaluate_images` starts the workers (executors.py: local processes or Dask; each runs
per_image.py or under_conditions.py's tasks), prepares the run folder meanwhile
(run_dir.py) and streams each row into the durable progress store as its task completes
(store.py, resume.py), so an interrupted run keeps every stored row for --resume.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..config.settings import Settings
from ..data.samples import Dataset, Problem
from ..errors import UsageError
from ..results.names import CONDITIONS_FILE
from .executors import Executor, open_executor
from .predictor import Predictor
from .resume import interrupted_note, resume_key, reusable_rows
from .run_dir import (
    RUN_FILES,
    SAVED_MASKS_DIR,
    RunFolderLock,
    check_output_folder,
    open_progress_store,
    prepare_run_dir,
)
from .store import ProgressStore
from .tasks import WorkerSetup, sample_tasks
from .under_conditions import ImagePlan, keep_saved, planned_tasks
from .warm_imports import import_in_background

Log = Callable[[str], None]
ProgressCallback = Callable[[int, int], None]


def evaluate_images(dataset: Dataset, settings: Settings, predictor: Predictor, run_dir: Path,
                    *, log: Log, progress: ProgressCallback | None,
                    warm_imports: Sequence[str] = ()) -> tuple[list[dict[str, Any]],
                                                               RunFolderLock]:
    """Every valid row of `dataset` evaluated (or kept from the interrupted run with
    --resume) and stored in `run_dir`: the rows, in completion order, and the run folder's
    lock, which the caller releases after its last output. `warm_imports`: modules imported
    in the background while worker processes evaluate (warm_imports.py)."""
    masks_dir = run_dir / SAVED_MASKS_DIR if settings.save_masks else None
    # The workers start first and load the model while this process prepares the run
    # folder; a Dask scheduler that cannot be reached is refused before anything is written.
    setup = WorkerSetup(predictor.source, settings.threads, settings.mask_threshold,
                        str(masks_dir) if masks_dir else None, settings.boundary_ratio)
    with open_executor(settings.executor, setup,
                       workers=min(settings.workers, len(dataset.samples)),
                       scheduler=settings.scheduler, log=log) as executor:
        if not executor.in_process:
            import_in_background(tuple(warm_imports))
        saving = _conditions_folder(settings, dataset, run_dir)  # refused before any write
        lock = prepare_run_dir(run_dir, settings.overwrite, settings.resume, dataset=dataset,
                               save_masks=settings.save_masks,
                               writes=RUN_FILES + ((CONDITIONS_FILE,) if settings.conditions
                                                   else ()))
        try:
            saving_lock = saving() if saving is not None else None
        except BaseException:
            lock.release()
            raise
        key = {**resume_key(predictor.facts, dataset, settings),
               "predictor": predictor.facts.key()}
        try:
            store = open_progress_store(run_dir, key, settings.resume)
            try:
                rows = _evaluate_with_store(dataset, store, executor, settings, masks_dir, log,
                                            progress)
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the workers stop as this unwinds
                log(interrupted_note(store.count(), len(dataset.samples), store.path))
                raise
            finally:
                store.close()
        except BaseException:
            lock.release()
            raise
        finally:
            if saving_lock is not None:
                saving_lock.release()
    return rows, lock


def skipped_row(problem: Problem) -> dict[str, Any]:
    """The per-image row of a dataset row that failed validation."""
    return {"row": problem.row, "image": problem.image, "status": "skipped",
            "reason": str(problem), "source_file": problem.file}


def _conditions_folder(settings: Settings, dataset: Dataset, run_dir: Path
                       ) -> Callable[[], RunFolderLock] | None:
    """With --save-conditions DIR: DIR checked as --out is (not the dataset's folder, not a
    non-empty folder without --overwrite, no file there replaced that fairness-eval did
    not write), now, before anything is written; returns what prepares and locks it."""
    if settings.save_conditions is None:
        return None
    folder = Path(settings.save_conditions)
    out, target = Path(os.path.realpath(run_dir)), Path(os.path.realpath(folder))
    if target == out or out.is_relative_to(target):
        raise UsageError(f"--save-conditions: {folder} is, or holds, the run folder {run_dir}; "
                         "choose a folder of its own")
    plan = ImagePlan.from_settings(settings)
    files, folders = plan.saved_names(dataset.samples) if plan is not None else ([], [])
    arguments: dict[str, Any] = {
        "writes": files, "later": folders, "option": "--save-conditions",
        "folder_option": "--save-conditions"}
    check_output_folder(folder, settings.overwrite, settings.resume, False, dataset=dataset,
                        **arguments)
    return lambda: prepare_run_dir(folder, settings.overwrite, settings.resume, False,
                                   dataset=dataset, **arguments)


def _evaluate_with_store(dataset: Dataset, store: ProgressStore, executor: Executor,
                         settings: Settings, masks_dir: Path | None, log: Log,
                         progress: ProgressCallback | None) -> list[dict[str, Any]]:
    plan = ImagePlan.from_settings(settings)
    done = keep_saved(reusable_rows(store.done(), dataset, masks_dir), plan)
    todo = [s for s in dataset.samples if s.row not in done]
    if done:
        log(f"resuming: {len(done)} of {len(dataset.samples)} rows already evaluated, "
            f"{len(todo)} to go")
    rows = list(done.values())
    total = len(dataset.samples)
    if progress:
        progress(len(rows), total)
    if not todo:
        return rows
    if plan is not None and plan.conditions:
        log(f"conditions multiply the work: {plan.describe(len(todo))}")
    # Rows are stored as each task completes, whichever worker ran it.
    tasks = (planned_tasks(todo, executor.workers, plan) if plan is not None
             else sample_tasks(todo, executor.workers))
    for task_rows in executor.run(tasks):
        for row in task_rows:
            store.add(row)
            rows.append(row)
        if progress:
            progress(len(rows), total)
    return rows
