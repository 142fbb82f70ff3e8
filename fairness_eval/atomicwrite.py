"""Writing and removing files in an output folder without ever following a link there.

Every output fairness-eval writes (results, tables, cards, ledgers, saved masks, degraded
images) is written beside its target as `<name>.partial` and renamed over it when
complete, so a crash, a full disk or a kill leaves either the old file or the new one,
never half of one. A failure is one line naming the file (UsageError, exit 2).

An output folder may come from elsewhere (a CI artifact, a shared drive) and hold links
planted in it. So below the folder the user named (`root`: reached however the user's
path says), every folder is opened with O_NOFOLLOW, relative to its parent's descriptor,
and a temporary file is created with O_CREAT | O_EXCL | O_NOFOLLOW: nothing is written
through a link. A link in place of an output is replaced by the new regular file (the
rename replaces the link itself, never its target). Removing works the same way: only a
regular file (or an empty folder) reached from `root` through real folders is removed,
so what is removed always lies inside `root`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from .errors import UsageError

PARTIAL_SUFFIX = ".partial"

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_FOLDER_FLAGS = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC
# Added to the flags of open(..., "wb"): a temporary file is always new and never a link.
_NEW_FILE_FLAGS = os.O_EXCL | _NOFOLLOW


def _parts(path: Path, root: Path) -> list[str]:
    """The names from `root` down to `path` (its last one the file's own name)."""
    try:
        relative = Path(path).relative_to(root)
    except ValueError:
        raise ValueError(f"{path} is not inside {root}") from None
    parts = list(relative.parts)
    if not parts or ".." in parts:
        raise ValueError(f"{path} is not a file inside {root}")
    return parts


def _open_folder(root: Path, names: Sequence[str], create: bool = False) -> int:
    """A descriptor of root/names..., each name opened without following a link (the
    caller closes it).

    `create`: make the missing folders on the way. OSError when a name is a link, not a
    folder, or (without `create`) missing.
    """
    fd = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        for name in names:
            if create:
                with suppress(FileExistsError):
                    os.mkdir(name, dir_fd=fd)
            child = os.open(name, _FOLDER_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextmanager
def _folder(root: Path, names: Sequence[str], create: bool = False) -> Iterator[int]:
    """`_open_folder`, closed on leaving."""
    fd = _open_folder(root, names, create)
    try:
        yield fd
    finally:
        os.close(fd)


def _why(error: OSError, root: Path, names: Sequence[str]) -> str:
    """The reason a folder could not be opened: a link found on the way, or the OS's word."""
    path = Path(root)
    for name in names:
        path = path / name
        if path.is_symlink():
            return f"{path} is a symbolic link (fairness-eval never writes through a link)"
    return str(error.strerror or error)


def write_atomically(path: Path, data: bytes, *, durable: bool = False,
                     root: Path | None = None) -> None:
    """Write `data` to `path` through `<path>.partial` and a rename, following no link.

    `root`: the folder the user chose (default: the file's own folder); the folders below
    it on the way to `path` must be real folders, not links. `durable`: flush the bytes to
    the disk before the rename, for the files a resumed or audited run relies on
    (results.json, per_image.csv, conditions.csv).
    """
    path = Path(path)
    base = path.parent if root is None else Path(root)
    parts = _parts(path, base)
    name, partial = parts[-1], parts[-1] + PARTIAL_SUFFIX
    try:
        with _folder(base, parts[:-1]) as folder:
            _write_in(folder, path, name, partial, data, durable)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {_why(error, base, parts[:-1])}") from None


def _write_in(folder: int, path: Path, name: str, partial: str, data: bytes,
              durable: bool) -> None:
    def opener(_: str, flags: int) -> int:
        return os.open(partial, flags | _NEW_FILE_FLAGS, 0o666, dir_fd=folder)

    try:
        try:
            handle = open(path.with_name(partial), "wb", opener=opener)  # noqa: SIM115
        except FileExistsError:
            # A leftover of a killed write, or a link planted there: removing the entry
            # never touches what a link points to.
            _unlink_entry(partial, folder)
            handle = open(path.with_name(partial), "wb", opener=opener)  # noqa: SIM115
        with handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(partial, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError:
        with suppress(OSError):
            os.unlink(partial, dir_fd=folder)
        raise


def _unlink_entry(name: str, folder: int) -> None:
    """Remove a file or link (never a folder) from `folder`."""
    if stat.S_ISDIR(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode):
        raise IsADirectoryError(21, f"{name} is a folder")
    os.unlink(name, dir_fd=folder)


def make_folders(path: Path, root: Path) -> None:
    """Create `path` and the folders on the way from `root`, none of them through a link."""
    try:
        with _folder(Path(root), _parts(path, root), create=True):
            pass
    except OSError as error:
        raise UsageError(f"cannot create {path}: "
                         f"{_why(error, Path(root), _parts(path, root))}") from None


def regular_file(path: Path, root: Path) -> bool:
    """Whether `path` is a regular file reached from `root` through real folders only."""
    try:
        parts = _parts(path, root)
        with _folder(Path(root), parts[:-1]) as folder:
            info = os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(info.st_mode)


def file_sha256(path: Path, root: Path) -> str | None:
    """The SHA-256 of a regular file reached from `root` without a link; None otherwise."""
    try:
        parts = _parts(path, root)
        with _folder(Path(root), parts[:-1]) as folder:
            fd = os.open(parts[-1], os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=folder)
            with os.fdopen(fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    return None
                digest = hashlib.sha256()
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    except (OSError, ValueError):
        return None
    return digest.hexdigest()


def remove_file(path: Path, root: Path, sha256: str | None = None) -> bool:
    """Remove `path` if it is a regular file reached from `root` through real folders
    (never a link, never a folder) and, with `sha256`, still holds those bytes.

    Returns whether it was removed; a missing file, a link on the way or in its place, or
    a changed file is kept. OSError only when removing it fails (permissions).
    """
    if sha256 is not None and file_sha256(path, root) != sha256:
        return False
    return _remove(path, root, stat.S_ISREG, os.unlink)


def remove_empty_folder(path: Path, root: Path) -> bool:
    """Remove `path` if it is an empty folder (not a link) reached from `root` without a
    link; returns whether it was removed (a folder holding anything stays)."""
    try:
        return _remove(path, root, stat.S_ISDIR, os.rmdir)
    except OSError as error:
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST):
            return False
        raise


def _remove(path: Path, root: Path, kind: Callable[[int], bool],
            remove: Callable[..., None]) -> bool:
    try:
        parts = _parts(path, root)
    except ValueError:
        return False
    try:
        folder = _open_folder(Path(root), parts[:-1])
    except OSError:
        return False  # a link or a file on the way, or gone: nothing of ours to remove
    try:
        try:
            info = os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return False
        if not kind(info.st_mode):
            return False
        remove(parts[-1], dir_fd=folder)
        return True
    finally:
        os.close(folder)


def open_no_follow(path: Path, flags: int, mode: int = 0o666) -> int:
    """os.open without following a link at `path` itself (ELOOP if it is one)."""
    return os.open(path, flags | _NOFOLLOW | _CLOEXEC, mode)


__all__ = ["PARTIAL_SUFFIX", "file_sha256", "make_folders", "open_no_follow", "regular_file",
           "remove_empty_folder", "remove_file", "write_atomically"]
