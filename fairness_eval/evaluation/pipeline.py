"""Stage orchestration: dataset -> inference -> metrics -> per-image table -> statistics.

`run_evaluation` loads and validates a dataset, prepares the run folder (run_dir.py),
evaluates every row in workers (executors.py: local processes or Dask; per_image.py),
streams each row into the durable progress store (store.py, resume.py), and assembles and
writes the results document. Nothing but a row of numbers is kept per image, so memory
does not grow with the size of the dataset beyond that table.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config.settings import Settings
from ..data.dataset import load_dataset
from ..data.problem_lines import count_by_reason
from ..data.samples import Dataset, InvalidDataset, Problem
from ..data.video import VideoDataset
from ..errors import UsageError
from ..results.names import CONDITIONS_FILE, PER_IMAGE_FILE, RESULTS_FILE
from ..results.schema import ResultsDocument
from .executors import Executor, open_executor
from .predictions import check_predictions
from .predictor import prepare_predictor
from .resume import interrupted_note, resume_key, reusable_rows
from .run_dir import (
    RUN_FILES,
    SAVED_MASKS_DIR,
    RunFolderLock,
    check_output_folder,
    default_run_dir,
    open_progress_store,
    prepare_run_dir,
    record_hashes,
)
from .store import ProgressStore
from .tasks import WorkerSetup, sample_tasks
from .under_conditions import (
    ImagePlan,
    check_plan,
    keep_saved,
    planned_tasks,
    split_condition_rows,
)
from .warm_imports import import_in_background

if TYPE_CHECKING:
    import pandas as pd

# The statistics and results stack (pandas, scipy): imported, by name, once the workers
# run, so that they are forked and evaluating before it is loaded.
STATISTICS_STACK = ("fairness_eval.results.document", "fairness_eval.results.conditions_record",
                    "fairness_eval.fairness.assess", "fairness_eval.fairness.conditions_assessment")

Log = Callable[[str], None]
ProgressCallback = Callable[[int, int], None]


@dataclass
class RunOutcome:
    """What a run produced and where."""

    run_dir: Path
    document: ResultsDocument
    per_image: pd.DataFrame
    failed_rows: list[dict[str, Any]] = field(default_factory=list)  # broke during inference
    dataset: Dataset | None = None  # the evaluated set, for reporters that show its images
    # The run folder's lock, held until the caller has written its last output (reports,
    # junit.xml); None once released. See run_dir.RunFolderLock.
    lock: RunFolderLock | None = None


def run_evaluation(dataset_path: Path | str, settings: Settings, *, command: str = "",
                   log: Log = lambda _: None, progress: ProgressCallback | None = None,
                   config: dict[str, Any] | None = None, warm_imports: Sequence[str] = (),
                   images: Path | str | None = None, image_set: str | None = None
                   ) -> RunOutcome:
    """Validate, predict, score and summarise a dataset; write the run folder.

    `warm_imports`: modules the caller needs after the run (the card's), imported while
    worker processes evaluate (warm_imports.py). `images`, `image_set`: where a COCO file's
    images are, which VOC image set (data.dataset.load_dataset).

    Raises UsageError (exit 2) for invalid input unless `settings.skip_invalid`, in which
    case invalid rows are recorded as skipped with their reason.
    """
    started = datetime.now(timezone.utc)
    dataset = load_dataset(dataset_path, settings.attributes, max_pixels=settings.max_pixels,
                           exif=settings.exif, images=images, image_set=image_set,
                           mask_person_value=settings.mask_person_value)
    for note in dataset.notes:
        log(f"note: {note}")
    if dataset.problems and not settings.skip_invalid:
        raise InvalidDataset(dataset.problems)
    if not dataset.samples:
        raise UsageError(f"{dataset.source}: no valid rows to evaluate "
                         f"({len(dataset.problems)} problem(s))")
    _check_attribute_tables(settings, dataset)
    _check_intersections(settings, dataset)
    check_plan(settings, dataset)
    if isinstance(dataset, VideoDataset):
        from .video_run import run_video_evaluation  # it imports this module

        if settings.predictions is not None:
            raise UsageError(f"--predictions: not available for video datasets yet "
                             f"({dataset.source})")
        return run_video_evaluation(dataset, settings, started=started, command=command,
                                    log=log, progress=progress, config=config)
    if settings.metric == "flicker":
        raise UsageError(f"--metric flicker: {dataset.source} is not a video dataset (flicker "
                         "compares consecutive frames)")
    if settings.predictions is not None:
        check_predictions(dataset, settings.predictions, settings.mask_person_value)
        if dataset.problems and not settings.skip_invalid:
            raise InvalidDataset(dataset.problems)
        if not dataset.samples:
            raise UsageError(f"--predictions {settings.predictions}: no prediction fits a "
                             f"valid row ({len(dataset.problems)} problem(s))")
    # The model is opened once here: refused now if it cannot run, not in every worker.
    predictor = prepare_predictor(settings, log)

    run_dir = Path(settings.out) if settings.out else default_run_dir(dataset.name, started)
    masks_dir = run_dir / SAVED_MASKS_DIR if settings.save_masks else None
    # The workers start first and load the model while this process prepares the run
    # folder; a Dask scheduler that cannot be reached is refused before anything is written.
    setup = WorkerSetup(predictor.source, settings.threads, settings.mask_threshold,
                        str(masks_dir) if masks_dir else None, settings.boundary_ratio)
    with open_executor(settings.executor, setup,
                       workers=min(settings.workers, len(dataset.samples)),
                       scheduler=settings.scheduler, log=log) as executor:
        if not executor.in_process:
            import_in_background((*STATISTICS_STACK, *warm_imports))
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

    from ..results import document as results_module
    from ..results.conditions_record import write_conditions_table

    # Each row's degraded evaluations, split off before the rows become per_image.csv.
    conditions = split_condition_rows(rows) if settings.conditions else None
    skipped_rows = [_skipped_row(p) for p in dataset.problems]
    per_image = results_module.per_image_table(rows + skipped_rows, dataset)
    failed = [r for r in rows if r["status"] == "skipped"]
    statistics = compute_statistics(per_image, dataset, settings, conditions)
    document = results_module.build_document(
        per_image=per_image, statistics=statistics, dataset=dataset, model=predictor.facts,
        settings=settings, command=command, started=started,
        finished=datetime.now(timezone.utc), config=config,
    )
    if conditions is not None:
        write_conditions_table(run_dir, conditions)  # before results.json, written last
    results_module.write_run(run_dir, document, per_image)
    record_hashes(run_dir, (CONDITIONS_FILE, PER_IMAGE_FILE, RESULTS_FILE))
    return RunOutcome(run_dir, document, per_image, failed, dataset, lock)


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


def compute_statistics(per_image: pd.DataFrame, dataset: Dataset, settings: Settings,
                       conditions: pd.DataFrame | None = None) -> dict[str, Any]:
    """The statistics stage over the evaluated rows: intervals, criteria, verdicts; with
    `conditions` (conditions.csv's table) or --adjust-for, their blocks too."""
    from ..fairness.assess import evaluate
    from ..fairness.conditions_assessment import assess_plan

    evaluated = per_image[per_image["status"] == "ok"]
    if evaluated.empty:  # the statistics would only say "no image with status ok"
        reasons = ([r for r in per_image["reason"] if isinstance(r, str) and r]
                   if "reason" in per_image.columns else [])
        raise UsageError(f"no row could be scored: all {len(per_image):,} were skipped "
                         f"({count_by_reason(reasons) or 'no reason recorded'})")
    attributes = [*dataset.attributes, *settings.derive]
    statistics = evaluate(evaluated, attributes, settings.statistics)
    statistics.update(assess_plan(evaluated, conditions, attributes, settings,
                                  statistics["inter_annotator_iou"]["value"]))
    return statistics


def _check_attribute_tables(settings: Settings, dataset: Dataset) -> None:
    """A configuration's [attributes.NAME] table for no attribute of the dataset is a
    misspelling: its gate or group size would silently not apply."""
    known = [*dataset.attribute_columns, *settings.derive]
    unknown = [name for name in settings.per_attribute if name not in known]
    if unknown:
        tables = ", ".join(f"[attributes.{name}]" for name in unknown)
        raise UsageError(f"{tables}: no such attribute in {dataset.source} (its attributes: "
                         f"{', '.join(known) or 'none'})")


def _check_intersections(settings: Settings, dataset: Dataset) -> None:
    for columns in settings.intersect:
        absent = [c for c in columns
                  if c not in dataset.attribute_columns and c not in settings.derive]
        if absent:
            raise UsageError(f"--intersect {','.join(columns)}: no column "
                             f"{', '.join(repr(c) for c in absent)} in {dataset.source}")


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


def _skipped_row(problem: Problem) -> dict[str, Any]:
    return {"row": problem.row, "image": problem.image, "status": "skipped",
            "reason": str(problem), "source_file": problem.file}
