"""Worker memory: keep freed heap memory in the process rather than give it back per image.

Each image allocates and frees a few large buffers (the decoded photo, its masks, the
resized probabilities). glibc serves blocks above its mmap threshold with fresh mappings
and trims the heap top when it frees, so a fresh worker pays page faults for every image
until its dynamic threshold has grown. Fixing both thresholds once keeps the freed pages
for the next image; memory stays flat because each image's buffers are the same sizes.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1  # glibc malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest allowed (HEAP_MAX_SIZE / 2 on 64-bit)
TRIM_THRESHOLD = 128 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Set glibc's malloc thresholds for this process; False where there is no glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


__all__ = ["keep_freed_memory"]
