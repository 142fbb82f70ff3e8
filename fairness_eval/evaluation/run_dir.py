"""The run folder: where it goes, making it ready to write, its lock, and what --overwrite removes.

A run folder may hold files fairness-eval did not write (the user's notes, or, by mistake,
a dataset). So fairness-eval keeps a *run ledger* there (`.fairness-eval-run.json`): the
files and folders a run writes, recorded before it writes them. `--overwrite` removes
only what that ledger (and the reports' ledger, by SHA-256) lists, never a folder it did
not create. A run folder that is, or lies inside, the dataset's folder is refused
outright, since the dataset's masks are often the user's only copy.

While a run writes, it holds an exclusive lock on `.fairness-eval.lock` (fcntl.flock),
so a second run into the same folder is refused instead of mixing its outputs in.
`card` prepares its folder here too, without importing the pipeline.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from ..atomicwrite import PARTIAL_SUFFIX
from ..data.samples import Dataset
from ..errors import UsageError
from ..results.names import PER_IMAGE_FILE, PROGRESS_FILE, RENDERED_REPORTS_FILE, RESULTS_FILE
from .store import ProgressStore

try:  # POSIX; elsewhere runs go unlocked (see RunFolderLock)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

# The folder of predicted masks that `run --save-masks` writes into the run folder.
SAVED_MASKS_DIR = "masks"
RUN_LEDGER_FILE = ".fairness-eval-run.json"
LOCK_FILE = ".fairness-eval.lock"
# What an image run writes besides reports and saved masks (SQLite adds -wal and -shm).
RUN_FILES = (RESULTS_FILE, PER_IMAGE_FILE, PROGRESS_FILE, PROGRESS_FILE + "-wal",
             PROGRESS_FILE + "-shm")
# Files that do not make a folder "not empty": the lock is held while the folder is checked.
_BOOKKEEPING = (LOCK_FILE,)

# Locks this process holds, by folder: a call that failed and left its lock to the garbage
# collector (a notebook keeps the traceback) must not lock its own process out.
_held: dict[Path, RunFolderLock] = {}


def default_run_dir(dataset_name: str, now: datetime) -> Path:
    """reports/<dataset>-<UTC timestamp>/, relative to the working directory."""
    return Path("reports") / f"{dataset_name}-{now.strftime('%Y%m%dT%H%M%SZ')}"


# --------------------------------------------------------------------------- the lock


class RunFolderLock:
    """An exclusive lock on a run folder, held from preparing it until `release`.

    The lock file stays in the folder: removing it would let a third run lock a fresh
    file while the second still holds the old one. Where fcntl is missing (Windows) the
    folder is not locked.
    """

    def __init__(self, run_dir: Path, handle: IO[bytes] | None) -> None:
        self.run_dir = run_dir
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            if fcntl is not None:
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
        if _held.get(_key(self.run_dir)) is self:
            del _held[_key(self.run_dir)]

    @property
    def held(self) -> bool:
        return self._handle is not None

    def __enter__(self) -> RunFolderLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _key(run_dir: Path) -> Path:
    return Path(os.path.abspath(run_dir))


def lock_run_dir(run_dir: Path, option: str = "--out") -> RunFolderLock:
    """Lock an existing run folder for this run; UsageError when another run holds it.

    `option` names the folder in the message: `--out` for the commands that make a run
    folder, `RUN_DIR` for those that write into one (report, check, compare).
    """
    earlier = _held.pop(_key(run_dir), None)
    if earlier is not None:
        earlier.release()
    path = run_dir / LOCK_FILE
    try:
        handle = open(path, "a+b")  # noqa: SIM115 (held for the run's life)
    except OSError as error:
        raise UsageError(f"{option}: cannot write to {run_dir} ({error.strerror or error})"
                         ) from None
    if fcntl is None:  # pragma: no cover - Windows
        return RunFolderLock(run_dir, handle)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read(32).decode("ascii", "replace").strip()
        handle.close()
        who = f" (process {holder})" if holder.isdigit() else ""
        other = " or choose another --out" if option == "--out" else ""
        raise UsageError(f"{option}: {run_dir} is in use by another fairness-eval run{who}; "
                         f"wait for it to finish{other}") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()).encode())
    handle.flush()
    lock = RunFolderLock(run_dir, handle)
    _held[_key(run_dir)] = lock
    return lock


# --------------------------------------------------------------------------- preparing


def prepare_run_dir(run_dir: Path, overwrite: bool, resume: bool,
                    resume_hint: bool = True, *, dataset: Dataset | None = None,
                    save_masks: bool = False, writes: Sequence[str] = RUN_FILES
                    ) -> RunFolderLock:
    """Create and lock the run folder; refuse to write into a non-empty one unless asked.

    Returns the lock, which the caller holds until its last output is written. With
    `overwrite` (and not `resume`) the outputs of an earlier run are removed first (only
    what the ledgers list). `dataset`: the folders holding its files may not be, or hold,
    the run folder. `writes`: the files this command writes, recorded in the run ledger
    before they are written (with `save_masks`, also masks/<image id>.png per sample).
    `resume_hint` adds "--resume" to the refusal, for commands that can resume.
    """
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"--out: {run_dir} exists and is not a folder")
    if dataset is not None:
        refuse_dataset_folders(run_dir, dataset, save_masks)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out: cannot write to {run_dir} ({error.strerror or error})"
                         ) from None
    lock = lock_run_dir(run_dir)
    try:
        _prepare_locked(run_dir, overwrite, resume, resume_hint, dataset, save_masks, writes)
    except BaseException:
        lock.release()
        raise
    return lock


def _prepare_locked(run_dir: Path, overwrite: bool, resume: bool, resume_hint: bool,
                    dataset: Dataset | None, save_masks: bool, writes: Sequence[str]) -> None:
    if _contents(run_dir) and not (overwrite or resume):
        hint = " or --resume to continue an interrupted run" if resume_hint else ""
        raise UsageError(f"--out: {run_dir} is not empty; pass --overwrite to replace its "
                         f"results{hint}")
    if overwrite and not resume:
        remove_outputs(run_dir)
    ledger = read_run_ledger(run_dir) if resume else {"files": [], "folders": []}
    files = list(writes)
    if save_masks:
        masks = run_dir / SAVED_MASKS_DIR
        if masks.exists() and SAVED_MASKS_DIR not in ledger["folders"]:
            if not masks.is_dir() or any(masks.iterdir()):
                raise UsageError(f"--save-masks: {masks} exists and was not made by "
                                 "fairness-eval; move it away (it is never overwritten)")
        elif not masks.exists():
            ledger["folders"].append(SAVED_MASKS_DIR)
        files += [f"{SAVED_MASKS_DIR}/{s.image_id}.png"
                  for s in (dataset.samples if dataset is not None else ())]
    ledger["files"] = list(dict.fromkeys([*ledger["files"], *files]))
    try:
        _write_json(run_dir / RUN_LEDGER_FILE, ledger)
        if save_masks:
            (run_dir / SAVED_MASKS_DIR).mkdir(exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise UsageError(f"--out: cannot write to {run_dir} ({error.strerror or error})"
                         ) from None


def _contents(run_dir: Path) -> list[Path]:
    return [p for p in run_dir.iterdir() if p.name not in _BOOKKEEPING]


def dataset_folders(dataset: Dataset) -> tuple[set[Path], set[Path]]:
    """(folders a run folder may neither be nor lie inside, folders it may only not be).

    A dataset given as a folder is that whole folder. A manifest (or an annotation file)
    may list files anywhere: the run folder, and its saved-masks folder, may not be a
    folder holding them nor the manifest's own folder, where a run's files would sit
    beside (or replace) the dataset's; a run folder beside the manifest is fine.
    """
    def resolved(path: Path) -> Path:
        return Path(os.path.realpath(path))

    if Path(dataset.source).is_dir():
        return {resolved(dataset.root)}, set()
    parents = {Path(file).parent for sample in dataset.samples for file in sample.files()}
    return set(), {resolved(p) for p in parents} | {resolved(dataset.root)}


def refuse_dataset_folders(run_dir: Path, dataset: Dataset, save_masks: bool = False) -> None:
    """UsageError when the run folder (or its saved masks) would be the dataset's folder."""
    inside, equal = dataset_folders(dataset)
    out = Path(os.path.realpath(run_dir))
    targets = [out, out / SAVED_MASKS_DIR] if save_masks else [out]
    for target in targets:
        for folder in inside:
            if target == folder or target.is_relative_to(folder):
                where = "the dataset folder" if target == folder else "inside the dataset folder"
                raise UsageError(f"--out: {run_dir} is {where} {folder}; a run there could "
                                 "replace the dataset's files. Choose a folder outside it")
        if target in equal:
            raise UsageError(f"--out: {run_dir}{'' if target == out else '/' + SAVED_MASKS_DIR} "
                             f"is a folder of the dataset {dataset.source}; a run there could "
                             "replace the dataset's files. Choose another folder")


# --------------------------------------------------------------------------- ledgers


def read_run_ledger(run_dir: Path) -> dict[str, list[str]]:
    """The run ledger: {"files": [...], "folders": [...]}, names relative to the folder.

    A missing or unreadable ledger is empty: then nothing is known to be fairness-eval's.
    """
    try:
        data = json.loads((run_dir / RUN_LEDGER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    ledger: dict[str, list[str]] = {"files": [], "folders": []}
    if isinstance(data, dict):
        for key in ledger:
            names = data.get(key)
            if isinstance(names, list):
                ledger[key] = [n for n in names if isinstance(n, str) and _safe_name(n)]
    return ledger


def _safe_name(name: str) -> bool:
    """A name inside the folder: an edited ledger cannot point fairness-eval elsewhere."""
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


def _report_ledger(run_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((run_dir / RENDERED_REPORTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if _safe_name(str(k))}


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def remove_outputs(run_dir: Path) -> list[Path]:
    """Remove what earlier runs wrote, as the ledgers list it; returns what was removed.

    Files of the run ledger go (with any partial write of them), reports only while they
    still hold what fairness-eval wrote (an edited card stays), folders only when
    fairness-eval created them and they are empty. Nothing else is touched: a folder
    without a ledger keeps everything, and the new run replaces its own files as it
    writes them.
    """
    ledger = read_run_ledger(run_dir)
    removed: list[Path] = []
    try:
        for name in ledger["files"]:
            for path in (run_dir / name, run_dir / (name + PARTIAL_SUFFIX)):
                if path.is_file() or path.is_symlink():
                    path.unlink()
                    removed.append(path)
        for name, digest in _report_ledger(run_dir).items():
            path = run_dir / name
            if path.is_file() and _sha256(path) == digest:
                path.unlink()
                removed.append(path)
        for name in (RENDERED_REPORTS_FILE, RUN_LEDGER_FILE):
            (run_dir / name).unlink(missing_ok=True)
        for name in sorted(ledger["folders"], key=len, reverse=True):
            folder = run_dir / name
            if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
                folder.rmdir()
                removed.append(folder)
    except OSError as error:
        raise UsageError(f"--overwrite: cannot remove the earlier results in {run_dir} "
                         f"({error.strerror or error})") from None
    return removed


def record_outputs(run_dir: Path, names: Iterable[str], folders: Iterable[str] = ()) -> None:
    """Add files (and folders fairness-eval creates) to the run ledger before writing
    them, so --overwrite may remove them."""
    ledger = read_run_ledger(run_dir)
    ledger["files"] = list(dict.fromkeys([*ledger["files"], *names]))
    ledger["folders"] = list(dict.fromkeys([*ledger["folders"], *folders]))
    try:
        _write_json(run_dir / RUN_LEDGER_FILE, ledger)
    except OSError as error:
        raise UsageError(f"cannot write {run_dir / RUN_LEDGER_FILE} "
                         f"({error.strerror or error})") from None


def _write_json(path: Path, data: Any) -> None:
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    partial.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, path)


# --------------------------------------------------------------------------- progress


def open_progress_store(run_dir: Path, key: dict[str, Any], resume: bool) -> ProgressStore:
    """The progress store of the run: reopened (its key checked) with `resume`, else new.

    Resuming a folder that holds results but no progress store is refused: there is
    nothing to resume, and starting afresh would silently replace those results.
    """
    if resume and (run_dir / PROGRESS_FILE).exists():
        return ProgressStore.reopen(run_dir, key)
    ours = {SAVED_MASKS_DIR, RUN_LEDGER_FILE, *_BOOKKEEPING}
    if resume and any(p.name not in ours for p in run_dir.iterdir()):
        raise UsageError(f"--resume: {run_dir} holds no {PROGRESS_FILE} of an earlier run "
                         "(nothing to resume); pass --overwrite to replace its contents")
    return ProgressStore.create(run_dir, key)
