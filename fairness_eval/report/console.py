"""The plain-text summary `fairness-eval run` prints on stdout, read from results.json.

Figures are labelled with what the run judged (`results.metric`: IoU, Boundary IoU or
flicker) and what n counts (`results.unit`: images, or clips for a video run). Each
attribute's verdict is the gate's (ci/gate.py) under the policy the run recorded, so the
console, the card and `run --gate` tell one story; what a report-only attribute itself
reports is shown beside "not gated".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..ci.gate import gate_report
from ..results.assessment import CriterionVerdicts, GroupResult
from ..results.names import CRITERIA
from ..results.schema import ResultsDocument, as_document
from ..terminal import one_line  # escaped before it is cut to the column's width
from .judged import judged_figure
from .label_section import differing_verdicts


def _pct(value: float | None) -> str:
    return "   --" if value is None else f"{100 * value:5.1f}"


def _interval(ci: tuple[float | None, float | None] | None) -> str:
    if not ci or ci[0] is None:
        return ""
    return f"[{_pct(ci[0]).strip()}, {_pct(ci[1]).strip()}]"


def _verdict(verdicts: CriterionVerdicts) -> str:
    """The statistical verdict, or the point verdict when only that could be formed."""
    statistical = verdicts.statistical or ""
    if statistical == "not evaluated" and verdicts.point not in (None, "not evaluated"):
        return f"{verdicts.point} (point)"
    return statistical


def _size(group: GroupResult) -> str:
    if group.n is not None:
        return f"{group.n:>6}"
    if group.share is not None:
        return f"{100 * group.share:5.1f}%"
    return f"{'?':>6}"


def summary_lines(document: ResultsDocument | Mapping[str, Any]) -> list[str]:
    """A short table per attribute: group, n, the judged figure in %, interval, verdicts."""
    document = as_document(document)
    overall, dataset = document.overall, document.evaluated_data
    figure = judged_figure(document)
    name = (dataset.name if dataset else None) or ""
    if document.is_table:
        lines = [f"{name}: published table",
                 f"average: {100 * overall.value:.2f}%" if overall.value is not None
                 else "average: not given"]
    else:
        evaluated = (dataset.evaluated if dataset else None) or 0
        rows = (dataset.rows if dataset else None) or 0
        skipped = len((dataset.skipped if dataset else None) or ())
        noun = figure.units if figure.unit == "clip" else "rows"
        lines = [f"{name}: {evaluated} of {rows} {noun} evaluated, {skipped} skipped"]
        if figure.metric != "iou":
            # The interval is the judged metric's (always a mean); IoU is shown beside it.
            lines.append(
                f"overall: n = {overall.n} {figure.units}, mean {figure.label} "
                f"{_pct(overall.value)}% {_interval(overall.ci)}, "
                f"mean IoU {_pct(overall.mean_iou)}%")
        else:
            # The interval belongs to the statistic the run was asked for.
            figures = {"mean IoU": overall.mean_iou, "pooled IoU": overall.pooled_iou}
            chosen = "pooled IoU" if document.bootstrap and \
                document.bootstrap.statistic == "pooled" else "mean IoU"
            other = "mean IoU" if chosen == "pooled IoU" else "pooled IoU"
            lines.append(
                f"overall: n = {overall.n}, {chosen} {_pct(figures[chosen])}% "
                f"{_interval(overall.ci)}, {other} {_pct(figures[other])}%")
    iaa = document.inter_annotator_iou
    if iaa.value is not None:
        lines.append(f"inter-annotator IoU: {_pct(iaa.value).strip()}% "
                     f"{_interval(iaa.ci)} ({iaa.source})")
    else:
        lines.append("inter-annotator IoU: not available, criterion (b) not evaluated")
    gate = gate_report(document)
    for attribute_name, attribute in document.attributes.items():
        lines.append("")
        outcome = gate.outcome(attribute_name)
        reports = (f"; reports {attribute.verdict}"
                   if attribute.verdict and attribute.verdict != outcome else "")
        lines.append(f"{attribute_name}  (verdict: {outcome}{reports})")
        spread = attribute.range
        if spread is not None and spread.value is not None:
            against = (f"; criterion (b) threshold {100 * spread.threshold:.2f} pt"
                       if spread.threshold is not None else "")
            lines.append(f"  range {100 * spread.value:.2f} pt ({spread.min_group} .. "
                         f"{spread.max_group}){against}")
        header = f"{figure.label} %"
        width = max(6, len(header))
        lines.append(f"  {'group':<24} {'n':>6} {header:>{width}}  {'interval':<16} "
                     f"{'(a)':<14} (b)")
        for group, figures in attribute.groups.items():
            marks = ["small"] if figures.small_group else []
            a, b = _verdict(figures.verdict("a")), _verdict(figures.verdict("b"))
            lines.append(
                f"  {one_line(str(group))[:24]:<24} {_size(figures)} "
                f"{_pct(figures.value):>{width}}  "
                f"{_interval(figures.ci):<16} {a:<14} {b}"
                + (f"  ({', '.join(marks)})" if marks else "")
            )
            reasons = dict.fromkeys(figures.verdict(c).reason for c in CRITERIA)
            lines.extend(f"    {one_line(reason)}" for reason in reasons if reason)
        for criterion, block in zip(CRITERIA, (attribute.criterion_a, attribute.criterion_b),
                                    strict=True):
            if block.note:
                lines.append(f"  ({criterion}) {block.note}")
        expected = [f"{one_line(str(group))} {figures.expected_images:.1f}"
                    for group, figures in attribute.groups.items()
                    if figures.expected_images is not None]
        if expected:
            lines.append("  labels drawn from the votes in every resample: n counts majority "
                         f"labels; images expected: {', '.join(expected)}")
        differing = differing_verdicts(document, attribute_name)
        if differing:
            other = attribute.groups[differing[0]["group"]].label_second_opinion[0]
            lines.append(f"  under labels by {other}: " + "; ".join(
                f"{one_line(d['group'])} ({d['criterion']}) {d['primary']['label']} → "
                f"{d['other']['label']}" for d in differing))
    from .conditions_section import summary_lines as condition_lines

    return lines + condition_lines(document)
