"""The card's section "How sure are the labels?", as template values, and its summary lines.

`label_section` turns results.json's `label_agreement` block (a run given annotators'
votes) into the section's text: per voted attribute, Krippendorff's alpha with its interval
and level, how many annotators and images it rests on, each group's share of unanimous
images, every pair of annotators' agreement (the heatmap is label_charts.py's, this table
its text alternative) and, where the run also judged its groups with labels drawn from the
votes, every gated group's verdicts under the run's label policy and under the other one
(resample beside majority or unanimous, majority beside resample), those that differ
marked. `markdown_lines` says the same in one line per attribute for summary.md.
Formatting only: nothing here computes a statistic.
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


def verdict_rows(results: ResultsDocument, name: str) -> list[dict[str, Any]]:
    """Each gated group judged under both label policies: its images and each criterion's
    verdict under each, the pairs that differ marked, in the attribute's group order."""
    block = results.attributes.get(name)
    if block is None:
        return []
    rows = []
    for group, figures in block.groups.items():
        found = figures.label_second_opinion
        if found is None:
            continue
        other_policy, other = found
        criteria = []
        for key in CRITERIA:
            primary = figures.verdict(key).statistical
            theirs = other.verdicts.get(key)
            if primary is None and theirs is None:
                continue
            second = theirs.statistical if theirs is not None else None
            criteria.append({"criterion": key, "primary": verdict(primary),
                             "other": verdict(second), "differs": second != primary,
                             "decided": (decided_interval(theirs) if theirs else None) or DASH})
        images = figures.expected_images if figures.expected_images is not None else figures.n
        rows.append({"group": group, "other_policy": other_policy,
                     "images": _images(images), "other_images": _images(other.images),
                     "criteria": criteria})
    return rows


def _images(value: float | None) -> str:
    if not is_number(value):
        return DASH
    return count(int(value)) if float(value).is_integer() else f"{value:.1f}"


def differing_verdicts(results: ResultsDocument, name: str) -> list[dict[str, Any]]:
    """Each (group, criterion) whose statistical verdict under the other label policy
    differs from the primary one, in the attribute's group order."""
    return _differing(verdict_rows(results, name))


def _differing(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"group": row["group"], "criterion": c["criterion"], "primary": c["primary"],
             "other": c["other"], "decided": c["decided"]}
            for row in rows for c in row["criteria"] if c["differs"]]


def label_section(results: ResultsDocument) -> dict[str, Any] | None:
    """The section's values, or None when no attribute's labels came from votes."""
    records = results.label_agreement
    if not records:
        return None
    attributes = []
    for index, (name, record) in enumerate(records.items()):
        rows = verdict_rows(results, name)
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
            "other_policy": rows[0]["other_policy"] if rows else None,
            "verdicts": rows,
            "differing": _differing(rows),
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
        if attr["other_policy"]:
            other = attr["other_policy"]
            changed = "; ".join(f"{markdown_text(d['group'])} ({d['criterion']}) "
                                f"{d['primary']['label']} → {d['other']['label']}"
                                for d in attr["differing"])
            line += (f"; under labels by {other}: {changed}" if changed
                     else f"; labels by {other} change no verdict")
        lines.append(line)
    return lines


__all__ = ["alpha_interval", "alpha_text", "differing_verdicts", "label_section",
           "markdown_lines", "verdict_rows"]
