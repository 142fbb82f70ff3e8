"""The plain-text summary `fairness-eval run` prints on stdout, read from results.json."""

from __future__ import annotations

from typing import Any


def _pct(value: float | None) -> str:
    return "   --" if value is None else f"{100 * value:5.1f}"


def _interval(ci: list[float] | None) -> str:
    if not ci or ci[0] is None:
        return ""
    return f"[{_pct(ci[0]).strip()}, {_pct(ci[1]).strip()}]"


def _verdict(verdicts: dict[str, str]) -> str:
    """The statistical verdict, or the point verdict when only that could be formed."""
    statistical = verdicts.get("statistical", "")
    if statistical == "not evaluated" and verdicts.get("point") not in (None, "not evaluated"):
        return f"{verdicts['point']} (point)"
    return statistical


def summary_lines(document: dict[str, Any]) -> list[str]:
    """A short table per attribute: group, n, IoU %, interval and the verdicts."""
    lines = []
    overall = document.get("overall", {})
    dataset = document.get("dataset", {})
    lines.append(
        f"{dataset.get('name', '')}: {dataset.get('evaluated', 0)} of {dataset.get('rows', 0)} "
        f"rows evaluated, {len(dataset.get('skipped', []))} skipped"
    )
    if document.get("kind") == "table":
        lines[-1] = f"{dataset.get('name', '')}: published table"
    if document.get("kind") == "table":
        lines.append(f"average: {100 * overall['value']:.2f}%" if overall.get("value") is not None
                     else "average: not given")
    else:
        # The interval belongs to the statistic the run was asked for.
        if (document.get("bootstrap") or {}).get("statistic") == "pooled":
            chosen, other = ("pooled IoU", "pooled_iou"), ("mean IoU", "mean_iou")
        else:
            chosen, other = ("mean IoU", "mean_iou"), ("pooled IoU", "pooled_iou")
        lines.append(
            f"overall: n = {overall.get('n')}, {chosen[0]} {_pct(overall.get(chosen[1]))}% "
            f"{_interval(overall.get('ci'))}, {other[0]} {_pct(overall.get(other[1]))}%")
    iaa = document.get("inter_annotator_iou") or {}
    if iaa.get("value") is not None:
        lines.append(f"inter-annotator IoU: {_pct(iaa['value']).strip()}% "
                     f"{_interval(iaa.get('ci'))} ({iaa.get('source')})")
    else:
        lines.append("inter-annotator IoU: not available, criterion (b) not evaluated")
    for name, attribute in document.get("attributes", {}).items():
        lines.append("")
        lines.append(f"{name}  (verdict: {attribute.get('verdict', 'n/a')})")
        spread = attribute.get("range") or {}
        if spread.get("value") is not None:
            threshold = spread.get("threshold")
            against = (f"; criterion (b) threshold {100 * threshold:.2f} pt"
                       if threshold is not None else "")
            lines.append(f"  range {100 * spread['value']:.2f} pt ({spread.get('min_group')} .. "
                         f"{spread.get('max_group')}){against}")
        lines.append(f"  {'group':<24} {'n':>6} {'IoU %':>6}  {'interval':<16} {'(a)':<14} (b)")
        for group, figures in attribute.get("groups", {}).items():
            verdicts = figures.get("verdicts", {})
            marks = []
            if figures.get("small_group"):
                marks.append("small")
            a, b = _verdict(verdicts.get("a", {})), _verdict(verdicts.get("b", {}))
            if figures.get("n") is not None:
                size = f"{figures['n']:>6}"
            elif figures.get("share") is not None:
                size = f"{100 * figures['share']:5.1f}%"
            else:
                size = f"{'?':>6}"
            lines.append(
                f"  {str(group)[:24]:<24} {size} "
                f"{_pct(figures.get('value', figures.get('mean_iou')))}  "
                f"{_interval(figures.get('ci')):<16} {a:<14} {b}"
                + (f"  ({', '.join(marks)})" if marks else "")
            )
        for criterion in ("a", "b"):
            note = (attribute.get("criteria", {}).get(criterion) or {}).get("note")
            if note:
                lines.append(f"  ({criterion}) {note}")
    return lines
