"""The statistics stage's named choices, importable without scipy or pandas.

The settings (config/rules.py) check options against these names when the command line is
parsed, long before any statistic is computed; keeping them here means that parsing a
command does not import scipy and pandas (about 0.6 s of CPU), so `run` forks its workers
first and the statistics stack is imported while they evaluate. The modules that use
them (bootstrap.py, clusters.py) import them from here: one definition each.
"""

from __future__ import annotations

from ..metrics.catalogue import CLIP_METRICS as CATALOGUE_CLIP_METRICS
from ..metrics.catalogue import METRIC_NAMES

STATISTICS = ("mean", "pooled")
CI_METHODS = ("bca", "percentile")
REFERENCES = ("overall", "group-mean")
# What --metric may judge, and what a clip's mean can summarise: the metric catalogue's
# names (metrics/catalogue.py, importable with numpy alone).
METRICS = METRIC_NAMES
CLIP_METRICS = tuple(metric.name for metric in CATALOGUE_CLIP_METRICS)
# Family-wise control of the gate's statistical verdicts across a run's checks.
FAMILYWISE = ("holm", "none")

__all__ = ["CI_METHODS", "CLIP_METRICS", "FAMILYWISE", "METRICS", "REFERENCES", "STATISTICS"]
