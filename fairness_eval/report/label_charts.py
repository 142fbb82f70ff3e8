"""The card's label-agreement chart: per voted attribute, annotator against annotator.

A heatmap whose cell (row A, column B) is the share of the images both A and B labelled on
which they gave the same label (results.json's `label_agreement` confusion, one record per
pair), with the diagonal left blank: an annotator always agrees with itself. One sequential
colour scale from 0 to 1 with its colour bar, so a pale row marks the annotator the others
disagree with. No text is drawn inside the axes (the cells' figures are in the card's
table beside it); drawn as charts.py draws (text as escaped text, ids unique per chart,
the <title> the chart's accessible name).
"""

from __future__ import annotations

import numpy as np

from ..results.label_agreement import LabelAgreement
from .charts import CHART_STYLE, INK, figure_svg, plt, short_label

# A sequential scale that stays ordered in grey; blank cells show the figure's white.
COLOUR_MAP = "viridis"


def agreement_heatmap_svg(name: str, record: LabelAgreement) -> str | None:
    """The annotator-by-annotator agreement of one attribute, or None with fewer than two
    named annotators (count columns name none)."""
    annotators = list(dict.fromkeys(
        person for pair in record.confusion for person in (pair.first, pair.second)))
    if len(annotators) < 2:
        return None
    position = {person: i for i, person in enumerate(annotators)}
    grid = np.full((len(annotators), len(annotators)), np.nan)
    for pair in record.confusion:
        if pair.agreement is not None:
            i, j = position[pair.first], position[pair.second]
            grid[i, j] = grid[j, i] = pair.agreement
    size = min(5.2, 2.4 + 0.22 * len(annotators))
    with plt.rc_context(CHART_STYLE):
        figure, axes = plt.subplots(figsize=(size + 0.9, size), layout="constrained")
        image = axes.imshow(np.ma.masked_invalid(grid), cmap=COLOUR_MAP, vmin=0.0, vmax=1.0,
                            interpolation="nearest", aspect="equal")
        ticks = range(len(annotators))
        labels = [short_label(person, 18) for person in annotators]
        axes.set_xticks(ticks)
        axes.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
        axes.set_yticks(ticks)
        axes.set_yticklabels(labels, fontsize=7)
        axes.set_xlabel("annotator")
        axes.set_ylabel("annotator")
        axes.set_title(f"{short_label(name, 40)}: agreement per pair", fontsize=9, color=INK)
        for spine in axes.spines.values():
            spine.set_visible(False)
        bar = figure.colorbar(image, ax=axes, shrink=0.8)
        bar.set_label("share labelled alike", color=INK)
        bar.outline.set_visible(False)
        title = (f"{name}: share of images each pair of annotators labelled alike, "
                 f"{len(annotators)} annotators")
        return figure_svg(figure, f"labels-{name}", title)


__all__ = ["agreement_heatmap_svg"]
