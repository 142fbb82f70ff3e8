"""The records the workflow's commands return: what each made and the exit code it implies,
and what a run's evaluation hands the rest of `run` (`RunOutcome`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..results.schema import ResultsDocument

if TYPE_CHECKING:
    import pandas as pd

    from ..data.samples import Dataset
    from ..evaluation.run_dir import RunFolderLock

EXIT_OK, EXIT_GATE_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


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


@dataclass(frozen=True)
class RunResult:
    """A dataset evaluated: the run folder, its results document and what followed."""

    run_dir: Path
    document: ResultsDocument
    reports: tuple[Path, ...]
    failed_rows: tuple[Mapping[str, Any], ...]  # valid rows that broke during inference
    gate_exit_code: int | None  # None when not gated
    error: str | None  # why the run is not accepted although its results were written
    exit_code: int


@dataclass(frozen=True)
class CardResult:
    """A published per-group table judged by the card's criteria (`card --from-table`)."""

    run_dir: Path
    document: ResultsDocument
    reports: tuple[Path, ...]
    gate_exit_code: int | None
    exit_code: int
    error: str | None = None  # the gate checked nothing (exit 2): what is missing


@dataclass(frozen=True)
class ReportResult:
    """Reports rendered from a run folder."""

    run_dir: Path
    reports: tuple[Path, ...]
    exit_code: int = EXIT_OK


@dataclass(frozen=True)
class CheckResult:
    """A run folder gated: junit.xml written, exit code 0 (passed), 1 (failed) or 2
    (nothing could be gated; `error` says what is missing)."""

    run_dir: Path
    exit_code: int
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.exit_code == EXIT_OK


@dataclass(frozen=True)
class CompareResult:
    """Runs compared: comparison.md and comparison.json (and the comparison card, `reports`)
    written into `out_dir`."""

    out_dir: Path
    exit_code: int
    reports: tuple[Path, ...] = ()

    @property
    def passed(self) -> bool:
        return self.exit_code == EXIT_OK


@dataclass(frozen=True)
class ValidateResult:
    """A dataset checked without running the model."""

    source: Path
    rows: int
    valid: int
    problems: tuple[str, ...]
    value_counts: Mapping[str, Mapping[str, int]]
    error: str | None
    exit_code: int
