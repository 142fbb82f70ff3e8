"""A results document as pandas tables, for a notebook: one row per group.

`by_group(document, attribute)` is one attribute's groups, indexed by group label (the
index named after the attribute, as `DataFrame.groupby` and Fairlearn's `MetricFrame` name
theirs); `to_frame(document)` stacks every attribute's, long form, with `attribute` and
`group` columns. Both only read the typed document: every number is results.json's.
`load(path)` reads a run folder's results.json (or the file itself) through the checked
reader. pandas is imported when a table is built, never when the contract is.

Columns, in order (intervals split into `_low` and `_high`; a missing number is NaN):
n, value, ci_low, ci_high, deviation, deviation_ci_low, deviation_ci_high, verdict_a,
verdict_b (the statistical verdicts, which the gate reads by default), point_verdict_a,
point_verdict_b (the card's point-estimate verdicts), gated, small_group, not_annotated,
mean_iou, pooled_iou, z, note.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .assessment import GroupResult, Interval
from .names import CRITERIA

if TYPE_CHECKING:
    import pandas as pd

    from .schema import ResultsDocument

COLUMNS = ("n", "value", "ci_low", "ci_high", "deviation", "deviation_ci_low",
           "deviation_ci_high", *(f"verdict_{c}" for c in CRITERIA),
           *(f"point_verdict_{c}" for c in CRITERIA), "gated", "small_group",
           "not_annotated", "mean_iou", "pooled_iou", "z", "note")
_NUMBERS = ("value", "ci_low", "ci_high", "deviation", "deviation_ci_low",
            "deviation_ci_high", "mean_iou", "pooled_iou", "z")


def load(path: Path | str) -> ResultsDocument:
    """The results document of a run folder, or of a results.json path (checked)."""
    from .document import read_results

    return read_results(path)


def _ends(interval: Interval | None) -> tuple[float | None, float | None]:
    return (None, None) if interval is None else (interval[0], interval[1])


def _row(group: GroupResult) -> dict[str, Any]:
    ci_low, ci_high = _ends(group.ci)
    deviation_low, deviation_high = _ends(group.deviation_ci)
    return {
        "n": group.n, "value": group.value, "ci_low": ci_low, "ci_high": ci_high,
        "deviation": group.deviation, "deviation_ci_low": deviation_low,
        "deviation_ci_high": deviation_high,
        **{f"verdict_{c}": group.verdict(c).statistical for c in CRITERIA},
        **{f"point_verdict_{c}": group.verdict(c).point for c in CRITERIA},
        "gated": group.gated, "small_group": group.small_group,
        "not_annotated": group.not_annotated, "mean_iou": group.mean_iou,
        "pooled_iou": group.pooled_iou, "z": group.z, "note": group.note,
    }


def _frame(rows: list[dict[str, Any]], leading: tuple[str, ...]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=[*leading, *COLUMNS])
    frame["n"] = frame["n"].astype("Int64")  # a published table may give only shares
    for column in _NUMBERS:
        frame[column] = frame[column].astype(float)
    for column in ("gated", "small_group", "not_annotated"):
        frame[column] = frame[column].astype(bool)
    return frame


def attribute_names(document: ResultsDocument) -> list[str]:
    """The document's attributes and intersections, in its order."""
    return list(document.attributes)


def by_group(document: ResultsDocument, attribute: str | None = None) -> pd.DataFrame:
    """One attribute's groups, one row each, indexed by group label. `attribute` may be
    left out when the document assesses one attribute only."""
    names = attribute_names(document)
    if attribute is None:
        if len(names) != 1:
            raise UsageError(f"by_group: name the attribute, one of {', '.join(names)}"
                             if names else "by_group: the results assess no attribute")
        attribute = names[0]
    if attribute not in document.attributes:
        raise UsageError(f"by_group: {attribute!r} is not an assessed attribute "
                         f"(assessed: {', '.join(names) or 'none'})")
    groups = document.attributes[attribute].groups
    frame = _frame([_row(g) for g in groups.values()], ())
    frame.index = list(groups)
    frame.index.name = attribute
    return frame


def to_frame(document: ResultsDocument) -> pd.DataFrame:
    """Every attribute's groups, long form: `attribute`, `group`, then by_group's columns."""
    rows = [{"attribute": name, "group": label, **_row(group)}
            for name, block in document.attributes.items()
            for label, group in block.groups.items()]
    return _frame(rows, ("attribute", "group"))


__all__ = ["COLUMNS", "attribute_names", "by_group", "load", "to_frame"]
