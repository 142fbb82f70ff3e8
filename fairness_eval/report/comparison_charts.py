"""The comparison card's chart: one attribute's groups across models, as an inline SVG.

A forest plot like the model card's (charts.py, whose style and SVG clean-up it shares):
a row per group, and within it a marker and interval per model, each model in its own
colour and marker shape (so it reads in grey too), hollow where the group is not gated.
Every figure drawn is a group's value and interval as that model's run recorded it.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

from ..results.assessment import AttributeAssessment
from .charts import CHART_STYLE, INK, figure_svg, interval_axis
from .formatting import is_number
from .judged import metric_label
from .text import visible

# The Okabe-Ito palette (distinguishable with the common colour-vision deficiencies) and a
# marker shape per model, repeated past six models.
MODEL_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
MODEL_MARKERS = ("o", "s", "D", "^", "v", "P")


def model_style(index: int) -> tuple[str, str]:
    """(colour, marker) of the model at `index` in the comparison."""
    return MODEL_COLOURS[index % len(MODEL_COLOURS)], MODEL_MARKERS[index % len(MODEL_MARKERS)]


def groups_across_models(blocks: Sequence[AttributeAssessment]) -> list[str]:
    """Every group of the attribute, in the first model's order, then any others."""
    names: list[str] = []
    for block in blocks:
        names += [g for g in block.groups if g not in names]
    return names


def models_forest_svg(name: str, labels: Sequence[str], blocks: Sequence[AttributeAssessment],
                      confidence: str = "95%", *, metric: str = "iou") -> str:
    """Forest plot of one attribute: the judged metric (IoU unless the runs chose another
    --metric) in percent with interval per group, one marker per model."""
    groups = groups_across_models(blocks)
    count = len(blocks)
    slot = 0.8 / max(count, 1)  # vertical room of one model inside a group's row
    height = 1.5 + (0.22 + 0.13 * count) * len(groups)
    with plt.rc_context(CHART_STYLE):
        figure, axes = plt.subplots(figsize=(7.0, height), layout="constrained")
        extent: list[float] = []
        for row, group in enumerate(groups):
            centre = len(groups) - 1 - row
            for index, block in enumerate(blocks):
                result = block.groups.get(group)
                if result is None:
                    continue
                y = centre + 0.4 - slot * (index + 0.5)
                colour, marker = model_style(index)
                ci = result.ci
                if ci and all(is_number(v) for v in ci):
                    low, high = 100 * ci[0], 100 * ci[1]
                    axes.plot([low, high], [y, y], color=colour, lw=1.5, zorder=3,
                              solid_capstyle="butt", gid=f"interval-{row}-{index}")
                    extent += [low, high]
                if is_number(result.value):
                    axes.plot(100 * result.value, y, marker=marker, ms=5.0, zorder=4,
                              color=colour, mfc="white" if not result.gated else colour,
                              mew=1.3, gid=f"marker-{row}-{index}")
                    extent.append(100 * result.value)
            if row:
                axes.axhline(centre + 0.5, color="#e3e7eb", lw=0.6, zorder=0)
        axes.set_yticks(range(len(groups)))
        axes.set_yticklabels([_label(g) for g in reversed(groups)])
        axes.set_ylim(-0.6, len(groups) - 0.4)
        if extent:
            low, high = min(extent), max(extent)
            axes.set_xlim(*interval_axis(metric, low, high))
        label = metric_label(metric)
        axes.set_xlabel(f"{label} (%) with {confidence} interval")
        axes.grid(axis="x", color="#e3e7eb", lw=0.6, zorder=0)
        axes.tick_params(axis="y", length=0)
        handles = [Line2D([], [], color=model_style(i)[0], marker=model_style(i)[1], lw=1.5,
                          ms=5.0, label=_label(label)) for i, label in enumerate(labels)]
        handles.append(Line2D([], [], color=INK, marker="o", mfc="white", lw=0,
                              label="hollow: not gated"))
        figure.legend(handles=handles, loc="outside lower center",
                      ncol=min(len(handles), 3), frameon=False, fontsize=7.5,
                      handlelength=1.8, columnspacing=1.2)
        title = f"{name}: {label} per group and model with {confidence} interval"
        return figure_svg(figure, f"models-forest-{name}", title)


def _label(text: str) -> str:
    text = str(text)
    if len(text) > 32:
        text = text[:31] + "…"
    text = visible(text, keep_layout=False)  # no override or control character drawn
    return text.replace("$", r"\$")  # a "$" would switch matplotlib to mathtext


__all__ = ["MODEL_COLOURS", "MODEL_MARKERS", "groups_across_models", "model_style",
           "models_forest_svg"]
