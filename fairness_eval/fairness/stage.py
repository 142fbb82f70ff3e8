"""The fairness stage's entry point: the per-image table in, the statistics blocks out.

`compute_statistics` takes the evaluated rows (a run's per_image table, or a video run's
per-clip table) and the names of the attributes to judge, never a dataset, and returns
what results.json records of the statistics: the overall figure and its interval, the
inter-annotator IoU, each attribute's groups, criteria and verdicts (assess.py), and with
--conditions or --adjust-for their blocks (conditions_assessment.py, adjusted.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..config.settings import Settings
from ..data.problem_lines import count_by_reason
from ..errors import UsageError
from .assess import evaluate
from .conditions_assessment import assess_plan
from .label_verdicts import add_second_opinion

if TYPE_CHECKING:
    import pandas as pd

    from ..data.votes import AttributeVotes


def compute_statistics(per_image: pd.DataFrame, attributes: Sequence[str], settings: Settings,
                       conditions: pd.DataFrame | None = None,
                       votes: Mapping[str, AttributeVotes] | None = None) -> dict[str, Any]:
    """The statistics stage over the evaluated rows: intervals, criteria, verdicts; with
    `conditions` (conditions.csv's table) or --adjust-for, their blocks too.

    `attributes`: the dataset's attributes; the derived ones (`settings.derive`) follow them.
    `votes`: the voted attributes' annotators' votes. Under `--labels resample` their
    labels are drawn from them in every resample; under any policy each gated group of
    theirs is also judged as the other policy judges it (`label_verdicts.py`).
    """
    evaluated = per_image[per_image["status"] == "ok"]
    if evaluated.empty:  # the statistics would only say "no image with status ok"
        reasons = ([r for r in per_image["reason"] if isinstance(r, str) and r]
                   if "reason" in per_image.columns else [])
        raise UsageError(f"no row could be scored: all {len(per_image):,} were skipped "
                         f"({count_by_reason(reasons) or 'no reason recorded'})")
    judged = [*attributes, *settings.derive]
    votes = {name: v for name, v in (votes or {}).items() if name in judged}
    drawn = votes if settings.labels == "resample" else None
    statistics = evaluate(evaluated, judged, settings.statistics, drawn=drawn)
    if votes:
        # Drawn labels cannot be crossed: judged under resample, the crossings of a voted
        # attribute are left out (the run itself, under resample, refuses them).
        uncrossed = replace(settings.statistics, intersect=tuple(
            crossed for crossed in settings.intersect if not set(crossed) & set(votes)))
        other = (evaluate(evaluated, judged, settings.statistics) if drawn else
                 evaluate(evaluated, judged, uncrossed, drawn=votes))
        add_second_opinion(statistics, other, list(votes), settings.labels)
    statistics.update(assess_plan(evaluated, conditions, judged, settings,
                                  statistics["inter_annotator_iou"]["value"]))
    return statistics
