"""The `fairness-eval` command line: options, their one-time parsing, and exit codes.

Every command is a function of `workflow` (usable from a notebook); this module only
declares the options, turns them into settings and maps the outcome to an exit code:
0 success (gate passed), 1 a gated fairness criterion is violated, 2 usage or input error,
3 internal error (a bug: one line, the traceback with --debug or FAIRNESS_EVAL_DEBUG=1).
Errors the user can fix are one line on stderr, never a traceback.
"""

from __future__ import annotations

import os
import shlex
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from . import __version__
from .cli_models import models
from .cli_options import (
    CONDITION_OPTIONS,
    CONFIG_OPTION,
    CRITERIA_OPTIONS,
    DATASET_FORMAT_OPTIONS,
    EXAMPLES_OPTION,
    GATE_OPTIONS,
    IMAGE_OPTIONS,
    REDACT_OPTION,
    REPORT_OPTIONS,
    RUN_OPTIONS,
    STATISTICS_OPTIONS,
    SUBSET_OPTIONS,
    given_on_command_line,
    run_option,
    run_options,
    with_options,
)
from .config.options import choices_metavar
from .config.rules import GATE_ON, UNITS
from .errors import UsageError
from .interrupts import describe, exit_code, exiting, on_stop_signals, received
from .terminal import Progress, escape_library_output, one_line
from .workflow import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE

DEBUG_ENV = "FAIRNESS_EVAL_DEBUG"
# Set by the group's --debug flag; read by main() when a command fails unexpectedly.
_debug = {"requested": False}


def _err(message: str) -> None:
    click.echo(message, err=True)


def _command_line() -> str:
    return "fairness-eval " + shlex.join(sys.argv[1:])


def _finish(result: Any) -> int:
    """The exit code of a workflow result, saying first why it is not 0 when it says so."""
    if getattr(result, "error", None):
        _err(f"fairness-eval: error: {one_line(result.error)}")
    return result.exit_code


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fairness-eval")
@click.option("--debug", is_flag=True,
              help=f"On an internal error (exit 3), print the traceback (or set {DEBUG_ENV}=1).")
def cli(debug: bool) -> None:
    """Show, with evidence, that a person-segmentation model works equally well for everyone."""
    _debug["requested"] = debug


@cli.command()
@click.option("--dataset", type=click.Path(path_type=Path), default=None,
              help="Dataset folder (images/, masks/, ...) or manifest (.csv / .jsonl); or "
                   "COCO annotations (.json), a VOC devkit or a Penn-Fudan folder; or a "
                   "Hugging Face datasets folder or Parquet (the [hf] extra).")
@with_options(DATASET_FORMAT_OPTIONS)
@click.option("--mlflow", is_flag=True,
              help="Log the finished run to MLflow's tracking URI (MLFLOW_TRACKING_URI): "
                   "settings, figures with intervals, the gate's decision, the outputs "
                   "(the [mlflow] extra).")
@CONFIG_OPTION
@with_options(RUN_OPTIONS)
@with_options(CONDITION_OPTIONS)
@with_options(STATISTICS_OPTIONS)
@with_options(REPORT_OPTIONS)
@EXAMPLES_OPTION
@REDACT_OPTION
@with_options(GATE_OPTIONS)
@run_option("gate_on")
@click.pass_context
def run(ctx: click.Context, dataset: Path | None, config_path: Path | None,
        images: Path | None, image_set: str | None, image_column: str | None,
        mask_column: str | None, mlflow: bool, **options: Any) -> int:
    """Evaluate a model on an annotated dataset and write the run folder and the card."""
    from .config.files import load_config
    from .config.merge import merge_run_settings, resolve_dataset
    from .workflow import run as run_workflow

    file_config = load_config(config_path)
    # Only what was typed overrides the file; an option left out takes the file's value,
    # else the default of Settings (--workers: the number of cores).
    settings = merge_run_settings(file_config, given_on_command_line(ctx, options))
    return _finish(run_workflow(resolve_dataset(file_config, dataset), settings,
                                file_config=file_config, command=_command_line(),
                                echo=click.echo, log=_err, progress=Progress(),
                                images=images, image_set=image_set,
                                image_column=image_column, mask_column=mask_column,
                                mlflow=mlflow))


@cli.command()
@click.option("--dataset", type=click.Path(path_type=Path), default=None,
              help="Dataset folder or manifest (default: the config file's `dataset`).")
@click.option("--attribute", "attributes", multiple=True, help="Attribute column to check.")
@with_options(DATASET_FORMAT_OPTIONS)
@with_options(IMAGE_OPTIONS)
@with_options(SUBSET_OPTIONS)
@click.option("--seed", type=str, metavar="INTEGER", default=0, show_default=True,
              help="Seed of --sample's draw (as run's).")
@with_options(run_options("attribute_votes", "votes_image_key"))
@CONFIG_OPTION
@click.pass_context
def validate(ctx: click.Context, dataset: Path | None, images: Path | None,
             image_set: str | None, image_column: str | None, mask_column: str | None,
             config_path: Path | None, **options: Any) -> int:
    """Validate a dataset without running the model; print the counts of each attribute value."""
    from .config.files import load_config
    from .config.merge import merge_validate_options, resolve_dataset
    from .workflow import validate as validate_workflow

    # The same file as `run`: its dataset, attributes and image options, under what was typed.
    file_config = load_config(config_path)
    values = merge_validate_options(file_config, given_on_command_line(ctx, options))
    return _finish(validate_workflow(resolve_dataset(file_config, dataset), echo=click.echo,
                                     log=_err, images=images, image_set=image_set,
                                     image_column=image_column, mask_column=mask_column,
                                     **values))


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@with_options(REPORT_OPTIONS)
@EXAMPLES_OPTION
@REDACT_OPTION
@click.option("--overwrite", is_flag=True, help="Replace report files edited since written.")
def report(run_dir: Path, formats: str, card: Path | None, examples: int, redact_paths: bool,
           overwrite: bool) -> int:
    """Render the model card and summaries of a run folder from its results.json."""
    from .workflow import report as report_workflow

    return _finish(report_workflow(run_dir, formats, card=card, examples=examples,
                                   overwrite=overwrite, echo=click.echo,
                                   redact_paths=redact_paths))


@cli.command()
@click.option("--from-table", "table", type=click.Path(path_type=Path), required=True,
              help="CSV of published per-group figures: attribute, group, value, n or share, "
                   "optional ci_low, ci_high.")
@click.option("--average", default=None,
              help="The card's overall average IoU, e.g. 0.9657 or 96.57 (default: the "
                   "n- or share-weighted mean of each attribute's groups).")
@click.option("--inter-annotator-iou", default=None,
              help="Inter-annotator IoU for criterion (b), e.g. 0.9874 or 98.74.")
@click.option("--units", type=str, metavar=choices_metavar(UNITS), default="auto",
              show_default=True, help="Units of the table's values (auto: percent if all > 1).")
@with_options(CRITERIA_OPTIONS)
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder for results.json and the card.")
@click.option("--overwrite", is_flag=True, help="Replace the results in a non-empty --out.")
@with_options(REPORT_OPTIONS)
@with_options(GATE_OPTIONS)
@click.option("--gate-on", type=str, metavar=choices_metavar(GATE_ON), default=None,
              help="Verdicts to gate on (default: statistical when the table gives intervals, "
                   "else the card's point verdicts).")
def card(table: Path, out: Path, overwrite: bool, formats: str, card: Path | None, gate: bool,
         strict: bool, allow_empty_gate: bool, gate_on: str | None, **criteria: Any) -> int:
    """Apply the card's criteria to published per-group figures and render the card."""
    from .config.command_options import TableSettings
    from .workflow import card_from_table

    return _finish(card_from_table(
        table, out, TableSettings(**criteria), overwrite=overwrite, formats=formats, card=card,
        gate=gate, strict=strict, gate_on=gate_on, allow_empty_gate=allow_empty_gate,
        command=_command_line(), echo=click.echo))


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="An inconclusive verdict fails too.")
@click.option("--allow-empty-gate", is_flag=True,
              help="Pass when nothing could be gated (otherwise exit 2).")
@click.option("--gate-on", type=str, metavar=choices_metavar(GATE_ON), default=None,
              help="Gate on the bootstrap verdict or the card's point-estimate verdict "
                   "(default: what the run recorded; for a published table without "
                   "intervals, the point verdicts).")
@CONFIG_OPTION
@click.option("--overwrite", is_flag=True,
              help="Replace a junit.xml fairness-eval did not write (or that was edited).")
@click.pass_context
def check(ctx: click.Context, run_dir: Path, strict: bool, allow_empty_gate: bool,
          gate_on: str | None, config_path: Path | None, overwrite: bool) -> int:
    """Gate a run: exit 1 when a gated criterion is violated, 2 when nothing could be gated;
    write junit.xml."""
    from .config.files import load_config
    from .config.merge import merge_check_options
    from .workflow import check as check_workflow

    options = merge_check_options(load_config(config_path),
                                  given_on_command_line(ctx, ["strict", "gate_on",
                                                              "allow_empty_gate"]))
    return _finish(check_workflow(run_dir, options, echo=click.echo, overwrite=overwrite))


@cli.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--max-drop", type=str, metavar="NUMBER", default=None,
              help="Fail when a gated group's IoU drops by more than this with confidence "
                   "(e.g. 0.01).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for comparison.md, comparison.json and the comparison card "
                   "(default: the last run's folder).")
@click.option("--gate-on", type=str, metavar=choices_metavar(GATE_ON), default="statistical",
              show_default=True,
              help="Which verdicts count when looking for new violations.")
@click.option("--format", "formats", default="html,pdf", show_default=True,
              help="Comparison card formats: html, pdf (comparison.md and comparison.json "
                   "are always written; '' for no card).")
@REDACT_OPTION
@CONFIG_OPTION
@click.option("--overwrite", is_flag=True,
              help="Replace comparison files fairness-eval did not write (or that were edited).")
@click.pass_context
def compare(ctx: click.Context, runs: tuple[Path, ...], max_drop: float | None,
            out: Path | None, gate_on: str, formats: str, redact_paths: bool,
            config_path: Path | None, overwrite: bool) -> int:
    """Compare runs over the same images: RUN_A (the baseline) RUN_B [RUN_C ...].

    Per group, each model's IoU and verdicts and its paired change against the baseline;
    the comparison card and the closing lines name the fairest model by this rule (so does
    comparison.json's ranking, with three runs or more). The fairest model has the fewest
    gated criterion violations in its own run; then the highest worst-group lower bound
    (the lowest interval lower end of any gated group, over the attributes every run
    assessed; for a metric where lower is better, such as flicker, the lowest worst-group
    upper end); then the smallest gap (its largest range, highest minus lowest gated
    group, over those attributes). Models equal on all three tie.
    """
    from .config.files import load_config
    from .config.merge import merge_compare_options
    from .workflow import compare_models

    if len(runs) < 2:
        raise UsageError("compare: give at least two run folders (the baseline first)")
    options = merge_compare_options(load_config(config_path),
                                    given_on_command_line(ctx, ["max_drop", "out", "gate_on",
                                                                "redact_paths"]))
    return _finish(compare_models(runs, options, formats=formats, echo=click.echo,
                                  overwrite=overwrite))


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path), default=Path("."), required=False)
@click.option("--dataset", default=None, metavar="PATH",
              help="The dataset the CI workflow evaluates, relative to the repository root "
                   "(default: data/eval).")
def init(folder: Path, dataset: str | None) -> int:
    """Start a project: a commented fairness-eval.toml, a card.toml and a GitHub Actions
    workflow that gates pull requests (FOLDER: default the current one; no file is
    replaced)."""
    from .workflow.init import init_project

    return _finish(init_project(folder, dataset=dataset, echo=click.echo))


def _internal_error(error: BaseException) -> int:
    """Exit 3, never 1: CI reads 1 as a violated fairness criterion, not as a crash."""
    if _debug["requested"] or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        traceback.print_exception(error)
    if isinstance(error, MemoryError):
        reason = "out of memory (an input too large to hold, or too many resamples?)"
    else:
        lines = str(error).strip().splitlines()
        reason = type(error).__name__ + (f": {lines[0]}" if lines else "")
    _err(f"fairness-eval: internal error: {one_line(reason)} "
         "(run with --debug for the traceback)")
    return EXIT_INTERNAL


def _stopped() -> int:
    """Exit 128 + the signal's number after the first SIGINT or SIGTERM (interrupts.py)."""
    number = received()
    if number is None:  # an Abort of click's own (a prompt's end of input)
        _err("aborted")
        return 130
    exiting()
    _err(f"fairness-eval: stopped by {describe(number)}")
    return exit_code(number)


cli.add_command(models)


def main() -> None:
    """Console entry point: click in standalone mode, our errors as one line and exit 2."""
    from .data.problem_lines import problem_lines
    from .data.samples import InvalidDataset

    on_stop_signals()
    escape_library_output()
    _debug["requested"] = False
    try:
        code = cli.main(standalone_mode=False)
    except InvalidDataset as error:
        for line in problem_lines(error.problems):
            _err(one_line(line))
        _err(f"fairness-eval: error: {one_line(str(error))}")
        sys.exit(EXIT_USAGE)
    except UsageError as error:
        _err(f"fairness-eval: error: {one_line(str(error))}")
        sys.exit(EXIT_USAGE)
    except (click.exceptions.Abort, KeyboardInterrupt):  # click's Abort wraps Ctrl-C
        sys.exit(_stopped())
    except click.UsageError as error:
        if isinstance(error, click.exceptions.NoArgsIsHelpError):
            error.show()  # a bare command asks for its help text
            sys.exit(EXIT_USAGE)
        # One line like every other usage error (click's own form spans four).
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
        _err(f"fairness-eval: error: {one_line(error.format_message())}{hint}")
        sys.exit(EXIT_USAGE)
    except click.ClickException as error:
        # click's own errors (a file it cannot open) are the user's to fix: never exit 1,
        # which CI reads as a violated criterion.
        _err(f"fairness-eval: error: {one_line(error.format_message())}")
        sys.exit(EXIT_USAGE)
    except Exception as error:  # noqa: BLE001 (the last resort: a bug, or out of memory)
        # A signal to the whole group can end a worker before this process stops: the
        # error it causes is the stop's, not a bug.
        sys.exit(_stopped() if received() is not None else _internal_error(error))
    sys.exit(code if isinstance(code, int) else EXIT_OK)
