"""`fairness-eval compare`: runs over the same images compared, two or several models.

`compare` (two runs) and `compare_models` (several, the first as the baseline) are the
commands; the rest is what they do. The steps live in their stages: matching the runs and
each group's paired change in fairness/comparison_changes.py (the interval in
stats/paired.py), the records in results/comparison_record.py and
results/model_comparison_record.py, comparison.md in report/comparison_markdown.py and
report/model_comparison_markdown.py, the comparison card in report/comparison_card.py.
This module puts them together, applies the fairness gate to both runs, and writes the
outputs.

Gate: exit 1 when a gated group's drop exceeds `--max-drop` with confidence (the whole
interval of the change lies below -max_drop; for a metric where lower is better, flicker,
a rise is the drop: the whole interval lies above +max_drop), or when the candidate
violates a gated criterion the baseline did not; every change of any fairness verdict is
listed. Video runs are compared clip by clip (per_clip.csv).

Several models: the runs must have scored the same images. Every run after the first is
compared against it as two runs always were (the paired bootstrap change of each group,
verdict changes, the `--max-drop` gate and new violations), and each model keeps the
figures its own run recorded. Outputs, into `--out` (default: the last run's folder):
comparison.json and comparison.md (with two runs exactly the pairwise files), and the
comparison card (comparison.html, comparison.pdf) in the model card's style. Exit 1 when
any candidate fails the gate against the baseline.

The stages' modules are imported when a comparison is made: `import fairness_eval.workflow`
must not load pandas or scipy (a run forks its workers first).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomicwrite import write_atomically
from ..config.command_options import CompareOptions
from ..config.field_rules import FIELD_RULES
from ..errors import UsageError
from ..results.names import COMPARISON_JSON, COMPARISON_MD
from ..terminal import safe_writer
from .outcomes import CompareResult
from .preflight import check_results_file, locked

if TYPE_CHECKING:
    from ..fairness.comparison_changes import Run
    from ..results.comparison_record import Comparison
    from ..results.model_comparison_record import ModelComparison

__all__ = ["CARD_FORMATS", "COMPARISON_JSON", "COMPARISON_MD", "compare",
           "compare_loaded_runs", "compare_model_runs", "compare_models", "compare_runs",
           "load_checked_run", "run_compare", "run_compare_models", "write_comparison",
           "write_model_comparison"]

Echo = Callable[[str], None]
CARD_FORMATS = ("html", "pdf")


# --- the commands ----------------------------------------------------------------------


def compare(baseline: Path | str, candidate: Path | str, options: CompareOptions | None = None,
            *, echo: Echo = print, overwrite: bool = False) -> CompareResult:
    """Compare two runs over the same images; the gate fails on a confident drop."""
    options = CompareOptions() if options is None else options
    check_results_file(baseline)
    check_results_file(candidate)
    out_dir = Path(options.out if options.out is not None else candidate)
    with locked(out_dir, "--out" if options.out is not None else "RUN_DIR"):
        code = run_compare(baseline, candidate, options, echo=safe_writer(echo),
                           overwrite=overwrite)
    return CompareResult(out_dir, code)


def compare_models(runs: Sequence[Path | str], options: CompareOptions | None = None, *,
                   formats: Sequence[str] | str = ("html", "pdf"), echo: Echo = print,
                   overwrite: bool = False) -> CompareResult:
    """Compare several runs over the same images, the first as the baseline: comparison.json,
    comparison.md and the comparison card in `formats` (html, pdf; md and json are always
    written). Two runs give exactly `compare`'s files, plus the card. Files the user wrote
    or edited are not replaced unless `overwrite`."""
    options = CompareOptions() if options is None else options
    option, rule = FIELD_RULES["formats"]
    formats = rule(formats, option)
    for run_dir in runs:
        check_results_file(run_dir)
    out_dir = Path(options.out if options.out is not None else list(runs)[-1])
    with locked(out_dir, "--out" if options.out is not None else "RUN_DIR"):
        code, written = run_compare_models(list(runs), options, formats=formats,
                                           echo=safe_writer(echo), overwrite=overwrite)
    return CompareResult(out_dir, code, tuple(written))


# --- two runs --------------------------------------------------------------------------


def compare_runs(
    baseline_dir: Path | str, candidate_dir: Path | str, options: CompareOptions | None = None
) -> Comparison:
    """Compare two runs over the same images (see the module docstring)."""
    return compare_loaded_runs(load_checked_run(baseline_dir), load_checked_run(candidate_dir),
                               options)


def load_checked_run(run_dir: Path | str) -> Run:
    """`load_run`, refusing a run whose per_image.csv (per_clip.csv, per_frame.csv) is not
    the one its results.json recorded: a paired change from an edited table is not the
    run's, and could pass or fail `--max-drop` on a number nobody measured."""
    from ..fairness.comparison_changes import load_run
    from ..results.document import verify_tables

    run = load_run(run_dir)
    verify_tables(run.path, run.results)
    return run


def compare_loaded_runs(baseline: Run, candidate: Run, options: CompareOptions | None = None
                        ) -> Comparison:
    """`compare_runs` of two run folders already read (`load_run`)."""
    from ..ci.gate import evaluate_gate
    from ..fairness import comparison_changes as matching
    from ..results.comparison_record import Comparison
    from ..results.schema import ResultsDocument

    options = CompareOptions() if options is None else options
    images = matching.check_same_images(baseline, candidate)
    boot = matching.bootstrap_settings(baseline.results)
    overall, attributes = matching.group_changes(baseline, candidate, images, boot,
                                                 options.max_drop)
    changes = [overall, *(g for a in attributes.values() for g in a.groups.values())]

    def failures_of(results: ResultsDocument) -> list[tuple[tuple[str, ...], str]]:
        report = evaluate_gate(results, gate_on=options.gate_on)
        return [((c.attribute, c.group, c.criterion),
                 c.describe(report.confidence, options.gate_on)) for c in report.failures]

    failures = matching.drop_failures(changes, boot, options.max_drop)
    failures += matching.new_violations(baseline.results, candidate.results, failures_of)
    b_names, c_names = set(baseline.results.attributes), set(candidate.results.attributes)
    return Comparison(
        baseline=baseline.summary(),
        candidate=candidate.summary(),
        images=len(images),
        bootstrap=boot,
        max_drop=options.max_drop,
        gate_on=options.gate_on,
        settings_changed=matching.settings_changed(baseline.results, candidate.results),
        attributes_only_in_baseline=tuple(sorted(b_names - c_names)),
        attributes_only_in_candidate=tuple(sorted(c_names - b_names)),
        overall=overall,
        attributes=attributes,
        verdict_changes=tuple(matching.verdict_changes(baseline.results, candidate.results)),
        failures=tuple(failures),
    )


def write_comparison(comparison: Comparison, out_dir: Path | str, *, redact_paths: bool = True
                     ) -> tuple[Path, Path]:
    """Write comparison.json and comparison.md into `out_dir` (created if needed);
    `redact_paths`: comparison.md names the run folders and files by name (comparison.json
    keeps the full paths)."""
    from ..report.comparison_markdown import comparison_markdown
    from ..results.jsonvalues import to_jsonable

    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        json_path, md_path = out_dir / COMPARISON_JSON, out_dir / COMPARISON_MD
    except OSError as error:
        raise UsageError(f"--out: cannot write to {out_dir} ({error.strerror or error})") from None
    # Written through no link planted in place of either file.
    write_atomically(json_path, (json.dumps(to_jsonable(comparison.to_json()), indent=2,
                                            ensure_ascii=False, allow_nan=False) + "\n"
                                 ).encode("utf-8"))
    shown = _redacted(comparison, out_dir) if redact_paths else comparison
    write_atomically(md_path, comparison_markdown(shown).encode("utf-8"))
    return json_path, md_path


def _redacted(comparison: Comparison | ModelComparison, out_dir: Path
              ) -> Comparison | ModelComparison:
    """The comparison as the published files show it: no absolute local path
    (report/redaction.py); the run folders and `out_dir` by their names."""
    from ..report.redaction import redact_record
    from ..results.comparison_record import Comparison

    if isinstance(comparison, Comparison):
        folders = [comparison.baseline.run_dir, comparison.candidate.run_dir]
    else:
        folders = [model.run.run_dir for model in comparison.models]
    return redact_record(comparison, [*folders, str(out_dir), str(Path(out_dir).resolve())])


def run_compare(
    baseline_dir: Path | str,
    candidate_dir: Path | str,
    options: CompareOptions | None = None,
    *,
    echo: Callable[[str], None] = print,
    overwrite: bool = False,
) -> int:
    """Everything `fairness-eval compare` does; returns the exit code (0 or 1).

    A comparison.md or comparison.json the user wrote or edited is not replaced unless
    `overwrite` (report/ledger.py).
    """
    from ..report.comparison_markdown import closing_lines
    from ..report.ledger import record_written, refuse_foreign_files

    options = CompareOptions() if options is None else options
    comparison = compare_runs(baseline_dir, candidate_dir, options)
    out_dir = options.out if options.out is not None else Path(candidate_dir)
    if not overwrite:
        refuse_foreign_files([Path(out_dir) / COMPARISON_JSON, Path(out_dir) / COMPARISON_MD])
    json_path, md_path = write_comparison(comparison, out_dir, redact_paths=options.redact_paths)
    record_written([json_path, md_path])
    echo(f"wrote {md_path} and {json_path}")
    for line in closing_lines(comparison):
        echo(line)
    return comparison.exit_code


# --- several models ----------------------------------------------------------------------


def compare_model_runs(run_dirs: Sequence[Path | str], options: CompareOptions | None = None
                       ) -> ModelComparison:
    """Compare the runs' models over the same images, the first run as the baseline."""
    from ..results.model_comparison_record import ComparedModel, ModelComparison, unique_labels

    options = CompareOptions() if options is None else options
    if len(run_dirs) < 2:
        raise UsageError("compare: give at least two run folders (the baseline first)")
    runs = [load_checked_run(path) for path in run_dirs]
    pairs = tuple(compare_loaded_runs(runs[0], run, options) for run in runs[1:])
    labels = unique_labels([run.results.model_name for run in runs],
                           [str(run.path) for run in runs])
    models = tuple(
        ComparedModel(label=label, run=run.summary(), model=run.results.model,
                      overall=run.results.overall, attributes=dict(run.results.attributes))
        for label, run in zip(labels, runs, strict=True))
    comparison = ModelComparison(models=models, pairs=pairs, images=pairs[0].images,
                                 bootstrap=pairs[0].bootstrap, max_drop=options.max_drop,
                                 gate_on=options.gate_on)
    return _ranked(comparison, runs, options)


def _ranked(comparison: ModelComparison, runs: Sequence[Run], options: CompareOptions
            ) -> ModelComparison:
    """`comparison` with every model ranked by the fairest-model rule (fairness/fairest.py);
    a run's gated violations are its own gate's failures under `--gate-on`."""
    import dataclasses

    from ..ci.gate import evaluate_gate
    from ..fairness.fairest import fairest_labels, rank_models
    from ..results.names import LOWER_IS_BETTER_METRICS

    names = comparison.attribute_names()
    ranking = rank_models(
        [model.label for model in comparison.models],
        [len(evaluate_gate(run.results, gate_on=options.gate_on).failures) for run in runs],
        [[model.attributes[name] for name in names] for model in comparison.models],
        lower_is_better=(comparison.bootstrap.metric or "iou") in LOWER_IS_BETTER_METRICS)
    return dataclasses.replace(comparison, ranking=ranking, fairest=fairest_labels(ranking))


def write_model_comparison(comparison: ModelComparison, out_dir: Path | str,
                           formats: Sequence[str] = CARD_FORMATS, *,
                           redact_paths: bool = True) -> list[Path]:
    """Write comparison.json, comparison.md and the card's `formats` (html, pdf) into
    `out_dir`; the paths written, in that order. `redact_paths`: comparison.md and the card
    name run folders and model files by name (comparison.json keeps the full paths)."""
    from ..report.model_comparison_markdown import model_comparison_markdown
    from ..results.jsonvalues import to_jsonable

    out_dir = Path(out_dir)
    shown = _redacted(comparison, out_dir) if redact_paths else comparison
    if len(comparison.pairs) == 1:
        written = list(write_comparison(comparison.pairs[0], out_dir, redact_paths=redact_paths))
    else:
        written = _write_texts(out_dir, {
            COMPARISON_JSON: json.dumps(to_jsonable(comparison.to_json()), indent=2,
                                        ensure_ascii=False, allow_nan=False) + "\n",
            COMPARISON_MD: model_comparison_markdown(shown),
        })
    wanted = [fmt for fmt in CARD_FORMATS if fmt in formats]
    if wanted:
        from ..report.comparison_card import write_comparison_card

        written += write_comparison_card(shown, out_dir, wanted)
    return written


def _write_texts(out_dir: Path, texts: dict[str, str]) -> list[Path]:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out: cannot write to {out_dir} ({error.strerror or error})") from None
    paths = []
    for name, text in texts.items():  # through no link planted in place of a file
        write_atomically(out_dir / name, text.encode("utf-8"))
        paths.append(out_dir / name)
    return paths


def run_compare_models(run_dirs: Sequence[Path | str], options: CompareOptions | None = None,
                       *, formats: Sequence[str] = CARD_FORMATS,
                       echo: Callable[[str], None] = print, overwrite: bool = False
                       ) -> tuple[int, list[Path]]:
    """Everything `fairness-eval compare` does: (exit code 0 or 1, the files written).

    A comparison file the user wrote or edited is not replaced unless `overwrite`
    (report/ledger.py).
    """
    from ..report.ledger import record_written, refuse_foreign_files
    from ..report.model_comparison_markdown import models_closing_lines

    options = CompareOptions() if options is None else options
    comparison = compare_model_runs(run_dirs, options)
    out_dir = Path(options.out if options.out is not None else run_dirs[-1])
    if not overwrite:
        from ..report.comparison_card import COMPARISON_HTML, COMPARISON_PDF

        cards = {"html": COMPARISON_HTML, "pdf": COMPARISON_PDF}
        refuse_foreign_files([out_dir / COMPARISON_JSON, out_dir / COMPARISON_MD,
                              *(out_dir / cards[f] for f in CARD_FORMATS if f in formats)])
    written = write_model_comparison(comparison, out_dir, formats,
                                     redact_paths=options.redact_paths)
    record_written(written)
    for path in written:
        echo(f"wrote {path}")
    for line in models_closing_lines(comparison):
        echo(line)
    return comparison.exit_code, written
