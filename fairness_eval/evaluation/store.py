"""Durable per-image progress: an SQLite file in the run directory.

Each evaluated row is committed as it arrives, so a run killed at any moment (even by
SIGKILL) loses at most the rows of the last uncommitted batch. `--resume` reopens the file,
checks that the resume key (model hash and every setting that changes a per-image number)
is the same, and evaluates only the rows that are missing.

Each row is stored with the SHA-256 of its text, checked when the row is read back: a row
edited by hand (or a store that is no progress store) is refused with one line rather than
resumed into numbers fairness-eval never computed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..results.names import PROGRESS_FILE

STORE_NAME = PROGRESS_FILE
COMMIT_EVERY_ROWS = 16
COMMIT_EVERY_SECONDS = 0.5
_COLUMNS = ("row", "image", "content_sha256", "data", "data_sha256")


class ProgressStore:
    """Rows of the per-image table, keyed by dataset row number."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # SQLite follows links: one planted in the run folder would be written through.
        for suffix in ("", "-wal", "-shm"):
            if Path(str(path) + suffix).is_symlink():
                raise UsageError(f"{path}{suffix}: is a symbolic link; fairness-eval never "
                                 "writes through a link: remove it or start a new --out")
        self._connection = sqlite3.connect(path)
        try:
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self._connection.execute(
                "CREATE TABLE IF NOT EXISTS rows (row INTEGER PRIMARY KEY, image TEXT NOT NULL, "
                "content_sha256 TEXT, data TEXT NOT NULL, data_sha256 TEXT NOT NULL)"
            )
            self._connection.commit()
            columns = [c[1] for c in self._connection.execute("PRAGMA table_info(rows)")]
        except sqlite3.Error as error:  # e.g. "file is not a database", a full disk
            self._connection.close()
            raise UsageError(f"{path}: not a usable progress store ({error}); "
                             "start a new --out") from None
        if columns != list(_COLUMNS):
            self._connection.close()
            raise UsageError(f"{path}: not a progress store of this version of fairness-eval "
                             f"(its rows table has columns {', '.join(map(str, columns))}); "
                             "start a new --out")
        self._pending = 0
        self._last_commit = time.monotonic()

    @classmethod
    def create(cls, run_dir: Path, resume_key: dict[str, Any]) -> ProgressStore:
        """A new store for a fresh run (an old one in the folder is replaced)."""
        path = run_dir / STORE_NAME
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        store = cls(path)
        store._connection.execute(
            "INSERT INTO meta VALUES ('resume_key', ?)", (json.dumps(resume_key, sort_keys=True),)
        )
        store._connection.commit()
        return store

    @classmethod
    def reopen(cls, run_dir: Path, resume_key: dict[str, Any]) -> ProgressStore:
        """The store of an interrupted run; refused when its resume key differs."""
        path = run_dir / STORE_NAME
        if not path.exists():
            raise UsageError(f"--resume: {run_dir} holds no {STORE_NAME} from an earlier run")
        store = cls(path)
        try:
            found = store._connection.execute(
                "SELECT value FROM meta WHERE key = 'resume_key'").fetchone()
        except sqlite3.Error as error:
            store.close()
            raise store._read_error(error) from None
        if found is None:  # killed between creating the file and its first write
            store.close()
            return cls.create(run_dir, resume_key)
        try:
            earlier = json.loads(found[0])
        except (TypeError, ValueError):
            earlier = None
        if not isinstance(earlier, dict):
            store.close()
            raise UsageError(f"--resume: {path}: its resume key is not the one fairness-eval "
                             "wrote (edited?); start a new --out")
        differing = sorted(k for k in set(earlier) | set(resume_key)
                           if earlier.get(k) != resume_key.get(k))
        if differing:
            details = "; ".join(f"{k}: was {earlier.get(k)!r}, now {resume_key.get(k)!r}"
                                for k in differing)
            store.close()
            raise UsageError(f"--resume: the run in {run_dir} was made with other inputs or "
                             f"settings ({details}); start a new --out")
        return store

    def done(self) -> dict[int, dict[str, Any]]:
        """Rows already evaluated, by row number; UsageError for a row that is not as it
        was written."""
        try:
            stored = self._connection.execute(
                "SELECT row, image, data, data_sha256 FROM rows ORDER BY row").fetchall()
        except sqlite3.Error as error:
            raise self._read_error(error) from None
        rows = {}
        for row, image, data, digest in stored:
            parsed = None
            if isinstance(data, str) and digest == _sha256(data):
                try:
                    parsed = json.loads(data)
                except ValueError:
                    parsed = None
            if not (isinstance(parsed, dict) and parsed.get("row") == row
                    and parsed.get("image") == image):
                raise UsageError(f"--resume: {self.path}: row {row} is not as fairness-eval "
                                 "wrote it (edited?); start a new --out")
            rows[row] = parsed
        return rows

    def count(self) -> int:
        """Rows stored so far, those not yet committed included (close() commits them)."""
        return self._connection.execute("SELECT COUNT(*) FROM rows").fetchone()[0]

    def add(self, row: dict[str, Any]) -> None:
        data = json.dumps(row)
        try:
            self._connection.execute(
                "INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?)",
                (row["row"], row["image"], row.get("content_sha256"), data, _sha256(data)),
            )
        except sqlite3.Error as error:
            raise self._write_error(error) from None
        self._pending += 1
        now = time.monotonic()
        if self._pending >= COMMIT_EVERY_ROWS or now - self._last_commit >= COMMIT_EVERY_SECONDS:
            self.commit()

    def commit(self) -> None:
        try:
            self._connection.commit()
        except sqlite3.Error as error:
            raise self._write_error(error) from None
        self._pending = 0
        self._last_commit = time.monotonic()

    def close(self) -> None:
        try:
            self.commit()
        finally:
            self._connection.close()

    def _write_error(self, error: sqlite3.Error) -> UsageError:
        # A full disk surfaces as sqlite3.OperationalError("database or disk is full").
        return UsageError(f"cannot write {self.path}: {error}")

    def _read_error(self, error: sqlite3.Error) -> UsageError:
        return UsageError(f"--resume: {self.path}: not a usable progress store ({error}); "
                          "start a new --out")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
