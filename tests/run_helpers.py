"""What the tests of a running `run` share: its results without the circumstances of one
invocation, the rows its progress store holds so far, and the processes /proc shows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

# Where and how a run went, not what it found.
RUN_CIRCUMSTANCES = ("command", "started", "finished")
SETTINGS_CIRCUMSTANCES = ("out", "resume", "overwrite", "workers")


def comparable(run_dir: Path, run_keys: tuple[str, ...] = RUN_CIRCUMSTANCES,
               settings_keys: tuple[str, ...] = SETTINGS_CIRCUMSTANCES,
               missing_ok: bool = False) -> dict:
    """results.json without what differs between two invocations of one evaluation; a key
    that is absent is an error unless `missing_ok`."""
    document = json.loads((run_dir / "results.json").read_text())
    for block, keys in ((document, run_keys), (document["settings"], settings_keys)):
        for key in keys:
            if missing_ok:
                block.pop(key, None)
            else:
                block.pop(key)
    return document


def stored_rows(run_dir: Path) -> int:
    """Rows committed to the run's progress store so far (0 while it does not exist yet)."""
    store = run_dir / "progress.sqlite"
    if not store.exists():
        return 0
    try:
        connection = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=0.1)
        try:
            return connection.execute("SELECT COUNT(*) FROM rows").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error:  # created but its tables not yet, or mid-checkpoint
        return 0


def processes() -> Iterator[tuple[int, str, int, int]]:
    """(pid, state, parent pid, process group) of every process /proc shows."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            yield int(entry.name), fields[0], int(fields[1]), int(fields[2])
