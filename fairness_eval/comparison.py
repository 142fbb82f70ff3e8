"""`fairness-eval compare BASELINE CANDIDATE`: two runs over the same images, compared.

The steps live in their stages: matching the runs and each group's paired change in
fairness/comparison_changes.py (the interval in stats/paired.py), the record in
results/comparison_record.py, comparison.md in report/comparison_markdown.py. This module puts them
together, applies the fairness gate to both runs, and writes the outputs.

Gate: exit 1 when a gated group's drop exceeds `--max-drop` with confidence (the whole
interval of the change lies below -max_drop; for a metric where lower is better, flicker,
a rise is the drop: the whole interval lies above +max_drop), or when the candidate
violates a gated criterion the baseline did not; every change of any fairness verdict is
listed. Video runs are compared clip by clip (per_clip.csv).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from .atomicwrite import write_atomically
from .ci.gate import evaluate_gate
from .config.command_options import CompareOptions
from .errors import UsageError
from .fairness import comparison_changes as matching
from .fairness.comparison_changes import Run, load_run
from .report.comparison_markdown import closing_lines, comparison_markdown
from .report.ledger import record_written, refuse_foreign_files
from .results.comparison_record import Comparison
from .results.document import verify_tables
from .results.jsonvalues import to_jsonable
from .results.names import COMPARISON_JSON, COMPARISON_MD
from .results.schema import ResultsDocument
from .stats.paired import PairedChange, paired_change

__all__ = ["COMPARISON_JSON", "COMPARISON_MD", "Comparison", "PairedChange", "Run",
           "closing_lines", "compare_loaded_runs", "compare_runs", "load_checked_run", "load_run",
           "paired_change", "run_compare", "write_comparison"]


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
    run = load_run(run_dir)
    verify_tables(run.path, run.results)
    return run


def compare_loaded_runs(baseline: Run, candidate: Run, options: CompareOptions | None = None
                        ) -> Comparison:
    """`compare_runs` of two run folders already read (`load_run`)."""
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


def write_comparison(comparison: Comparison, out_dir: Path | str) -> tuple[Path, Path]:
    """Write comparison.json and comparison.md into `out_dir` (created if needed)."""
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
    write_atomically(md_path, comparison_markdown(comparison).encode("utf-8"))
    return json_path, md_path


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
    options = CompareOptions() if options is None else options
    comparison = compare_runs(baseline_dir, candidate_dir, options)
    out_dir = options.out if options.out is not None else Path(candidate_dir)
    if not overwrite:
        refuse_foreign_files([Path(out_dir) / COMPARISON_JSON, Path(out_dir) / COMPARISON_MD])
    json_path, md_path = write_comparison(comparison, out_dir)
    record_written([json_path, md_path])
    echo(f"wrote {md_path} and {json_path}")
    for line in closing_lines(comparison):
        echo(line)
    return comparison.exit_code
