"""The plain-text summary `fairness-eval run` prints on stdout, read from results.json."""

from __future__ import annotations

from typing import Any


def _pct(value: float | None) -> str:
    return "   --" if value is None else f"{100 * value:5.1f}"


def _interval(ci: list[float] | None) -> str:
    if not ci or ci[0] is None:
        return ""
    return f"[{_pct(ci[0]).strip()}, {_pct(ci[1]).strip()}]"


def summary_lines(document: dict[str, Any]) -> list[str]:
    """A short table per attribute: group, n, IoU %, interval and the verdicts."""
    lines = []
    overall = document.get("overall", {})
    dataset = document.get("dataset", {})
    lines.append(
        f"{dataset.get('name', '')}: {dataset.get('evaluated', 0)} of {dataset.get('rows', 0)} "
        f"rows evaluated, {len(dataset.get('skipped', []))} skipped"
    )
    lines.append(f"overall: n = {overall.get('n')}, mean IoU {_pct(overall.get('mean_iou'))}% "
                 f"{_interval(overall.get('ci'))}, pooled IoU {_pct(overall.get('pooled_iou'))}%")
    iaa = document.get("inter_annotator_iou") or {}
    if iaa.get("value") is not None:
        lines.append(f"inter-annotator IoU: {_pct(iaa['value']).strip()}% "
                     f"{_interval(iaa.get('ci'))} ({iaa.get('source')})")
    else:
        lines.append("inter-annotator IoU: not available, criterion (b) not evaluated")
    for name, attribute in document.get("attributes", {}).items():
        lines.append("")
        lines.append(f"{name}  (verdict: {attribute.get('verdict', 'n/a')})")
        lines.append(f"  {'group':<24} {'n':>6} {'IoU %':>6}  {'interval':<16} {'(a)':<14} (b)")
        for group, figures in attribute.get("groups", {}).items():
            verdicts = figures.get("verdicts", {})
            marks = []
            if figures.get("small_group"):
                marks.append("small")
            a = verdicts.get("a", {}).get("statistical", "")
            b = verdicts.get("b", {}).get("statistical", "")
            lines.append(
                f"  {str(group)[:24]:<24} {figures.get('n', 0):>6} "
                f"{_pct(figures.get('value', figures.get('mean_iou')))}  "
                f"{_interval(figures.get('ci')):<16} {a:<14} {b}"
                + (f"  ({', '.join(marks)})" if marks else "")
            )
        note = attribute.get("criteria", {}).get("a", {}).get("note")
        if note:
            lines.append(f"  note: {note}")
    return lines
