"""`fairness-eval run`: dataset -> inference -> metrics -> per-image table -> statistics,
then the reports and the gate.

`run` is the command. `run_evaluation` orchestrates the stages: it loads and validates the
dataset (data/), has every row evaluated in workers and stored (evaluation/image_rows.py;
a video dataset's clips: run_video.py), hands the per-image table to the fairness stage
(fairness/stage.py), and assembles and writes the results document (results/). Nothing
but a row of numbers is kept per image, so memory does not grow with the size of the
dataset beyond that table.

The stages are imported inside the functions: `import fairness_eval.workflow` stays light,
and a run forks its workers before the statistics stack (pandas, scipy) is imported.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config.command_options import CheckOptions
from ..config.settings import Settings
from ..data.problem_lines import problem_lines
from ..errors import UsageError
from ..results.names import CONDITIONS_FILE, PER_IMAGE_FILE, RESULTS_FILE
from ..terminal import safe_writer
from .examples import example_images
from .finish import gate_run_folder, summarise_and_render
from .outcomes import EXIT_OK, EXIT_USAGE, RunOutcome, RunResult
from .preflight import check_out_folder, check_report_options

if TYPE_CHECKING:
    from ..config.files import FileConfig
    from ..data.samples import Dataset

# The statistics and results stack (pandas, scipy): imported, by name, once the workers
# run, so that they are forked and evaluating before it is loaded.
STATISTICS_STACK = ("fairness_eval.results.document", "fairness_eval.results.conditions_record",
                    "fairness_eval.fairness.stage")

Echo = Callable[[str], None]
Log = Callable[[str], None]
ProgressCallback = Callable[[int, int], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def run(dataset: Path | str, settings: Settings, *, file_config: FileConfig | None = None,
        command: str = "", echo: Echo = print, log: Echo = _stderr,
        progress: ProgressCallback | None = None, images: Path | str | None = None,
        image_set: str | None = None, image_column: str | None = None,
        mask_column: str | None = None, mlflow: bool = False) -> RunResult:
    """Evaluate a model on a dataset, write the run folder, render reports, apply the gate.

    `settings` are validated here; `file_config`, when the settings came from a file, is
    recorded in results.json. Rows that broke during inference make the run exit 2 unless
    `settings.skip_invalid` (their reasons are logged and recorded). `images` (COCO: the
    folder of the annotation file's images) and `image_set` (VOC devkit: a list of
    ImageSets/Segmentation/) locate a dataset format's rows; both are recorded.
    `image_column`, `mask_column`: a table dataset's columns (default "image", "mask").
    `mlflow`: log the finished run to MLflow's tracking URI (ci/tracking.py), checked
    before the model loads; not logged when rows failed without --skip-invalid.
    """
    from ..config.recording import config_entry

    echo, log = safe_writer(echo), safe_writer(log)
    check_report_options(settings)
    if mlflow:
        from ..ci.tracking import check_tracking

        tracking_uri = check_tracking()
    config = config_entry(file_config, settings) if file_config is not None else None
    outcome = run_evaluation(dataset, settings, command=command, log=log, progress=progress,
                             config=config, warm_imports=_report_modules(settings.formats),
                             images=images, image_set=image_set,
                             image_column=image_column, mask_column=mask_column)
    try:  # the run folder stays locked until its last output (reports, junit.xml)
        result = _report_run(outcome, settings, echo, log)
        if mlflow and not (result.failed_rows and not settings.skip_invalid):
            from ..ci.tracking import log_run

            run_id = log_run(result.run_dir, result.document, gated=settings.gate)
            echo(f"mlflow: logged run {run_id} to {tracking_uri}")
        return result
    finally:
        if outcome.lock is not None:
            outcome.lock.release()


def _report_run(outcome: RunOutcome, settings: Settings, echo: Echo, log: Echo) -> RunResult:
    for line in problem_lines([row["reason"] for row in outcome.failed_rows], "skipped: "):
        log(line)
    reports = summarise_and_render(
        outcome.run_dir, outcome.document, formats=settings.formats, card=settings.card,
        examples=settings.examples, overwrite=False, echo=echo,
        images=example_images(outcome.dataset, settings.exif), keep=True,
        redact_paths=settings.redact_paths)
    failed = tuple(outcome.failed_rows)
    if failed and not settings.skip_invalid:
        error = (f"{len(failed)} row(s) could not be evaluated (listed above, recorded in "
                 "results.json); pass --skip-invalid to accept that")
        return RunResult(outcome.run_dir, outcome.document, reports, failed, None, error,
                         EXIT_USAGE)
    gate_exit, gate_error = (
        gate_run_folder(outcome.run_dir,
                        CheckOptions(strict=settings.strict, gate_on=settings.gate_on,
                                     allow_empty_gate=settings.allow_empty_gate),
                        echo, keep=True)
        if settings.gate else (None, None))
    return RunResult(outcome.run_dir, outcome.document, reports, failed, gate_exit,
                     gate_error, gate_exit or EXIT_OK)


def _report_modules(formats: Sequence[str]) -> tuple[str, ...]:
    """What rendering `formats` imports: loaded while the workers evaluate."""
    card = ("fairness_eval.report", "fairness_eval.report.charts", "fairness_eval.report.context",
            "fairness_eval.report.html")
    return ((card if {"html", "pdf"} & set(formats) else ())
            + (("fairness_eval.report.pdf", "weasyprint") if "pdf" in formats else ()))


def run_evaluation(dataset_path: Path | str, settings: Settings, *, command: str = "",
                   log: Log = lambda _: None, progress: ProgressCallback | None = None,
                   config: dict[str, Any] | None = None, warm_imports: Sequence[str] = (),
                   images: Path | str | None = None, image_set: str | None = None,
                   image_column: str | None = None, mask_column: str | None = None
                   ) -> RunOutcome:
    """Validate, predict, score and summarise a dataset; write the run folder.

    `warm_imports`: modules the caller needs after the run (the card's), imported while
    worker processes evaluate (warm_imports.py). `images`, `image_set`: where a COCO file's
    images are, which VOC image set (data.dataset.load_dataset).

    Raises UsageError (exit 2) for invalid input unless `settings.skip_invalid`, in which
    case invalid rows are recorded as skipped with their reason.
    """
    from ..data.dataset import load_dataset
    from ..data.samples import InvalidDataset
    from ..data.subset import take_subset
    from ..data.video import VideoDataset
    from ..evaluation.image_rows import evaluate_images, skipped_row
    from ..evaluation.predictions import check_predictions
    from ..evaluation.predictor import prepare_predictor
    from ..evaluation.run_dir import default_run_dir, record_hashes
    from ..evaluation.under_conditions import check_plan, split_condition_rows
    from .label_votes import agreement_records, load_with_votes

    started = datetime.now(timezone.utc)
    # Voted attributes (--attribute-votes, count columns) are labelled as the dataset loads.
    dataset, voted = load_with_votes(
        lambda attributes: load_dataset(
            dataset_path, attributes, max_pixels=settings.max_pixels, exif=settings.exif,
            images=images, image_set=image_set, mask_person_value=settings.mask_person_value,
            image_column=image_column, mask_column=mask_column,
            configured=tuple(settings.per_attribute)),
        settings)
    # --limit / --sample: the rows evaluated, chosen before anything is checked against them
    dataset = take_subset(dataset, limit=settings.limit, sample=settings.sample,
                          seed=settings.seed,
                          unit="clips" if isinstance(dataset, VideoDataset) else "rows")
    for note in dataset.notes:
        log(f"note: {note}")
    if settings.examples and not dataset.attributes and not settings.derive:
        log(f"note: --examples {settings.examples} adds nothing here: the examples are each "
            f"group's lowest-scoring images, and {dataset.source} has no attribute to group "
            "by (add attributes.csv, or name a column with --attribute)")
    if dataset.problems and not settings.skip_invalid:
        raise InvalidDataset(dataset.problems)
    if not dataset.samples:
        raise UsageError(f"{dataset.source}: no valid rows to evaluate "
                         f"({len(dataset.problems)} problem(s))")
    _check_attribute_tables(settings, dataset)
    _check_intersections(settings, dataset)
    check_plan(settings, dataset)
    if settings.out is not None:  # refused now, not after the model has loaded
        check_out_folder(Path(settings.out), settings, dataset)
    if isinstance(dataset, VideoDataset):
        from .run_video import run_video_evaluation

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

    run_dir = (Path(settings.out) if settings.out
               else default_run_dir(dataset.name, started, predictor.facts.folder_name))
    rows, lock = evaluate_images(dataset, settings, predictor, run_dir, log=log,
                                 progress=progress,
                                 warm_imports=(*STATISTICS_STACK, *warm_imports))

    from ..fairness.stage import compute_statistics
    from ..results import document as results_module
    from ..results.conditions_record import write_conditions_table

    # Each row's degraded evaluations, split off before the rows become per_image.csv.
    conditions = split_condition_rows(rows) if settings.conditions else None
    skipped_rows = [skipped_row(p) for p in dataset.problems]
    per_image = results_module.per_image_table(rows + skipped_rows, dataset)
    failed = [r for r in rows if r["status"] == "skipped"]
    statistics = compute_statistics(per_image, dataset.attributes, settings, conditions,
                                    votes={name: v.votes for name, v in voted.items()})
    document = results_module.build_document(
        per_image=per_image, statistics=statistics, dataset=dataset, model=predictor.facts,
        settings=settings, command=command, started=started,
        finished=datetime.now(timezone.utc), config=config,
    )
    if voted:
        document = replace(document, label_agreement=agreement_records(voted, settings))
    if conditions is not None:
        write_conditions_table(run_dir, conditions)  # before results.json, written last
    results_module.write_run(run_dir, document, per_image)
    record_hashes(run_dir, (CONDITIONS_FILE, PER_IMAGE_FILE, RESULTS_FILE))
    return RunOutcome(run_dir, document, per_image, failed, dataset, lock)


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
