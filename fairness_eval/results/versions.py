"""The versions of everything that can change a number, recorded in results.json.

Kept apart from document.py (which needs pandas) so that the resume key and the Dask
workers' version check read them without importing pandas or scipy: a run then forks its
workers before that stack is loaded. Package versions are read from their
installed metadata, not by importing the package.
"""

from __future__ import annotations

import platform
from importlib import metadata

from .. import __version__


def versions() -> dict[str, str]:
    """Versions of everything that can change a number."""
    import cv2  # the workers' decoder: already imported wherever a number is computed
    import numpy as np

    found = {"fairness_eval": __version__, "python": platform.python_version(),
             "numpy": np.__version__, "opencv": cv2.__version__}
    for package, key in (("pandas", "pandas"), ("ai-edge-litert", "litert"), ("scipy", "scipy")):
        try:
            found[key] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[key] = "not installed"
    return found


__all__ = ["versions"]
