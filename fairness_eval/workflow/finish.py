"""The tail the commands share: the console summary, the reports, the gate.

`run`, `card --from-table`, `report` and `check` end here, so that each prints and writes
its outputs alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..config.command_options import CheckOptions
from ..results.schema import ResultsDocument

Echo = Callable[[str], None]


def summarise_and_render(run_dir: Path, document: ResultsDocument, *,
                         formats: Sequence[str], card: Path | None, examples: int,
                         overwrite: bool, echo: Echo,
                         images: Mapping[str, Any] | None = None, keep: bool = False,
                         redact_paths: bool = True) -> tuple[Path, ...]:
    """The console summary, then the reports. `keep` (a run's own folder): a report file
    fairness-eval did not write, or that was edited, stays as it is, with one line.
    `redact_paths`: the reports name no absolute local path (report/redaction.py)."""
    from ..report.console import summary_lines

    for line in summary_lines(document):
        echo(line)
    echo("")
    echo(f"results: {run_dir}")
    if not formats:
        return ()
    return render(run_dir, formats, card=card, examples=examples, overwrite=overwrite,
                  echo=echo, images=images, keep=keep, redact_paths=redact_paths)


def render(run_dir: Path, formats: Sequence[str], *, card: Path | None, examples: int,
           overwrite: bool, echo: Echo, images: Mapping[str, Any] | None,
           keep: bool = False, redact_paths: bool = True) -> tuple[Path, ...]:
    """The reports in `formats`, each file written echoed; `keep` as for
    `summarise_and_render`."""
    from ..report import render_reports
    from ..report.ledger import kept_line

    written = tuple(render_reports(run_dir, tuple(formats), card=card, examples=examples,
                                   overwrite=overwrite, images=images,
                                   keep=(lambda path: echo(kept_line(path))) if keep else None,
                                   redact_paths=redact_paths))
    for path in written:
        echo(f"wrote {path}")
    return written


def gate_run_folder(run_dir: Path, options: CheckOptions, echo: Echo, *,
                    overwrite: bool = False, env: Mapping[str, str] | None = None,
                    keep: bool = False) -> tuple[int, str | None]:
    """The gate every command applies (ci/outputs.apply_gate): its exit code, and the line
    a gate that checked nothing exits 2 with. `keep`: as for `summarise_and_render`."""
    from ..ci.outputs import apply_gate
    from ..report.ledger import kept_line

    report = apply_gate(run_dir, options, echo=echo, env=env, overwrite=overwrite,
                        keep=(lambda path: echo(kept_line(path))) if keep else None)
    return report.exit_code, report.error
