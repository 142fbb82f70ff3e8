"""The card's section "How sure are the labels?", as template values, and its summary lines.

`label_section` turns results.json's `label_agreement` block (a run given annotators'
votes) into the section's text: per voted attribute, Krippendorff's alpha with its interval
and level, how many annotators and images it rests on, each group's share of unanimous
images, every pair of annotators' agreement (the heatmap is label_charts.py's, this table
its text alternative) and, where the run also judged its groups with labels drawn from the
votes, the verdicts that differ from the primary ones. `markdown_lines` says the same in
one line per attribute for summary.md. Formatting only: nothing here computes a statistic.
"""

from __future__ import annotations

from typing import Any

from ..results.label_agreement import LabelAgreement
from ..results.names import CRITERIA
from ..results.schema import ResultsDocument
from .formatting import DASH, count, decided_interval, is_number, pct, verdict
from .text import markdown_text


def alpha_text(record: LabelAgreement) -> str:
    """'0.82' (Krippendorff's alpha to two places), or a dash where undefined."""
    return f"{record.alpha:.2f}" if is_number(record.alpha) else DASH


def alpha_interval(record: LabelAgreement) -> str:
    """'0.70 – 0.90', or a dash without an interval."""
    ci = record.ci
    if ci is None or not all(is_number(v) for v in ci):
        return DASH
    return f"{ci[0]:.2f} – {ci[1]:.2f}"


def _confidence(record: LabelAgreement) -> str:
    return f"{100 * record.confidence:g}%"


def differing_verdicts(results: ResultsDocument, name: str) -> list[dict[str, Any]]:
    """Each (group, criterion) whose statistical verdict under labels drawn from the votes
    differs from the primary one, in the attribute's group order."""
    block = results.attributes.get(name)
    if block is None:
        return []
    rows = []
    for group, figures in block.groups.items():
        drawn = figures.label_resample
        if drawn is None:
            continue
        for key in CRITERIA:
            primary = figures.verdict(key).statistical
            other = drawn.verdicts.get(key)
            if other is None or other.statistical == primary:
                continue
            rows.append({"group": group, "criterion": key,
                         "primary": verdict(primary), "resample": verdict(other.statistical),
                         "decided": decided_interval(other) or DASH})
    return rows


def _resampled(results: ResultsDocument, name: str) -> bool:
    block = results.attributes.get(name)
    return block is not None and any(g.label_resample is not None
                                     for g in block.groups.values())


def label_section(results: ResultsDocument) -> dict[str, Any] | None:
    """The section's values, or None when no attribute's labels came from votes."""
    records = results.label_agreement
    if not records:
        return None
    attributes = []
    for index, (name, record) in enumerate(records.items()):
        attributes.append({
            "name": name,
            "anchor": f"labels-{index + 1}",
            "alpha": alpha_text(record),
            "alpha_ci": alpha_interval(record),
            "confidence": _confidence(record),
            "level": record.level,
            "annotators": count(record.annotators) if record.annotators is not None
            else "not named (count columns)",
            "images": count(record.images),
            "policy": record.policy or "majority",
            "disputed": count(record.disputed) if record.disputed is not None else DASH,
            "skipped": count(record.skipped) if record.skipped else "",
            "bins": [{"bin": b, "values": ", ".join(values)}
                     for b, values in (record.bins or {}).items()],
            "unanimous": [{"group": group, "share": pct(value, 1) + " %"
                           if is_number(value) else DASH}
                          for group, value in record.unanimous_share.items()],
            "pairs": [{"first": c.first, "second": c.second, "images": count(c.images),
                       "agreement": pct(c.agreement, 1) + " %" if is_number(c.agreement)
                       else DASH}
                      for c in record.confusion],
            "note": record.note or "",
            "resampled": _resampled(results, name),
            "differing": differing_verdicts(results, name),
        })
    return {"attributes": attributes}


def markdown_lines(results: ResultsDocument) -> list[str]:
    """summary.md's lines: one per voted attribute, alpha, interval, level, annotators,
    images, unanimous shares, and the verdicts labels drawn from the votes change."""
    section = label_section(results)
    if section is None:
        return []
    lines = ["", "**How sure are the labels?** (annotators' votes; alpha: 1 is full "
                 "agreement, 0 what chance gives)", ""]
    for attr in section["attributes"]:
        shares = ", ".join(f"{markdown_text(u['group'])} {u['share']}"
                           for u in attr["unanimous"]) or DASH
        line = (f"- {markdown_text(attr['name'])}: Krippendorff's alpha {attr['alpha']} "
                f"({attr['confidence']} interval {attr['alpha_ci']}, {attr['level']}); "
                f"{attr['annotators']} annotators, {attr['images']} images with two votes or "
                f"more; unanimous: {shares}; labels by {attr['policy']}")
        if attr["resampled"]:
            changed = "; ".join(f"{markdown_text(d['group'])} ({d['criterion']}) "
                                f"{d['primary']['label']} → {d['resample']['label']}"
                                for d in attr["differing"])
            line += (f"; under labels drawn from the votes: {changed}" if changed
                     else "; labels drawn from the votes change no verdict")
        lines.append(line)
    return lines


__all__ = ["alpha_interval", "alpha_text", "differing_verdicts", "label_section",
           "markdown_lines"]
