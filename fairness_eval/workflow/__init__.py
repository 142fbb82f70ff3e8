"""What each command does, as plain functions a notebook can call; the CLI only parses options.

    from fairness_eval import workflow
    from fairness_eval.config.settings import Settings

    done = workflow.run("data/voc", Settings(out=Path("runs/voc"), formats=("html",)))
    done.document.overall.value, done.reports, done.exit_code

Each function prints what the command prints through `echo` (results, `log` for
warnings) and returns a frozen record with what it made and the exit code it implies:
0 ok, 1 a gated criterion is violated, 2 bad input. Input errors found before anything
is written raise UsageError (the CLI's exit 2), as every library function does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..config.command_options import CheckOptions, TableSettings
from ..config.field_rules import FIELD_RULES
from ..config.files import FileConfig
from ..config.settings import Settings
from ..data.problem_lines import problem_lines
from ..errors import UsageError
from ..results.schema import ResultsDocument
from ..terminal import safe_writer
from .compare import compare, compare_models
from .examples import dataset_images, example_images
from .outcomes import (
    EXIT_GATE_FAILED,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    CardResult,
    CheckResult,
    CompareResult,
    ReportResult,
    RunResult,
    ValidateResult,
)
from .preflight import check_card_file, check_report_options, check_results_file, locked

__all__ = [
    "EXIT_GATE_FAILED", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "CardResult", "CheckResult",
    "CompareResult", "ReportResult", "RunResult", "ValidateResult", "card_from_table", "check",
    "compare", "compare_models", "dataset_images", "report", "run", "validate",
]

Echo = Callable[[str], None]
ProgressCallback = Callable[[int, int], None]



def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def _checked(field: str, value: Any) -> Any:
    """A value checked and converted by the one rule of its setting (config/rules.py)."""
    option, rule = FIELD_RULES[field]
    return rule(value, option)


# --- run ------------------------------------------------------------------------------


def run(dataset: Path | str, settings: Settings, *, file_config: FileConfig | None = None,
        command: str = "", echo: Echo = print, log: Echo = _stderr,
        progress: ProgressCallback | None = None, images: Path | str | None = None,
        image_set: str | None = None) -> RunResult:
    """Evaluate a model on a dataset, write the run folder, render reports, apply the gate.

    `settings` are validated here; `file_config`, when the settings came from a file, is
    recorded in results.json. Rows that broke during inference make the run exit 2 unless
    `settings.skip_invalid` (their reasons are logged and recorded). `images` (COCO: the
    folder of the annotation file's images) and `image_set` (VOC devkit: a list of
    ImageSets/Segmentation/) locate a dataset format's rows; both are recorded.
    """
    from ..config.recording import config_entry
    from ..evaluation.pipeline import run_evaluation

    echo, log = safe_writer(echo), safe_writer(log)
    check_report_options(settings)
    config = config_entry(file_config, settings) if file_config is not None else None
    outcome = run_evaluation(dataset, settings, command=command, log=log, progress=progress,
                             config=config, warm_imports=_report_modules(settings.formats),
                             images=images, image_set=image_set)
    try:  # the run folder stays locked until its last output (reports, junit.xml)
        return _report_run(outcome, settings, echo, log)
    finally:
        if outcome.lock is not None:
            outcome.lock.release()


def _report_run(outcome: Any, settings: Settings, echo: Echo, log: Echo) -> RunResult:
    for line in problem_lines([row["reason"] for row in outcome.failed_rows], "skipped: "):
        log(line)
    reports = _summarise_and_render(
        outcome.run_dir, outcome.document, formats=settings.formats, card=settings.card,
        examples=settings.examples, overwrite=False, echo=echo,
        images=example_images(outcome.dataset, settings.exif), keep=True)
    failed = tuple(outcome.failed_rows)
    if failed and not settings.skip_invalid:
        error = (f"{len(failed)} row(s) could not be evaluated (listed above, recorded in "
                 "results.json); pass --skip-invalid to accept that")
        return RunResult(outcome.run_dir, outcome.document, reports, failed, None, error,
                         EXIT_USAGE)
    gate_exit, gate_error = (
        _gate(outcome.run_dir, CheckOptions(strict=settings.strict, gate_on=settings.gate_on,
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


# --- card --from-table ----------------------------------------------------------------


def card_from_table(table: Path | str, out: Path | str, settings: TableSettings | None = None,
                    *, overwrite: bool = False, formats: Sequence[str] | str = ("html", "pdf"),
                    card: Path | None = None, gate: bool = False, strict: bool = False,
                    gate_on: str | None = None, allow_empty_gate: bool = False,
                    command: str = "", echo: Echo = print) -> CardResult:
    """Apply the card's criteria to published per-group figures; write results and the card.

    `gate_on` None gates on the card's point verdicts when the table gives no intervals,
    else on the statistical ones; a `gate_on` given is recorded, so that `check` on the
    folder and the card's verdict box read the same verdicts.
    """
    from ..config.recording import config_sha256
    from ..evaluation.run_dir import prepare_run_dir, record_hashes
    from ..fairness.table import evaluate_table
    from ..results.document import build_table_document, write_run
    from ..results.names import RESULTS_FILE

    table, out = Path(table), Path(out)
    echo = safe_writer(echo)
    settings = TableSettings() if settings is None else settings
    if not table.is_file():
        raise UsageError(f"--from-table: {table} does not exist")
    formats = _checked("formats", formats)
    gate_on = None if gate_on is None else _checked("gate_on", gate_on)
    check_card_file(card if formats else None)
    started = datetime.now(timezone.utc)
    statistics = evaluate_table(table, settings)
    with prepare_run_dir(out, overwrite, resume=False, resume_hint=False,
                         writes=(RESULTS_FILE,)):
        recorded = settings.as_dict()
        if gate_on is not None:
            recorded["gate_on"] = gate_on
        document = build_table_document(
            statistics, settings=recorded, command=command, started=started,
            finished=datetime.now(timezone.utc),
            config={"source": None, "sha256": config_sha256(recorded), "effective": recorded})
        write_run(out, document, None)
        record_hashes(out, (RESULTS_FILE,))
        reports = _summarise_and_render(out, document, formats=formats, card=card,
                                        examples=0, overwrite=False, echo=echo, keep=True)
        gate_exit, gate_error = None, None
        if gate:
            gate_exit, gate_error = _gate(
                out, CheckOptions(strict=strict, gate_on=gate_on,
                                  allow_empty_gate=allow_empty_gate), echo, keep=True)
    return CardResult(out, document, reports, gate_exit, gate_exit or EXIT_OK, gate_error)


# --- the tail both share: summary, reports, gate --------------------------------------


def _summarise_and_render(run_dir: Path, document: ResultsDocument, *,
                          formats: Sequence[str], card: Path | None, examples: int,
                          overwrite: bool, echo: Echo,
                          images: Mapping[str, Any] | None = None, keep: bool = False
                          ) -> tuple[Path, ...]:
    """The console summary, then the reports. `keep` (a run's own folder): a report file
    fairness-eval did not write, or that was edited, stays as it is, with one line."""
    from ..report.console import summary_lines

    for line in summary_lines(document):
        echo(line)
    echo("")
    echo(f"results: {run_dir}")
    if not formats:
        return ()
    return _render(run_dir, formats, card=card, examples=examples, overwrite=overwrite,
                   echo=echo, images=images, keep=keep)


def _render(run_dir: Path, formats: Sequence[str], *, card: Path | None, examples: int,
            overwrite: bool, echo: Echo, images: Mapping[str, Any] | None,
            keep: bool = False) -> tuple[Path, ...]:
    from ..report import render_reports
    from ..report.ledger import kept_line

    written = tuple(render_reports(run_dir, tuple(formats), card=card, examples=examples,
                                   overwrite=overwrite, images=images,
                                   keep=(lambda path: echo(kept_line(path))) if keep else None))
    for path in written:
        echo(f"wrote {path}")
    return written


def _gate(run_dir: Path, options: CheckOptions, echo: Echo, *, overwrite: bool = False,
          env: Mapping[str, str] | None = None, keep: bool = False
          ) -> tuple[int, str | None]:
    """The gate every command applies (ci/outputs.apply_gate): its exit code, and the line
    a gate that checked nothing exits 2 with. `keep`: as for `_summarise_and_render`."""
    from ..ci.outputs import apply_gate
    from ..report.ledger import kept_line

    report = apply_gate(run_dir, options, echo=echo, env=env, overwrite=overwrite,
                        keep=(lambda path: echo(kept_line(path))) if keep else None)
    return report.exit_code, report.error


# --- report, check, validate --------------------------------------------------------


def report(run_dir: Path | str, formats: Sequence[str] | str = ("html", "pdf"), *,
           card: Path | None = None, examples: int = 0, overwrite: bool = False,
           echo: Echo = print) -> ReportResult:
    """Render the model card and summaries of a run folder from its results.json.

    With `examples`, the run's dataset is loaded (from the path results.json records) to
    find the images the overlays draw (`dataset_images`).
    """
    run_dir = Path(run_dir)
    echo = safe_writer(echo)
    formats, examples = _checked("formats", formats), _checked("examples", examples)
    check_results_file(run_dir)
    check_card_file(card)
    images = dataset_images(run_dir) if examples else None
    with locked(run_dir, "RUN_DIR"):
        written = _render(run_dir, formats, card=card, examples=examples,
                          overwrite=overwrite, echo=echo, images=images)
    return ReportResult(run_dir, written)


def check(run_dir: Path | str, options: CheckOptions | None = None, *, echo: Echo = print,
          env: Mapping[str, str] | None = None, overwrite: bool = False) -> CheckResult:
    """Gate a run folder: write junit.xml (and GitHub Actions output when running there).

    Exit 0 passed, 1 failed, 2 nothing could be gated (unless `allow_empty_gate`; the
    result's `error` says what is missing). A junit.xml fairness-eval did not write (or
    that was edited) is kept unless `overwrite`.
    """
    check_results_file(run_dir)
    options = CheckOptions() if options is None else options
    with locked(run_dir, "RUN_DIR"):  # junit.xml goes into the run folder
        code, error = _gate(Path(run_dir), options, safe_writer(echo), overwrite=overwrite,
                            env=env)
    return CheckResult(Path(run_dir), code, error)


def validate(dataset: Path | str, attributes: Sequence[str] = (), *, echo: Echo = print,
             log: Echo = _stderr, max_pixels: int | str | None = None,
             exif: str = "ignore", images: Path | str | None = None,
             image_set: str | None = None,
             mask_person_value: int | str | None = None) -> ValidateResult:
    """Check a dataset without running the model; print the counts of each attribute value.

    Each problem is logged; a dataset with problems exits 2. `max_pixels` (default: the
    run's default), `exif`, `images`, `image_set` and `mask_person_value` check the rows
    `run` would evaluate with the same options.
    """
    from ..config.rules import DEFAULT_MAX_PIXELS
    from ..data.dataset import load_dataset
    from ..data.video import VideoDataset

    echo, log = safe_writer(echo), safe_writer(log)
    max_pixels = _checked("max_pixels", DEFAULT_MAX_PIXELS if max_pixels is None
                          else max_pixels)
    loaded = load_dataset(dataset, tuple(attributes), max_pixels=max_pixels,
                          exif=_checked("exif", exif), images=images, image_set=image_set,
                          mask_person_value=_checked("mask_person_value", mask_person_value))
    clips = isinstance(loaded, VideoDataset)  # its rows are clips; frames are counted too
    if clips:
        echo(f"{loaded.source}: {loaded.rows} clips, {len(loaded.samples)} valid "
             f"({loaded.frame_count} frames), {loaded.rows - len(loaded.samples)} with problems")
    else:
        echo(f"{loaded.source}: {loaded.rows} rows, {len(loaded.samples)} valid, "
             f"{len(loaded.problems)} with problems")
    for note in loaded.notes:
        echo(f"note: {note}")
    counts = loaded.value_counts()
    for name, values in counts.items():
        echo("")
        echo(name)
        for value, count in values.items():
            echo(f"  {value:<30} {count:>6}")
    for line in problem_lines(loaded.problems):
        log(line)
    invalid = "problem(s) in the clips of" if clips else "invalid row(s) in"
    error = f"{len(loaded.problems)} {invalid} {loaded.source}" if loaded.problems else None
    return ValidateResult(loaded.source, loaded.rows, len(loaded.samples),
                          tuple(str(p) for p in loaded.problems), counts, error,
                          EXIT_USAGE if error else EXIT_OK)
