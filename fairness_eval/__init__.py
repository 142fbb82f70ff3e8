"""fairness-eval: evidence that a person-segmentation model works equally well for everyone.

Data flows one way: config -> dataset -> inference -> metrics -> stats -> fairness ->
results -> reporters. Each stage is a plain module usable from a notebook; the CLI in
`fairness_eval.cli` is a thin shell over them.

The front door for a notebook is `assess` (a per-image table in, each group's figures and
the gate's verdict out; `fairness_eval/api.py`), `evaluate` (a dataset in: `run`'s
evaluation into a run folder, then the same result with the per-image table) and
`ResultsDocument.load` (a finished run's results.json, with `by_group` and `to_frame`).
They are imported on first use, so that `import fairness_eval` (and the CLI's start-up)
stays free of pandas and scipy.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

# name -> the module that defines it, imported when the name is first read
_LAZY = {
    "assess": "fairness_eval.api",
    "Assessment": "fairness_eval.api",
    "evaluate": "fairness_eval.api",
    "ResultsDocument": "fairness_eval.results.schema",
}

__all__ = ["Assessment", "ResultsDocument", "__version__", "assess", "evaluate"]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fairness_eval' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later reads do not come back here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
