"""Reading a file a user hands fairness-eval whole (a results.json, a card file): capped.

Such a file is read into memory at once, so a device (/dev/zero), a pipe or a file far
larger than any real one would run until memory is gone: an internal error, or a hang in
CI. Each is refused first with one line naming the file and the limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import UsageError


def check_user_file(path: Path | str, limit: int, what: str) -> None:
    """UsageError unless `path` is a regular file of at most `limit` bytes.

    `what` names the file in the message ("--card", "results.json"). A missing file is
    left to the reader, whose message says what was expected there.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as error:
        raise UsageError(f"{what}: cannot read {path} ({error.strerror or error})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise UsageError(f"{what}: {path} is {kind}")
    if info.st_size > limit:
        raise UsageError(f"{what}: {path} is {info.st_size:,} bytes, more than the "
                         f"{limit:,} a file of this kind may have")


def read_user_file(path: Path | str, limit: int, what: str,
                   kind: str = "a file of this kind") -> bytes:
    """The bytes of a regular file of at most `limit` bytes; UsageError otherwise.

    The size is checked again while reading, since a file may grow after its check; `kind`
    names such files in that message ("a dataset table").
    """
    check_user_file(path, limit, what)
    try:
        with open(path, "rb") as handle:
            # Read what the file holds, not up to the limit: a buffer of the limit's size
            # is reserved at once, which a capped address space refuses.
            size = os.fstat(handle.fileno()).st_size
            data = handle.read(min(size, limit) + 1)
            if size < len(data) <= limit:  # it grew since: read on, within the limit
                data += handle.read(limit + 1 - len(data))
    except OSError as error:
        raise UsageError(f"{what}: cannot read {path} ({error.strerror or error})") from None
    if len(data) > limit:
        raise UsageError(f"{what}: {path} is more than the {limit:,} bytes {kind} may have")
    return data


__all__ = ["check_user_file", "read_user_file"]
