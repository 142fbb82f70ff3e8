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

import json
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from ..atomicwrite import (
    PARTIAL_SUFFIX,
    file_sha256,
    make_folders,
    open_no_follow,
    regular_file,
    remove_empty_folder,
    remove_file,
    write_atomically,
)
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


def default_run_dir(dataset_name: str, now: datetime, model: str | None = None) -> Path:
    """reports/<dataset>-<model>-<UTC timestamp>/, relative to the working directory: two
    models evaluated on one dataset get folders of their own. `model`: what predicted
    (a registered name, a spec's name, a file's stem, "predictions"), kept to letters,
    digits, '.', '_' and '-'; None: reports/<dataset>-<UTC timestamp>/."""
    stamp = now.strftime('%Y%m%dT%H%M%SZ')
    if not model:
        return Path("reports") / f"{dataset_name}-{stamp}"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._") or "model"
    return Path("reports") / f"{dataset_name}-{safe}-{stamp}"


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
    folder, `RUN_DIR` for those that write into one (report, check, compare). A lock file
    that is a link (or not a regular file) is refused: opening it would truncate whatever
    it points to.
    """
    earlier = _held.pop(_key(run_dir), None)
    if earlier is not None:
        earlier.release()
    path = run_dir / LOCK_FILE
    try:
        fd = open_no_follow(path, os.O_RDWR | os.O_CREAT)
    except OSError as error:
        if path.is_symlink():
            raise UsageError(f"{option}: {path} is a symbolic link; fairness-eval never writes "
                             "through a link: remove it") from None
        raise UsageError(f"{option}: cannot write to {run_dir} ({error.strerror or error})"
                         ) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UsageError(f"{option}: {path} is not a regular file: remove it")
    handle = os.fdopen(fd, "r+b")
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


@dataclass(frozen=True)
class _Plan:
    """What preparing a folder will do, settled before anything is written or removed."""

    files: tuple[str, ...]  # the run ledger's files after preparing
    folders: tuple[str, ...]  # its folders (fairness-eval's own) after preparing
    sha256: dict[str, str]  # recorded hashes kept (a resumed run's)
    create: tuple[str, ...]  # folders to make (those missing) after removing
    remove: bool  # --overwrite: remove the earlier run's outputs first


def prepare_run_dir(run_dir: Path, overwrite: bool, resume: bool,
                    resume_hint: bool = True, *, dataset: Dataset | None = None,
                    save_masks: bool = False, writes: Sequence[str] = RUN_FILES,
                    folders: Sequence[str] = (), later: Sequence[str] = (),
                    option: str = "--out", folder_option: str = "--save-masks"
                    ) -> RunFolderLock:
    """Create and lock the run folder; refuse to write into a non-empty one unless asked.

    Returns the lock, which the caller holds until its last output is written. With
    `overwrite` (and not `resume`) the outputs of an earlier run are removed first (only
    what the ledgers list). `dataset`: the folders holding its files may not be, or hold,
    the run folder. `writes`: the files this command writes, recorded in the run ledger
    before they are written (with `save_masks`, also masks/<image id>.png per sample of
    an image dataset); `folders`: the folders it creates inside (with `save_masks`,
    masks/); `later`: folders its workers make when they need them (recorded, not made
    now). A file of those names that fairness-eval did not write, or that changed
    since, is never replaced: the command is refused, before anything is written or
    removed. `option` names the folder in messages, `folder_option` its subfolders.
    `resume_hint` adds "--resume" to the refusal, for commands that can resume.
    """
    writes, folders = list(writes), list(folders)
    if save_masks:
        folders = [SAVED_MASKS_DIR, *folders]
        writes += [f"{SAVED_MASKS_DIR}/{s.image_id}.png"
                   for s in (dataset.samples if dataset is not None else ())]
    plan = check_output_folder(run_dir, overwrite, resume, resume_hint, dataset=dataset,
                               writes=writes, folders=folders, later=later, option=option,
                               folder_option=folder_option)
    created = not os.path.lexists(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{option}: cannot write to {run_dir} ({error.strerror or error})"
                         ) from None
    lock = lock_run_dir(run_dir, option)
    try:
        # Settled again under the lock: another run may have written meanwhile.
        plan = check_output_folder(run_dir, overwrite, resume, resume_hint, dataset=None,
                                   writes=writes, folders=folders, later=later,
                                   option=option, folder_option=folder_option)
        _apply(run_dir, plan)
    except BaseException:
        lock.release()
        if created:
            _undo_new_folder(run_dir)
        raise
    return lock


def check_output_folder(folder: Path, overwrite: bool, resume: bool, resume_hint: bool = True,
                        *, dataset: Dataset | None = None, writes: Sequence[str] = (),
                        folders: Sequence[str] = (), later: Sequence[str] = (),
                        option: str = "--out", folder_option: str | None = None) -> _Plan:
    """Everything that refuses an output folder, without writing: UsageError, one line.

    Refused: a file in place of the folder; the dataset's folder (or one inside it); a
    non-empty folder without `overwrite` or `resume`; a resumed folder that no run
    wrote; a subfolder of `folders` that is a link, or that fairness-eval did not create
    and holds files; a file of `writes` there that fairness-eval did not write or that
    changed since (it is never replaced).
    """
    folder_option = folder_option or option
    if os.path.lexists(folder) and not folder.is_dir():
        raise UsageError(f"{option}: {folder} exists and is not a folder")
    if dataset is not None:
        refuse_dataset_folders(folder, dataset, subfolders=[*folders, *later], option=option)
    exists = folder.is_dir()
    old = read_run_ledger(folder) if exists else _empty_ledger()
    contents = _contents(folder) if exists else []
    if contents and not (overwrite or resume):
        hint = " or --resume to continue an interrupted run" if resume_hint else ""
        raise UsageError(f"{option}: {folder} is not empty; pass --overwrite to replace its "
                         f"results{hint}")
    if resume and PROGRESS_FILE in writes and not os.path.lexists(folder / PROGRESS_FILE):
        if any(p.name not in (SAVED_MASKS_DIR, RUN_LEDGER_FILE) for p in contents):
            raise UsageError(f"--resume: {folder} holds no {PROGRESS_FILE} of an earlier run "
                             "(nothing to resume); pass --overwrite to replace its contents")
    elif resume and contents and not os.path.lexists(folder / RUN_LEDGER_FILE):
        raise UsageError(f"{option}: {folder} is not empty and no earlier run wrote it; "
                         "pass --overwrite (your files there stay) or choose another folder")
    ours = _ours(folder, old) if exists else set()
    remove = overwrite and not resume
    kept_folders = [f for f in old["folders"] if _real_folder(folder, f)]
    new = []
    for name in [*folders, *later]:
        path = folder / name
        if path.is_symlink() or (os.path.lexists(path) and not path.is_dir()):
            raise UsageError(f"{folder_option}: {path} is a symbolic link or not a folder; "
                             "fairness-eval never writes through a link: move it away")
        if not path.exists():
            new.append(name)
        elif name not in old["folders"] and name in folders and any(path.iterdir()):
            raise UsageError(f"{folder_option}: {path} exists and was not made by "
                             "fairness-eval; move it away (it is never overwritten)")
    for name in writes:
        path = folder / name
        if os.path.lexists(path) and name not in ours:
            raise UsageError(f"{option}: {path} exists and was not written by fairness-eval "
                             "(or was changed since); it is never replaced: move it away")
    files = [*(old["files"] if resume else ()), *writes]
    return _Plan(tuple(dict.fromkeys(files)), tuple(dict.fromkeys([*kept_folders, *new])),
                 # checked above; a resumed run writes these files again
                 {k: v for k, v in old["sha256"].items() if k not in writes} if resume else {},
                 tuple(folders), remove)


def _apply(folder: Path, plan: _Plan) -> None:
    if plan.remove:
        remove_outputs(folder)
    # A folder of the earlier run that --overwrite emptied and removed is made again below.
    kept = [f for f in plan.folders if _real_folder(folder, f) or f in plan.create
            or not os.path.lexists(folder / f)]
    _write_ledger(folder, {"files": list(plan.files), "folders": kept, "sha256": plan.sha256})
    for name in plan.create:
        make_folders(folder / name, folder)


def _undo_new_folder(folder: Path) -> None:
    """Remove what preparing a folder it created wrote there, when it was then refused."""
    try:
        for name in (RUN_LEDGER_FILE, LOCK_FILE):
            remove_file(folder / name, folder)
        folder.rmdir()
    except OSError:
        pass  # not empty: something else is there now, and it stays


def _contents(run_dir: Path) -> list[Path]:
    return [p for p in run_dir.iterdir() if p.name not in _BOOKKEEPING]


def _real_folder(root: Path, name: str) -> bool:
    path = root / name
    return path.is_dir() and not path.is_symlink()


def _ours(folder: Path, ledger: dict[str, Any]) -> set[str]:
    """The ledger's files that are still fairness-eval's: regular files reached without a
    link, whose resolved path lies inside `folder`, holding the bytes recorded (when a
    hash was recorded)."""
    inside = Path(os.path.realpath(folder))
    ours = set()
    for name in ledger["files"]:
        path = folder / name
        if not os.path.lexists(path):
            continue
        if not Path(os.path.realpath(path)).is_relative_to(inside):
            continue
        digest = ledger["sha256"].get(name)
        if (regular_file(path, folder) if digest is None
                else file_sha256(path, folder) == digest):
            ours.add(name)
    return ours


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


def refuse_dataset_folders(run_dir: Path, dataset: Dataset, save_masks: bool = False, *,
                           subfolders: Sequence[str] = (), option: str = "--out") -> None:
    """UsageError when the output folder (or a subfolder it writes, e.g. its saved masks)
    would be the dataset's folder."""
    inside, equal = dataset_folders(dataset)
    out = Path(os.path.realpath(run_dir))
    names = list(subfolders) + ([SAVED_MASKS_DIR] if save_masks else [])
    targets = [out, *(out / name for name in dict.fromkeys(names))]
    for target in targets:
        for folder in inside:
            if target == folder or target.is_relative_to(folder):
                where = "the dataset folder" if target == folder else "inside the dataset folder"
                raise UsageError(f"{option}: {run_dir} is {where} {folder}; a run there could "
                                 "replace the dataset's files. Choose a folder outside it")
        if target in equal:
            shown = run_dir if target == out else run_dir / target.relative_to(out)
            raise UsageError(f"{option}: {shown} is a folder of the dataset {dataset.source}; "
                             "a run there could replace the dataset's files. Choose another "
                             "folder")


# --------------------------------------------------------------------------- ledgers


def _empty_ledger() -> dict[str, Any]:
    return {"files": [], "folders": [], "sha256": {}}


def read_run_ledger(run_dir: Path) -> dict[str, Any]:
    """The run ledger: {"files": [...], "folders": [...], "sha256": {name: hash}}, names
    relative to the folder; `sha256` holds the hash of each file written whole (results,
    tables) as it was written.

    A missing or unreadable ledger is empty: then nothing is known to be fairness-eval's.
    """
    try:
        data = json.loads((run_dir / RUN_LEDGER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    ledger = _empty_ledger()
    if isinstance(data, dict):
        for key in ("files", "folders"):
            names = data.get(key)
            if isinstance(names, list):
                ledger[key] = [n for n in names if isinstance(n, str) and _safe_name(n)]
        hashes = data.get("sha256")
        if isinstance(hashes, dict):
            ledger["sha256"] = {k: v for k, v in hashes.items()
                                if isinstance(k, str) and isinstance(v, str) and _safe_name(k)}
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


def remove_outputs(run_dir: Path) -> list[Path]:
    """Remove what earlier runs wrote, as the ledgers list it; returns what was removed.

    Only regular files are removed, reached from the run folder through real folders (so
    their resolved path lies inside it; never through a link): files of the run ledger
    (with any partial write of them; a file whose hash the ledger recorded only while it
    still holds those bytes), reports only while they still hold what fairness-eval wrote
    (an edited card stays), folders only when fairness-eval created them and they are
    empty. Nothing else is touched: a folder without a ledger keeps everything, and the
    new run replaces its own files as it writes them.
    """
    ledger = read_run_ledger(run_dir)
    inside = Path(os.path.realpath(run_dir))
    removed: list[Path] = []

    def remove(path: Path, digest: str | None = None) -> None:
        if Path(os.path.realpath(path)).is_relative_to(inside) and \
                remove_file(path, run_dir, digest):
            removed.append(path)

    try:
        for name in ledger["files"]:
            remove(run_dir / name, ledger["sha256"].get(name))
            remove(run_dir / (name + PARTIAL_SUFFIX))
        for name, digest in _report_ledger(run_dir).items():
            remove(run_dir / name, digest)
        for name in (RENDERED_REPORTS_FILE, RUN_LEDGER_FILE):
            remove(run_dir / name)
        for name in sorted(ledger["folders"], key=len, reverse=True):
            if remove_empty_folder(run_dir / name, run_dir):
                removed.append(run_dir / name)
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
    _write_ledger(run_dir, ledger)


def record_hashes(run_dir: Path, names: Iterable[str]) -> None:
    """Record in the run ledger the SHA-256 of files just written whole (results.json, the
    tables), so --overwrite keeps one edited since instead of removing it."""
    ledger = read_run_ledger(run_dir)
    for name in names:
        digest = file_sha256(run_dir / name, run_dir)
        if digest is not None and name in ledger["files"]:
            ledger["sha256"][name] = digest
    _write_ledger(run_dir, ledger)


def _write_ledger(run_dir: Path, ledger: dict[str, Any]) -> None:
    write_atomically(run_dir / RUN_LEDGER_FILE,
                     (json.dumps(ledger, indent=1) + "\n").encode("utf-8"))


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
