"""The card's capture-condition section and adjusted figures, as template values.

`conditions_section` turns results.json's `conditions` block into the section's text: what
each condition is, every image's IoU under each, and per attribute a table of each group's
degraded IoU, paired change from clean and disparate-degradation verdicts (the charts are
condition_charts.py's). `adjusted_figures` turns the `adjustment` block into the figures
the results table shows beside each group's raw one. Formatting only: nothing here
computes a statistic.
"""

from __future__ import annotations

from typing import Any

from ..results.conditions_record import ConditionsRecord
from ..results.schema import ResultsDocument
from .formatting import DASH, count, interval, pct, points, verdict

# What each condition does, in the card's words (conditions/perturb.py defines them exactly).
DEFINITIONS = {
    "dark": "sRGB to linear light (IEC 61966-2-1), times f, back to sRGB",
    "noise": "additive Gaussian noise of SD sigma on the 0-255 scale, seeded by the run's "
             "seed and the image id",
    "blur": "horizontal motion blur: a 1 × L box, L = max(3, 2·round(r·width/2) + 1)",
    "jpeg": "re-encoded by OpenCV's JPEG encoder at quality q",
    "occluder": "a grey rectangle of a fraction a of the person's bounding box, at a seeded "
                "position inside it; the person under it becomes background in the truth",
}


def conditions_section(results: ResultsDocument) -> dict[str, Any] | None:
    """The section's values, or None when the run evaluated no condition."""
    record: ConditionsRecord | None = results.conditions
    if record is None:
        return None
    parameters = {d.condition: d.parameter for d in record.definitions}

    def level(condition: str, severity: float) -> str:
        return f"{parameters.get(condition, 'severity')} = {severity:g}"

    attributes = []
    for index, (name, block) in enumerate(record.attributes.items()):
        rows = []
        for item in block.rows:
            reference = item.reference
            worst = item.statistical if item.gated else ""
            rows.append({
                "condition": item.condition, "severity": level(item.condition, item.severity),
                "group": "reference pool" if reference else item.group,
                "n": count(item.n), "clean": pct(item.clean), "degraded": pct(item.degraded),
                "degraded_ci": interval(item.degraded_ci),
                "change": points(item.change, signed=True),
                "change_ci": interval(item.change_ci, signed=True),
                "excess": points(item.excess_drop, signed=True),
                "excess_ci": interval(item.excess_drop_ci, signed=True),
                # the reference pool is what groups are judged against, not judged itself
                "statistical": verdict(None if reference else item.statistical),
                "point": verdict(None if reference else item.point),
                "row_css": ("row-reference" if reference else
                            {"violation": "row-bad", "inconclusive": "row-warn"}.get(worst, "")),
                "gated": item.gated or reference,
            })
        attributes.append({
            "name": name, "anchor": f"conditions-{index + 1}",
            "verdict": verdict(block.verdict.get("statistical")),
            "point_verdict": verdict(block.verdict.get("point")),
            "reference_groups": ", ".join(block.reference_groups) or DASH,
            "evaluated": bool(block.rows),
            "rows": rows,
            "chart_tables": {c: _chart_table(block, c, parameters[c])
                             for c in record.conditions},
        })
    return {
        "names": record.conditions,
        "evaluations": record.evaluations_per_image,
        "images": count(record.images),
        "threshold": points(record.threshold),
        "gated": bool(results.settings.values.get("gate_on_conditions")),
        "definitions": [{"condition": d.condition, "parameter": d.parameter,
                         "severities": ", ".join(f"{s:g}" for s in d.severities),
                         "text": DEFINITIONS.get(d.condition, "")}
                        for d in record.definitions],
        "overall": [{"condition": r.condition, "severity": level(r.condition, r.severity),
                     "n": count(r.n), "clean": pct(r.clean), "degraded": pct(r.degraded),
                     "degraded_ci": interval(r.degraded_ci),
                     "change": points(r.change, signed=True),
                     "change_ci": interval(r.change_ci, signed=True)}
                    for r in record.overall],
        "attributes": attributes,
        "notes": list(record.notes),
    }


def _chart_table(block: Any, condition: str, parameter: str) -> list[dict[str, str]]:
    """A chart's text alternative: each group's clean and degraded IoU at each severity."""
    rows = []
    named = [(group, block.series(condition, group)) for group in block.groups]
    for group, series in [*named, ("reference pool", block.reference_series(condition))]:
        if series:
            rows.append({
                "group": group,
                "clean": pct(series[0].clean),
                "degraded": "; ".join(f"{parameter} = {item.severity:g}: {pct(item.degraded)} "
                                      f"({interval(item.degraded_ci)})" for item in series),
            })
    return rows


def adjusted_figures(results: ResultsDocument) -> dict[str, Any] | None:
    """Per attribute and group, the standardised IoU and its interval for the results
    table; None without --adjust-for."""
    record = results.adjustment
    if record is None:
        return None
    by_attribute: dict[str, dict[str, dict[str, str]]] = {}
    for name, block in record.attributes.items():
        by_attribute[name] = {
            label: {"value": pct(g.adjusted), "ci": interval(g.ci),
                    "missing": (f"lacks {', '.join(g.missing_strata)}"
                                if g.missing_strata else "")}
            for label, g in block.groups.items()}
    weights = ", ".join(f"{stratum} {pct(w, 1)} %" for stratum, w in record.weights.items())
    return {"attribute": record.attribute, "weights": weights, "attributes": by_attribute}


def summary_lines(results: ResultsDocument) -> list[str]:
    """What the console prints after the attributes: each condition's change for every
    image, each attribute's disparate-degradation verdict, and the adjusted figures."""
    lines: list[str] = []
    record = results.conditions
    if record is not None:
        parameters = {d.condition: d.parameter for d in record.definitions}
        lines += ["", f"capture conditions ({record.evaluations_per_image} evaluations per "
                      "image): change in IoU from clean, all images"]
        for r in record.overall:
            name = f"{r.condition} {parameters.get(r.condition, '')} = {r.severity:g}"
            lines.append(f"  {name:<24} {points(r.change, signed=True):>10}  "
                         f"[{interval(r.change_ci, signed=True)}]")
        verdicts = ", ".join(f"{name} {block.verdict.get('statistical')}"
                             for name, block in record.attributes.items())
        lines.append(f"  disparate degradation (threshold {points(record.threshold)}): "
                     f"{verdicts or 'no attribute'}")
    adjustment = results.adjustment
    if adjustment is not None:
        lines += ["", f"adjusted for {adjustment.attribute} (standardised mean IoU %)"]
        for name, block in adjustment.attributes.items():
            figures = ", ".join(f"{label} {pct(g.adjusted, 1)} [{interval(g.ci, 1)}]"
                                for label, g in block.groups.items())
            lines.append(f"  {name}: {figures}")
    # the console's plain characters: "-" for minus, "[a, b]" intervals, "n/a" for a dash
    return [line.replace("−", "-").replace(" – ", ", ").replace(DASH, "n/a") for line in lines]


__all__ = ["DEFINITIONS", "adjusted_figures", "conditions_section", "summary_lines"]
