"""Decoding an image with libjpeg's corruption warnings caught, not printed.

OpenCV leaves libjpeg's message handler as it is, so a JPEG whose entropy-coded data is
damaged (garbage bytes mid-stream, a bad Huffman code) still decodes, to an image with grey
or shifted blocks, and libjpeg prints a line such as "Corrupt JPEG data: 3551 extraneous
bytes before marker 0xd9" on the process's stderr: the row would be scored as if it were
the photo. `imdecode_checked` decodes a JPEG with file descriptor 2 pointed at a scratch
file and returns the corruption warnings it caught; any other text written there meanwhile
is passed on to stderr. Truncated files are refused earlier, from their header
(data/imageheader.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading

import cv2
import numpy as np

# libjpeg's warnings that mean the pixels are not the file's (jerror.h); its others (an
# unknown JFIF revision, an Adobe transform code) leave the pixels as they are.
_CORRUPTION = ("Corrupt JPEG data", "Premature end of JPEG file", "Invalid SOS parameters",
               "Inconsistent progression sequence")
_HARMLESS = ("bad ICC marker",)  # a colour profile libjpeg could not read: pixels intact
_JPEG_START = b"\xff\xd8"
_lock = threading.Lock()  # fd 2 is the process's: one capture at a time
_scratch: tuple[int, int] | None = None  # (pid, fd): a forked worker makes its own


def imdecode_checked(data: np.ndarray, flags: int) -> tuple[np.ndarray | None, list[str]]:
    """`cv2.imdecode(data, flags)` and, for a JPEG, libjpeg's corruption warnings."""
    if bytes(data[:2]) != _JPEG_START:
        return cv2.imdecode(data, flags), []
    with _lock:
        scratch = _scratch_fd()
        os.ftruncate(scratch, 0)
        os.lseek(scratch, 0, os.SEEK_SET)
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(scratch, 2)
            try:
                image = cv2.imdecode(data, flags)
            finally:
                os.dup2(saved, 2)
        finally:
            os.close(saved)
        size = os.lseek(scratch, 0, os.SEEK_END)
        text = os.pread(scratch, size, 0).decode("utf-8", "replace") if size else ""
    warnings, other = [], []
    for line in text.splitlines():
        corrupt = line.startswith(_CORRUPTION) and not any(h in line for h in _HARMLESS)
        (warnings if corrupt else other).append(line)
    if other:
        os.write(2, ("\n".join(other) + "\n").encode("utf-8", "replace"))
    return image, warnings


def _scratch_fd() -> int:
    global _scratch
    if _scratch is None or _scratch[0] != os.getpid():
        # A forked child shares its parent's open file (and its offset): it needs its own.
        with tempfile.TemporaryFile(prefix="fairness-eval-stderr-") as handle:
            _scratch = (os.getpid(), os.dup(handle.fileno()))
    return _scratch[1]


__all__ = ["imdecode_checked"]
