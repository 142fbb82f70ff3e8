"""`fairness-eval compare RUN_A RUN_B [RUN_C ...]`: which of several models is fairest.

The runs must have scored the same images. The first run is the baseline; every other run
is compared against it as two runs always were (comparison.py: the paired bootstrap change
of each group, verdict changes, the `--max-drop` gate and new violations), and each model
keeps the figures its own run recorded. Outputs, into `--out` (default: the last run's
folder): comparison.json and comparison.md (with two runs exactly the pairwise files of
before), and the comparison card (comparison.html, comparison.pdf) in the model card's
style. Exit 1 when any candidate fails the gate against the baseline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from .atomicwrite import write_atomically
from .comparison import compare_loaded_runs, load_checked_run, write_comparison
from .config.command_options import CompareOptions
from .errors import UsageError
from .report.ledger import record_written, refuse_foreign_files
from .report.model_comparison_markdown import model_comparison_markdown, models_closing_lines
from .results.jsonvalues import to_jsonable
from .results.model_comparison_record import ComparedModel, ModelComparison, unique_labels
from .results.names import COMPARISON_JSON, COMPARISON_MD

CARD_FORMATS = ("html", "pdf")


def compare_models(run_dirs: Sequence[Path | str], options: CompareOptions | None = None
                   ) -> ModelComparison:
    """Compare the runs' models over the same images, the first run as the baseline."""
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
    return ModelComparison(models=models, pairs=pairs, images=pairs[0].images,
                           bootstrap=pairs[0].bootstrap, max_drop=options.max_drop,
                           gate_on=options.gate_on)


def write_model_comparison(comparison: ModelComparison, out_dir: Path | str,
                           formats: Sequence[str] = CARD_FORMATS) -> list[Path]:
    """Write comparison.json, comparison.md and the card's `formats` (html, pdf) into
    `out_dir`; the paths written, in that order."""
    out_dir = Path(out_dir)
    if len(comparison.pairs) == 1:
        written = list(write_comparison(comparison.pairs[0], out_dir))
    else:
        written = _write_texts(out_dir, {
            COMPARISON_JSON: json.dumps(to_jsonable(comparison.to_json()), indent=2,
                                        ensure_ascii=False, allow_nan=False) + "\n",
            COMPARISON_MD: model_comparison_markdown(comparison),
        })
    wanted = [fmt for fmt in CARD_FORMATS if fmt in formats]
    if wanted:
        from .report.comparison_card import write_comparison_card

        written += write_comparison_card(comparison, out_dir, wanted)
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
    options = CompareOptions() if options is None else options
    comparison = compare_models(run_dirs, options)
    out_dir = Path(options.out if options.out is not None else run_dirs[-1])
    if not overwrite:
        from .report.comparison_card import COMPARISON_HTML, COMPARISON_PDF

        cards = {"html": COMPARISON_HTML, "pdf": COMPARISON_PDF}
        refuse_foreign_files([out_dir / COMPARISON_JSON, out_dir / COMPARISON_MD,
                              *(out_dir / cards[f] for f in CARD_FORMATS if f in formats)])
    written = write_model_comparison(comparison, out_dir, formats)
    record_written(written)
    for path in written:
        echo(f"wrote {path}")
    for line in models_closing_lines(comparison):
        echo(line)
    return comparison.exit_code, written


__all__ = ["CARD_FORMATS", "compare_models", "run_compare_models", "write_model_comparison"]
