"""Which report files in a folder fairness-eval wrote: the ledger `.fairness-eval-reports.json`.

A run folder (or a comparison's --out) may hold files the user wrote or edited: a card
with their own remarks, a junit.xml from another tool, a comparison.md of their own. So
every writer of such a file (the card and summaries, junit.xml, comparison.*) asks here
first: a file that exists is replaced only when the ledger holds its SHA-256 as
fairness-eval wrote it, or with --overwrite. After writing, the writer records each
file's SHA-256. `--overwrite` of a run removes only files whose content still matches.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..atomicwrite import file_sha256, write_atomically
from ..errors import UsageError
from ..results.names import RENDERED_REPORTS_FILE

LEDGER_NAME = RENDERED_REPORTS_FILE


def sha256_file(path: Path) -> str | None:
    """The SHA-256 of a regular file's bytes; None when it cannot be read or is a link
    (a link is never as fairness-eval wrote it: it writes regular files only)."""
    path = Path(path)
    return file_sha256(path, path.parent)


def read_ledger(folder: Path | str) -> dict[str, str]:
    """File name -> SHA-256 of each file fairness-eval wrote into `folder` (empty if none)."""
    try:
        ledger = json.loads((Path(folder) / LEDGER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in ledger.items()} if isinstance(ledger, dict) else {}


def foreign_files(targets: Iterable[Path], ledger: Mapping[str, str] | None = None
                  ) -> list[Path]:
    """The targets that exist and are not as fairness-eval wrote them (edited since, never
    written by it, or a link in place of the file).

    `ledger`: the folder's ledger when the caller has read it (all targets share a folder).
    """
    found = []
    for target in targets:
        target = Path(target)
        if not os.path.lexists(target):
            continue
        known = read_ledger(target.parent) if ledger is None else ledger
        if target.is_symlink() or known.get(target.name) != sha256_file(target):
            found.append(target)
    return found


def refuse_foreign_files(targets: Iterable[Path], ledger: Mapping[str, str] | None = None
                         ) -> None:
    """UsageError for the first target that exists and is not as fairness-eval wrote it."""
    for target in foreign_files(targets, ledger)[:1]:
        raise UsageError(
            f"{target}: exists and was not written by fairness-eval (or was edited since); "
            "move it away or pass --overwrite to replace it"
        )


def kept_line(path: Path) -> str:
    """What a run says of a report file it keeps instead of writing (run --overwrite)."""
    return (f"kept {path}: not as fairness-eval wrote it (edited, or not its file), so the "
            "new one was not written there; `fairness-eval report` or `check` with "
            "--overwrite replaces it")


def write_ledger(folder: Path | str, ledger: Mapping[str, str]) -> None:
    """Replace the folder's ledger atomically."""
    write_atomically(Path(folder) / LEDGER_NAME,
                     (json.dumps(dict(ledger), indent=2, sort_keys=True) + "\n").encode())


def record_written(paths: Iterable[Path]) -> None:
    """Add each file just written to the ledger of its folder, with its SHA-256."""
    by_folder: dict[Path, list[Path]] = {}
    for path in paths:
        by_folder.setdefault(Path(path).parent, []).append(Path(path))
    for folder, written in by_folder.items():
        ledger = read_ledger(folder)
        for path in written:
            digest = sha256_file(path)
            if digest is not None:
                ledger[path.name] = digest
        write_ledger(folder, ledger)


__all__ = ["LEDGER_NAME", "foreign_files", "kept_line", "read_ledger", "record_written",
           "refuse_foreign_files", "sha256_file", "write_ledger"]
