"""How the card writes a recorded value: percentages, points, intervals, counts, verdict badges.

Formatting only: each function turns one value of the results document into text (a dash
where the document holds nothing), so every report prints a figure the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..results.assessment import CriterionVerdicts, ValueRange
from ..results.schema import ResultsDocument

DASH = "—"

# Verdict -> (short label for tables, CSS class). The order is the severity order.
VERDICTS: dict[str, tuple[str, str]] = {
    "violation": ("violation", "bad"),
    "inconclusive": ("inconclusive", "warn"),
    "pass": ("pass", "ok"),
    "not evaluated": ("not evaluated", "na"),
    "not gated": ("not gated", "na"),
}
STATISTIC_LABELS = {
    "mean": "mean of per-image IoU",
    "pooled": "pooled IoU (sum of intersections / sum of unions)",
}
CI_METHOD_LABELS = {"bca": "bias-corrected and accelerated (BCa)", "percentile": "percentile"}
# The card's own criterion (a) factor, used where a document records none.
DEFAULT_SD_FACTOR = 3.0


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def pct(value: float | None, digits: int = 2) -> str:
    """A fraction as a percentage without the sign: 0.96571 -> '96.57'."""
    if not is_number(value):
        return DASH
    return f"{100 * value:.{digits}f}"


def points(value: float | None, digits: int = 2, signed: bool = False) -> str:
    """A difference of fractions in percentage points: 0.0252 -> '2.52 pt'."""
    if not is_number(value):
        return DASH
    text = f"{100 * value:+.{digits}f}" if signed else f"{100 * value:.{digits}f}"
    return text.replace("-", "−") + " pt"


def interval(ci: Sequence[float | None] | None, digits: int = 2, signed: bool = False) -> str:
    """An interval of fractions in percent (or signed points): [0.95, 0.97] -> '95.00 – 97.00'."""
    if not ci or len(ci) != 2 or not all(is_number(v) for v in ci):
        return DASH
    if signed:
        low, high = (f"{100 * v:+.{digits}f}".replace("-", "−") for v in ci)
    else:
        low, high = (f"{100 * v:.{digits}f}" for v in ci)
    return f"{low} – {high}"


def count(value: Any) -> str:
    """An integer with thousands separators, or a dash."""
    if not is_number(value):
        return DASH
    return f"{int(value):,}"


def share(value: float | None) -> str:
    """A group's share of the dataset: 0.0502 -> '5.02 %'."""
    return pct(value) + " %" if is_number(value) else DASH


def factor(value: float | None) -> str:
    """Criterion (a)'s factor: 3.0 -> '3', 2.5 -> '2.5'."""
    return f"{value:g}" if is_number(value) else DASH


def verdict(value: str | None) -> dict[str, str]:
    """A verdict as {'label', 'css', 'value'} for a badge."""
    label, css = VERDICTS.get(value or "", (value or DASH, "na"))
    return {"label": label, "css": css, "value": value or ""}


def worst_verdict(values: Sequence[str | None]) -> str | None:
    """The most severe of verdicts in VERDICTS order (used to headline attribute verdicts)."""
    order = list(VERDICTS)
    known = [v for v in values if v in VERDICTS]
    return min(known, key=order.index) if known else None


def confidence_label(results: ResultsDocument) -> str:
    """'95%' from the bootstrap confidence level, or '95%' when the document gives none."""
    return f"{100 * results.confidence:g}%"


def criterion_cell(verdicts: CriterionVerdicts | None) -> dict[str, Any]:
    """The verdict a table cell leads with, and the other form beside it.

    Leads with the statistical verdict; where there is none (a published table without
    intervals) it leads with the point verdict, marked as such.
    """
    verdicts = verdicts or CriterionVerdicts()
    statistical = verdict(verdicts.statistical)
    point = verdict(verdicts.point)
    if statistical["value"] in ("", "not evaluated") and point["value"] in ("pass", "violation"):
        main = dict(point, label=f"{point['label']} (point)")
        other = ""
    else:
        main = statistical
        other = "" if point["value"] == statistical["value"] else f"point: {point['label']}"
    return {"statistical": statistical, "point": point, "main": main, "other": other,
            "read": decided_interval(verdicts) if main is statistical else "",
            "why": verdicts.reason or ""}


def decided_interval(verdicts: CriterionVerdicts) -> str:
    """The interval a statistical verdict read, at its confidence, in pt: 'margin [97.5 % CI
    −7.07, +1.20] pt' (criterion a) or 'deviation [97.5 % CI −10.07, +3.54] pt' (b)."""
    if verdicts.ci is None or None in verdicts.ci or verdicts.confidence is None:
        return ""
    low, high = (100 * bound for bound in verdicts.ci)
    level = f"{100 * verdicts.confidence:.4g} %"
    return (f"{verdicts.statistic or 'interval'} [{level} CI {low:+.2f}, {high:+.2f}] pt"
            .replace("-", "−"))


def range_groups(value_range: ValueRange | None) -> str:
    """'Male − Female': the groups whose difference is the attribute's range."""
    if value_range is None or value_range.min_group is None or value_range.max_group is None:
        return ""
    return f"{value_range.max_group} − {value_range.min_group}"


def reference_label(kind: str | None, unit: str = "image") -> str:
    """What the reference is; `unit` is what n counts (results.unit: image or clip)."""
    return {
        "overall": (f"the {unit}-level mean over the {unit}s of the gated groups (the card's "
                    f"“average” when every {unit} is annotated in groups large enough to "
                    "judge)"),
        "group-mean": "the unweighted mean of the group means",
    }.get(kind or "", kind or DASH)


def tensor(shape: Sequence[int] | None, dtype: str | None, layout: str | None = None) -> str:
    """A model tensor: '1 × 256 × 256 × 3 float32, person probability'."""
    if not shape:
        return DASH
    text = " × ".join(str(s) for s in shape) + (f" {dtype}" if dtype else "")
    if layout == "probability":
        text += ", person probability"
    elif layout == "two_class_logits":
        text += ", background and person logits (softmax across channels)"
    elif layout:
        text += f", {layout}"
    return text


def criterion_a_definition(sd_factor: float | None, sd_ddof: int | None,
                           reference_kind: str | None = "group-mean") -> str:
    """The glossary's criterion (a), with the recorded factor and what it implies for k
    under the reference used (only the mean of the group means bounds it by k alone)."""
    chosen = sd_factor if is_number(sd_factor) and sd_factor > 0 else DEFAULT_SD_FACTOR
    ddof = 1 if sd_ddof == 1 else 0
    bound = "√(k − 1)" if ddof == 0 else "(k − 1)/√k"
    # The most groups k whose bound does not exceed the factor: k - 1 <= f^2 for ddof 0,
    # (k - 1)^2 <= f^2 k for ddof 1 (the larger root of k^2 - (2 + f^2) k + 1).
    square = chosen * chosen
    largest = square + 1 if ddof == 0 else ((2 + square) + math.sqrt((2 + square) ** 2 - 4)) / 2
    groups = math.floor(largest + 1e-9)
    text = (f"A group performs poorly if it lies more than {factor(chosen)} standard deviations "
            f"(of the group means) from the reference. It is judged on the interval of the "
            f"margin |deviation| − {factor(chosen)} × SD. With k groups no group can lie more "
            f"than {bound} SD from their mean")
    if reference_kind == "group-mean":
        return text + (f", so for k ≤ {groups} it cannot fire." if groups >= 2 else ".")
    return text + ("; the overall reference (the pooled images of the gated groups) can lie "
                   "further from a group when group sizes differ, so each attribute's "
                   "Attainability line says whether it can fire there.")
