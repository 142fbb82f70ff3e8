"""What Ctrl-C and SIGTERM do to a command: the first stops it cleanly, a second at once.

The command line installs `on_stop_signals` before it does anything else. The first SIGINT
(Ctrl-C) or SIGTERM (a cancelled CI job, `kill`) raises KeyboardInterrupt in the main
thread, SIGTERM as its subclass `Terminated`, so every `with` and `finally` on the way out
runs: the executor stops its workers, the progress store commits the rows already
evaluated (`--resume` goes on from them), and the command exits with `exit_code`, the
shells' 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM. A second signal while
that cleanup runs exits at once (`os._exit`), with the first signal's code: the progress
store is a write-ahead-logged SQLite database that a hard stop leaves whole, and the
workers die with this process (evaluation/lifetime.py).

Library callers keep Python's own behaviour (KeyboardInterrupt on Ctrl-C); the executors
clean up on it the same way.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

# The first stop signal this process received, if any.
_received: list[int] = []


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as Ctrl-C's KeyboardInterrupt is, so the same cleanup runs."""


def on_stop_signals() -> bool:
    """Handle SIGINT and SIGTERM as described above; False outside the main thread, where
    Python does not allow handlers (the process then keeps its defaults)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    _received.clear()
    for number in STOP_SIGNALS:
        signal.signal(number, _on_stop_signal)
    return True


def received() -> int | None:
    """The first stop signal received since `on_stop_signals`, or None."""
    return _received[0] if _received else None


def exit_code(number: int) -> int:
    """The exit status a shell reports for a process ended by signal `number`."""
    return 128 + number


def exiting() -> None:
    """The command has cleaned up and only exits now: later stop signals are ignored, since
    Python's shutdown puts back the default handlers and one would end the process by the
    signal instead of with `exit_code`."""
    if threading.current_thread() is threading.main_thread():
        for number in STOP_SIGNALS:
            signal.signal(number, signal.SIG_IGN)


def describe(number: int) -> str:
    """SIGINT (Ctrl-C) or SIGTERM, as the user knows it."""
    name = signal.Signals(number).name
    return f"{name} (Ctrl-C)" if number == signal.SIGINT else name


def _on_stop_signal(number: int, frame: FrameType | None) -> None:
    if _received:
        os.write(2, f"\nfairness-eval: {describe(number)} again: stopping now\n".encode())
        os._exit(exit_code(_received[0]))
    _received.append(number)
    raise Terminated() if number == signal.SIGTERM else KeyboardInterrupt()


__all__ = ["STOP_SIGNALS", "Terminated", "describe", "exit_code", "exiting",
           "on_stop_signals", "received"]
