"""comparison.md and the closing lines `fairness-eval compare` prints, from a `Comparison`.

Formatting only: every figure comes from the comparison record (results/comparison_record.py).
Figures a person reads are in % and changes in percentage points (pt); comparison.json
keeps fractions.
"""

from __future__ import annotations

import json
from typing import Any

from ..results.comparison_record import OVERALL, Comparison
from .judged import JudgedFigure
from .text import markdown_text


def _judged(comparison: Comparison) -> JudgedFigure:
    """The metric both runs judged and what their rows are (the baseline's bootstrap)."""
    boot = comparison.bootstrap
    return JudgedFigure(boot.metric or "iou", boot.unit or "image")


def closing_lines(comparison: Comparison) -> list[str]:
    """Each verdict change, each failure, then the outcome with its tally."""
    lines = [f"verdict change: {v.describe()}" for v in comparison.verdict_changes]
    lines += [f"FAIL {line}" for line in comparison.failures]
    changes = comparison.all_groups()
    worse = sum(g.direction == "worse" for g in changes)
    better = sum(g.direction == "better" for g in changes)
    figure = _judged(comparison)
    worsening = "rise" if figure.lower_is_better else "drop"  # of flicker; of IoU
    tolerance = ("not gated (no --max-drop)" if comparison.max_drop is None
                 else f"max {worsening} {_pt(comparison.max_drop)}")
    summary = (f"{len(changes)} groups over {comparison.images} {figure.units}: {worse} worse, "
               f"{better} better with {comparison.bootstrap.confidence:.0%} confidence; "
               f"{tolerance}; {len(comparison.verdict_changes)} verdict change(s)")
    status = "FAILED" if comparison.failures else "passed"
    lines.append(f"comparison gate: {status} ({summary})")
    return lines


def comparison_markdown(comparison: Comparison) -> str:
    """comparison.md: settings that changed, per-group change with intervals, verdict changes."""
    boot = comparison.bootstrap
    figure = _judged(comparison)
    statistic = f"{'mean' if boot.statistic == 'mean' else 'pooled'} {figure.label}"
    key = "clip name" if figure.unit == "clip" else "id"
    lines = [
        "# Model comparison",
        "",
        f"Baseline `{comparison.baseline.run_dir}` vs candidate "
        f"`{comparison.candidate.run_dir}`, {comparison.images} {figure.units} matched by "
        f"{key}. "
        f"Change = candidate - baseline in {statistic}, with its paired "
        f"{boot.confidence:.0%} bootstrap interval ({boot.method}, {boot.resamples} "
        f"resamples, seed {boot.seed}).",
        "",
    ]
    if comparison.settings_changed:
        lines.append("Changed between the runs: " + "; ".join(
            f"{k} {_short(v[0])} -> {_short(v[1])}"
            for k, v in comparison.settings_changed.items()
        ) + ".")
        lines.append("")
    if comparison.max_drop is not None and figure.lower_is_better:
        lines.append(f"Tolerated rise in {figure.label} (lower is better): "
                     f"{_pt(comparison.max_drop)}; a gated group fails when the whole "
                     "interval of its change lies above that.")
        lines.append("")
    elif comparison.max_drop is not None:
        lines.append(f"Tolerated drop: {_pt(comparison.max_drop)}; a gated group fails when "
                     "the whole interval of its change lies below minus that.")
        lines.append("")
    header = [f"| group | n | baseline % | candidate % | change (pt) | "
              f"{boot.confidence:.0%} CI (pt) | |", "|---|---|---|---|---|---|---|"]
    sections = [("Overall", {OVERALL: comparison.overall})] + [
        (name, block.groups) for name, block in comparison.attributes.items()
    ]
    for title, groups in sections:
        lines += [f"## {title}", "", *header]
        for group, g in groups.items():
            flag = g.direction
            if g.drop_beyond_tolerance:
                flag = (f"**{'rise' if figure.lower_is_better else 'drop'} beyond "
                        "tolerance**" + ("" if g.gated else " (not gated)"))
            lines.append(
                f"| {markdown_text(group)} | {g.n} | {100 * g.baseline:.2f} | "
                f"{100 * g.candidate:.2f} | {100 * g.change:+.2f} | "
                f"[{100 * g.change_ci[0]:+.2f}, {100 * g.change_ci[1]:+.2f}] | {flag} |"
            )
        lines.append("")
    lines += ["## Fairness verdict changes", ""]
    if comparison.verdict_changes:
        lines += [f"- {v.describe()}" for v in comparison.verdict_changes]
    else:
        lines.append("No fairness verdict changed.")
    lines.append("")
    lines += ["## Gate", ""]
    lines += [f"- FAIL {f}" for f in comparison.failures] or ["Passed."]
    return "\n".join(lines) + "\n"


def _pt(value: float) -> str:
    """A tolerance in percentage points: 0.01 -> '1.00 pt'."""
    return f"{100 * value:.2f} pt"


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 24 else text[:12] + "..."
