"""The card's capture-condition charts: per attribute and condition, group IoU against severity.

One small SVG per attribute and condition: the clean figure at the left, then each
severity in the order evaluated (mild to severe with the defaults), a line per group with
its interval as error bars and the reference pool dashed. Colours are the groups', not
verdicts: the verdicts are in the table beside it. Drawn as charts.py draws (text as
escaped text, ids unique per chart, the <title> the chart's accessible name).
"""

from __future__ import annotations

from ..results.conditions_record import AttributeDegradation, ConditionDefinition
from .charts import CHART_STYLE, INK, REFERENCE_COLOUR, figure_svg, plt, short_label
from .formatting import is_number

# Distinguishable in colour and in grey (Okabe-Ito), for up to eight groups, then cycling.
GROUP_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9",
                 "#000000", "#f0e442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def severity_chart_svg(name: str, attribute: AttributeDegradation,
                       definition: ConditionDefinition, confidence: str = "95%") -> str:
    """Group IoU (%) under one condition: clean, then each severity, with intervals."""
    levels = list(definition.severities)
    ticks = ["clean", *(f"{definition.parameter} = {s:g}" for s in levels)]
    groups = attribute.groups
    # the groups, then the reference pool (told apart by its flag, not by a name)
    lines = [(group, attribute.series(definition.condition, group)) for group in groups]
    lines.append((None, attribute.reference_series(definition.condition)))
    with plt.rc_context(CHART_STYLE):
        # the legend sits below the axes, two entries a line
        height = 2.3 + 0.14 * ((len(lines) + 1) // 2)
        figure, axes = plt.subplots(figsize=(3.4, height), layout="constrained")
        for index, (group, series) in enumerate(lines):
            if not series:
                continue
            reference = group is None
            colour = REFERENCE_COLOUR if reference else GROUP_COLOURS[index % len(GROUP_COLOURS)]
            xs, ys, lows, highs = [0.0], [series[0].clean], [None], [None]
            for item in series:
                xs.append(1.0 + levels.index(item.severity) if item.severity in levels
                          else float(len(xs)))
                ys.append(item.degraded)
                ci = item.degraded_ci or (None, None)
                lows.append(ci[0])
                highs.append(ci[1])
            shown = [(x, 100 * y) for x, y in zip(xs, ys, strict=True) if is_number(y)]
            if not shown:
                continue
            # Groups side by side at each severity, so their intervals do not hide each other.
            offset = 0.0 if reference else 0.06 * (index - (len(groups) - 1) / 2)
            axes.plot([x + offset for x, _ in shown], [y for _, y in shown], color=colour,
                      lw=1.6 if reference else 1.2, ls=(0, (4, 2)) if reference else "-",
                      marker=None if reference else MARKERS[index % len(MARKERS)], ms=4,
                      label="reference pool" if reference else short_label(group, 22), zorder=3)
            for x, low, high in zip(xs, lows, highs, strict=True):
                if is_number(low) and is_number(high) and not reference:
                    axes.plot([x + offset] * 2, [100 * low, 100 * high], color=colour,
                              lw=0.9, alpha=0.8, zorder=2)
        axes.set_xticks(range(len(ticks)))
        axes.set_xticklabels(ticks, rotation=30, ha="right", fontsize=7)
        axes.set_ylabel("IoU (%)")
        axes.set_title(definition.condition, fontsize=9, color=INK)
        axes.grid(axis="y", color="#e3e7eb", lw=0.6, zorder=0)
        figure.legend(loc="outside lower center", ncol=2, fontsize=6.5, frameon=False,
                      handlelength=1.8, columnspacing=1.0)
        title = (f"{name} under {definition.condition}: IoU per group against severity, "
                 f"with {confidence} intervals")
        return figure_svg(figure, f"conditions-{name}-{definition.condition}", title)


__all__ = ["GROUP_COLOURS", "severity_chart_svg"]
