"""Reading the tables a dataset is described by: CSV and JSON Lines files, and their cells.

Manifests and attributes.csv are user-written files, so every parse error becomes a
UsageError naming the file and the row or line, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..errors import UsageError


def cell_text(value: object) -> str | None:
    """A manifest cell as text; empty cells (and JSON null) are None."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def read_table_file(path: Path, what: str = "--dataset") -> bytes:
    """The bytes of a dataset's table (manifest, attributes.csv, COCO JSON); UsageError
    for a folder, a device or pipe, or a file above MAX_TABLE_BYTES, naming it."""
    from ..config.rules import MAX_TABLE_BYTES
    from ..userfiles import read_user_file

    return read_user_file(path, MAX_TABLE_BYTES, what, kind="a dataset table")


def decode_text(path: Path, raw: bytes) -> str:
    """The UTF-8 text of a user file (a byte-order mark is dropped)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{path}: not UTF-8 text (invalid byte at offset {error.start}); save it as UTF-8"
        ) from None


def parse_csv(path: Path, raw: bytes) -> list[dict[str, str]]:
    """The data rows of a CSV file as header -> cell; blank lines are skipped."""
    text = decode_text(path, raw)
    if not text.strip():
        raise UsageError(f"{path}: empty file (expected a header row)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as error:
        raise UsageError(f"{path}: malformed CSV ({error})") from None
    header = [h.strip() for h in rows[0]]
    if "" in header:
        raise UsageError(f"{path}: empty column name in the header row")
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise UsageError(f"{path}: duplicate column(s) {', '.join(duplicates)}")
    records = []
    for number, cells in enumerate(rows[1:], start=1):
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(header):
            raise UsageError(
                f"{path}, row {number}: {len(cells)} cells where the header has {len(header)}"
            )
        records.append(dict(zip(header, cells, strict=True)))
    return records


class _NotAValue(ValueError):
    pass


def _refuse_constant(name: str) -> float:
    raise _NotAValue(name)


def _not_scalar(record: dict[str, object]) -> str | None:
    """Why a record's values cannot be cells (an object, a list), or None."""
    for key, value in record.items():
        if isinstance(value, dict | list):
            kind = "an object" if isinstance(value, dict) else "a list"
            return (f"'{key}' is {kind}; each value must be text, a number, true/false or "
                    "null")
    return None


def parse_jsonl(path: Path, raw: bytes) -> list[dict[str, object]]:
    """The objects of a JSON Lines file, one per non-blank line.

    Every value must be a scalar: text, a finite number, true/false or null. An object or
    a list would otherwise become a group name such as "{'a': 1}", and NaN (which Python's
    JSON reader accepts, though JSON has no such value) an empty cell, without a word.
    """
    text = decode_text(path, raw)
    if not text.strip():
        raise UsageError(f"{path}: empty file (expected one JSON object per line)")
    records = []
    # JSON Lines separates records by "\n" only: str.splitlines() would also split at
    # U+2028 and other separators that JSON allows inside a string.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, parse_constant=_refuse_constant)
        except _NotAValue as error:
            raise UsageError(f"{path}, line {number}: {error} is not a JSON value (use null "
                             "for a missing value)") from None
        except json.JSONDecodeError as error:
            raise UsageError(f"{path}, line {number}: not JSON ({error.msg})") from None
        except ValueError as error:  # e.g. an integer longer than Python converts
            raise UsageError(f"{path}, line {number}: not usable JSON ({error})") from None
        except RecursionError:
            raise UsageError(f"{path}, line {number}: not usable JSON (nested too "
                             "deeply)") from None
        if not isinstance(record, dict):
            raise UsageError(f"{path}, line {number}: expected a JSON object")
        nested = _not_scalar(record)
        if nested:
            raise UsageError(f"{path}, line {number}: {nested}")
        records.append(record)
    return records
