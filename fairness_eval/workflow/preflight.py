"""Checks a command makes before it starts work: an option's value by its one rule, options
that would only fail at the end, user files too large to read, and the run folder's lock
while a command writes into it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..config.field_rules import FIELD_RULES
from ..config.settings import Settings
from ..errors import UsageError


def checked(field: str, value: Any) -> Any:
    """A value checked and converted by the one rule of its setting (config/rules.py)."""
    option, rule = FIELD_RULES[field]
    return rule(value, option)


def check_report_options(settings: Settings) -> None:
    """Refuse report options that would only fail after the whole evaluation."""
    if settings.examples and not settings.save_masks:
        raise UsageError(f"--examples {settings.examples} needs --save-masks (the overlays "
                         "draw the saved predicted masks)")
    if settings.card is not None and settings.formats:
        from ..report import load_card_text

        check_card_file(settings.card)
        load_card_text(None, settings.card)


def check_out_folder(out: Path, settings: Settings, dataset: Any) -> None:
    """Refuse a run folder that the run would refuse only after loading the model: a file
    in its place, a non-empty one without --overwrite or --resume, one inside the dataset,
    or one under a folder this user cannot write. Nothing is written; the run checks it
    again, under its lock, when it prepares the folder."""
    import os

    from ..data.video import VideoDataset
    from ..evaluation.clip_rows import VIDEO_RUN_FILES
    from ..evaluation.run_dir import RUN_FILES, check_output_folder
    from ..results.names import CONDITIONS_FILE

    # the files the run will write there, as it names them when it prepares the folder
    writes = (VIDEO_RUN_FILES if isinstance(dataset, VideoDataset)
              else RUN_FILES + ((CONDITIONS_FILE,) if settings.conditions else ()))
    check_output_folder(out, settings.overwrite, settings.resume, dataset=dataset,
                        writes=writes)
    parent = out
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent
    if parent.is_dir() and not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"--out: cannot write to {out} ({parent} is not writable)")


def check_card_file(card: Path | None) -> None:
    """A --card that is a device or far too large is refused before it is read whole."""
    if card is not None:
        from ..config.rules import MAX_CARD_BYTES
        from ..userfiles import check_user_file

        check_user_file(card, MAX_CARD_BYTES, "--card")


def check_results_file(run_dir: Path | str) -> None:
    """A results.json that is a device or far too large is refused before it is read whole."""
    from ..config.rules import MAX_RESULTS_BYTES
    from ..results.names import RESULTS_FILE
    from ..userfiles import check_user_file

    path = Path(run_dir)
    check_user_file(path / RESULTS_FILE if path.is_dir() else path, MAX_RESULTS_BYTES,
                    RESULTS_FILE)


@contextmanager
def locked(folder: Path | str, option: str) -> Iterator[None]:
    """Hold a run folder's lock while a command writes into it, so that it never writes
    beside a `run` still writing there (refused in one line, as a second run is). A folder
    with neither results.json nor a lock file (compare --out elsewhere) is no run folder:
    not locked."""
    from ..evaluation.run_dir import LOCK_FILE, lock_run_dir
    from ..results.names import RESULTS_FILE

    folder = Path(folder)
    folder = folder.parent if folder.is_file() else folder  # a results.json path
    if not ((folder / RESULTS_FILE).is_file() or (folder / LOCK_FILE).is_file()):
        yield
        return
    lock = lock_run_dir(folder, option)
    try:
        yield
    finally:
        lock.release()
