"""`fairness-eval check`: the fairness gate over a run folder (junit.xml, GitHub Actions
output) and its exit code."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from ..config.command_options import CheckOptions
from ..terminal import safe_writer
from .finish import gate_run_folder
from .outcomes import CheckResult
from .preflight import check_results_file, locked

Echo = Callable[[str], None]


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
        code, error = gate_run_folder(Path(run_dir), options, safe_writer(echo),
                                      overwrite=overwrite, env=env)
    return CheckResult(Path(run_dir), code, error)
