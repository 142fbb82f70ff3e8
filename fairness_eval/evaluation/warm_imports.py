"""Importing, while the workers evaluate, the modules the run will need once they are done.

The card's stack (matplotlib, Jinja, WeasyPrint) takes over a second of one core to
import; after the evaluation that second is spent with every other core idle, while
during it this process only waits for rows. `import_in_background` imports modules by
name in a daemon thread, so the reporters later find them loaded. It must start after the
worker processes are forked (a fork while another thread holds an import lock can leave
the child waiting forever), and only when the evaluation runs outside this process.
A module that fails to import here is left for its real import to report.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence


def import_in_background(modules: Sequence[str]) -> threading.Thread | None:
    """Start importing `modules` in a daemon thread; None when there is nothing to import."""
    if not modules:
        return None
    thread = threading.Thread(target=_import_all, args=(tuple(modules),),
                              name="fairness-eval-warm-imports", daemon=True)
    thread.start()
    return thread


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 (the real import, later, says what is wrong)
            continue


__all__ = ["import_in_background"]
