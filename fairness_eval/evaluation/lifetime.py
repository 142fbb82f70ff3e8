"""A worker process's signals and lifetime: it ignores Ctrl-C and dies with its parent.

Ctrl-C on a terminal signals the whole process group, workers included; the parent alone
decides what an interrupt means (it stops the workers and keeps the finished rows), so a
worker ignores SIGINT rather than print its own KeyboardInterrupt. A worker must not
outlive its parent however the parent ends, SIGKILL included: on Linux the kernel sends
it SIGKILL when the parent goes (prctl PR_SET_PDEATHSIG); elsewhere, or where prctl is
refused, a daemon thread polls for the parent and exits the process once it is gone.

`blocked_stop_signals` keeps SIGINT and SIGTERM pending in the parent while it starts its
workers, so that a child never runs a moment with the parent's handlers: the child
inherits the mask, sets its own dispositions (`become_worker`), then unblocks them.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})
PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_POLL_S = 0.5  # the fallback watcher's period: how long a worker may outlive its parent


@contextlib.contextmanager
def blocked_stop_signals() -> Iterator[None]:
    """SIGINT and SIGTERM held pending in this thread for the block (where POSIX allows);
    one that arrived meanwhile is delivered when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def become_worker(parent: int, *, parent_death_signal: bool = True) -> str:
    """Make this process a worker of `parent` (its pid): SIGINT ignored, SIGTERM fatal, gone
    when the parent is. Returns how it follows the parent: "prctl" or "watcher"."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits the parent's Python-level SIGTERM handler, which would raise
    # KeyboardInterrupt here; the parent stops a worker with SIGTERM and expects it gone.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    if parent_death_signal and _ask_kernel_to_kill_with_parent():
        how = "prctl"
    else:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                         name="fairness-eval-parent-watch").start()
        how = "watcher"
    # The parent may have died before the kernel was asked to follow it.
    if _parent_gone(parent, None):
        os._exit(1)
    return how


def _ask_kernel_to_kill_with_parent() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return False
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                      ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0


def _parent_gone(parent: int, process: multiprocessing.process.BaseProcess | None) -> bool:
    if os.getppid() != parent:  # POSIX: an orphan is adopted by init or a subreaper
        return True
    # Windows keeps the old parent id; the multiprocessing parent's sentinel tells.
    return process is not None and not process.is_alive()


def _watch_parent(parent: int) -> None:
    process = multiprocessing.parent_process()
    while not _parent_gone(parent, process):
        time.sleep(PARENT_POLL_S)
    os._exit(1)


__all__ = ["PARENT_POLL_S", "STOP_SIGNALS", "become_worker", "blocked_stop_signals"]
