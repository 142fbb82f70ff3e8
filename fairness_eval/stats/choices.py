"""The statistics stage's named choices, importable without numpy, scipy or pandas.

The settings (config/rules.py) check options against these names when the command line is
parsed, long before any statistic is computed; keeping them here means that parsing a
command does not import scipy and pandas (about 0.6 s of CPU), so `run` forks its workers
first and the statistics stack is imported while they evaluate. The modules that use
them (bootstrap.py, clusters.py) import them from here: one definition each.
"""

from __future__ import annotations

STATISTICS = ("mean", "pooled")
CI_METHODS = ("bca", "percentile")
REFERENCES = ("overall", "group-mean")
CLIP_METRICS = ("iou", "boundary_iou", "flicker")  # what a clip's mean can summarise
# Family-wise control of the gate's statistical verdicts across a run's checks.
FAMILYWISE = ("holm", "none")

__all__ = ["CI_METHODS", "CLIP_METRICS", "FAMILYWISE", "REFERENCES", "STATISTICS"]
