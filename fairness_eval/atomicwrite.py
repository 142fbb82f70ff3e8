"""Writing a file so that a partial one never takes its name.

Every output fairness-eval writes (results, tables, cards, ledgers) is written beside its
target as `<name>.partial` and renamed over it when complete, so a crash, a full disk or a
kill leaves either the old file or the new one, never half of one. A failure is one line
naming the file (UsageError, exit 2).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UsageError

PARTIAL_SUFFIX = ".partial"


def write_atomically(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write `data` to `path` through `<path>.partial` and a rename.

    `durable`: flush the bytes to the disk before the rename, for the files a resumed or
    audited run relies on (results.json, per_image.csv, conditions.csv).
    """
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    try:
        with open(partial, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


__all__ = ["PARTIAL_SUFFIX", "write_atomically"]
