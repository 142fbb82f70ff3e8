"""What the command line writes to a terminal or CI log: safe lines, workflow commands, progress.

Every line fairness-eval writes may carry a user's file name or attribute value. A CI
runner reads each line of a step's stdout and stderr for commands: GitHub Actions runs a
line that starts with `::` (after leading spaces) and, in its older form, one holding
`##[` anywhere. `one_line` is the one escaping function for such lines: a user string
can never start another line (no raw newline or control character survives), never
begin a line with `::`, and never carry `##[`. fairness-eval's own annotations are built
by `workflow_command`, which escapes their data and properties per the Actions toolkit.
`escape_library_output` routes the libraries' warnings and log records through `one_line`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

# What the escapes look like: the visible form Python gives the character (\x3a for ':').
_COMMAND_START = "::"
_LEGACY_COMMAND = "##["


def _escape(character: str) -> str:
    return f"\\x{ord(character):02x}"


def one_line(text: str) -> str:
    """`text` as one inert line: control characters (newlines too) shown as escapes (\\n),
    a leading `::` and any `##[` escaped, so that no CI runner reads it as a command."""
    flat = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in str(text))
    flat = flat.replace(_LEGACY_COMMAND, "#" + _escape("#") + "[")
    indent = len(flat) - len(flat.lstrip(" "))
    if flat[indent:].startswith(_COMMAND_START):
        flat = flat[:indent] + _escape(":") + flat[indent + 1:]
    return flat


def safe_writer(write: Callable[[str], Any]) -> Callable[[str], None]:
    """`write` (print, click.echo, a log) made to pass each message through `one_line`.

    Each call writes one line: a message is never split at its newlines, since a newline
    inside a user string would otherwise start a line of the user's choosing.
    """
    if getattr(write, "_one_line", False):
        return write

    def safe(message: str = "") -> None:
        write(one_line(message))

    safe._one_line = True  # type: ignore[attr-defined]
    return safe


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as the Actions toolkit does (%, CR, LF)."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: the data escapes plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: str) -> str:
    """A GitHub Actions workflow command line, e.g. `::error title=...::message`.

    The message and properties are escaped per the toolkit; any other control character
    left in them is shown as its escape, so the command stays one line.
    """
    props = ",".join(f"{key}={one_line(escape_property(value))}"
                     for key, value in properties.items())
    head = f"::{command} {props}" if props else f"::{command}"
    return f"{head}::{one_line(escape_data(message))}"


class _OneLineFormatter(logging.Formatter):
    """A logging record as one inert line (`one_line`)."""

    def format(self, record: logging.LogRecord) -> str:
        return one_line(super().format(record))


def _show_warning(message: Warning | str, category: type[Warning], filename: str,
                  lineno: int, file: Any = None, line: str | None = None) -> None:
    stream = file or sys.stderr
    with contextlib.suppress(OSError, ValueError, AttributeError):  # stderr closed or gone
        stream.write(one_line(f"warning: {category.__name__}: {message}") + "\n")


def escape_library_output() -> None:
    """Messages of the libraries fairness-eval uses reach stderr as inert lines, as its own
    do: a Python warning (matplotlib's glyph warnings, numpy's) becomes one escaped line
    `warning: Category: message`, a logging record without a handler of its own likewise,
    and OpenCV logs errors only (its warnings repeat a file name, which the row's problem
    already reports, escaped). Forked workers inherit all three."""
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")  # read when cv2 is first imported
    warnings.showwarning = _show_warning
    last_resort = logging.StreamHandler()
    last_resort.setLevel(logging.WARNING)
    last_resort.setFormatter(_OneLineFormatter("%(name)s: %(levelname)s: %(message)s"))
    logging.lastResort = last_resort


class Progress:
    """Progress on stderr: a live bar on a terminal, a line every few seconds otherwise."""

    def __init__(self, stream: Any = None, interval: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.interval = interval
        self.start = time.monotonic()
        self.last = 0.0
        self.first_done: int | None = None

    def __call__(self, done: int, total: int, unit: str = "images", detail: str = "") -> None:
        """`done` of `total` units (images, or frames of a video run); `detail` is shown
        after the rate (a video run: "2/3 clips")."""
        now = time.monotonic()
        if self.first_done is None:
            self.first_done, self.start = done, now
            if not self.live and done < total:  # nothing to say about the rate yet
                self.last = now
                return
        if not self.live and now - self.last < self.interval and done < total:
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        rate = (done - self.first_done) / elapsed
        eta = (total - done) / rate if rate > 0 else float("nan")
        eta_text = f"{eta:5.0f}s" if eta == eta else "   --"
        short = "img" if unit == "images" else unit.rstrip("s")
        extra = f", {detail}" if detail else ""
        if self.live:
            width = 30
            filled = int(width * done / max(total, 1))
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {done}/{total} {rate:6.1f} {short}/s{extra} "
                              f"ETA {eta_text}")
            if done >= total:
                self.stream.write("\n")
        else:
            self.stream.write(f"{done}/{total} {unit}, {rate:.1f} {short}/s{extra}, "
                              f"ETA {eta_text}\n")
        self.stream.flush()
