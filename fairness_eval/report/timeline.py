"""The video card's timeline: one small panel per clip, IoU per frame, flicker marked.

Read from per_frame.csv as the run wrote it (nothing is recomputed): each panel draws the
scored frames' IoU as a line (a gap where frames are not annotated), the flicker of each
scored frame against the previous one as bars on the panel's right-hand axis, and skipped
frames as crosses on the frame axis. A frame whose IoU drops while its flicker rises is
what still-image metrics miss. Drawn like the other charts (charts.py): SVG, no text
nodes, ids unique per chart, an accessible title. The card's methods text about clips and
the judged metric is judged.py's.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .charts import CHART_STYLE, figure_svg

IOU_COLOUR = "#1f5fa8"
FLICKER_COLOUR = "#ad5f1a"  # its axis labels are text: 4.7:1 on white (WCAG AA asks 4.5)
SKIPPED_COLOUR = "#c0262d"
COLUMNS = 3
MAX_PANELS = 48  # a card with more clips shows the first ones and says so
# The charts entry of the timeline: "" names no attribute (a CSV header cannot be empty).
TIMELINE_KEY = ""


def timeline_svg(per_frame: pd.DataFrame, clips: list[str] | None = None) -> str:
    """Small multiples, one per clip (in `clips` order, default the table's), as SVG."""
    names = list(dict.fromkeys(per_frame["clip"])) if clips is None else list(clips)
    names = names[:MAX_PANELS]
    rows = max(1, math.ceil(len(names) / COLUMNS))
    columns = min(COLUMNS, max(1, len(names)))
    highest = pd.to_numeric(per_frame["flicker"], errors="coerce").max()
    flicker_top = float(highest) * 1.1 if np.isfinite(highest) and highest > 0 else 1.0
    with plt.rc_context(CHART_STYLE):
        figure, axes = plt.subplots(rows, columns, figsize=(2.45 * columns, 1.75 * rows + 0.5),
                                    layout="constrained", squeeze=False)
        for index, axis in enumerate(axes.flat):
            if index >= len(names):
                axis.set_visible(False)
                continue
            _panel(axis, per_frame[per_frame["clip"] == names[index]], names[index],
                   flicker_top, first_column=index % columns == 0,
                   last_column=index % columns == columns - 1 or index == len(names) - 1)
        figure.supxlabel("frame", fontsize=7.5)
        skipped = bool((per_frame["clip"].isin(names) & (per_frame["status"] == "skipped")).any())
        figure.legend(handles=_legend(skipped), loc="outside lower center", ncols=3,
                      frameon=False, fontsize=7.5)
        title = (f"IoU per frame and flicker per scored frame for {len(names)} clip(s); "
                 "the figures are in per_frame.csv")
        return figure_svg(figure, "timeline:" + ",".join(names), title)


def _panel(axis, frames: pd.DataFrame, name: str, flicker_top: float, *, first_column: bool,
           last_column: bool) -> None:
    frames = frames.sort_values("frame")
    index = pd.to_numeric(frames["frame"]).to_numpy(dtype=float)
    scored = (frames["status"] == "ok").to_numpy()
    iou = pd.to_numeric(frames["iou"], errors="coerce").to_numpy(dtype=float)
    flicker = pd.to_numeric(frames["flicker"], errors="coerce").to_numpy(dtype=float)
    twin = axis.twinx()
    has_flicker = scored & np.isfinite(flicker)
    width = max(0.8, (index.max() - index.min()) / 120) if len(index) else 0.8
    twin.bar(index[has_flicker], flicker[has_flicker], width=width, color=FLICKER_COLOUR,
             alpha=0.55, linewidth=0)
    twin.set_ylim(0, flicker_top)
    twin.tick_params(labelsize=6.5, colors=FLICKER_COLOUR, labelright=last_column)
    twin.spines["right"].set_visible(True)
    twin.spines["right"].set_color(FLICKER_COLOUR)
    # Unscored frames break the line: a gap, not a straight segment across them.
    axis.plot(index, np.where(scored, iou, np.nan), color=IOU_COLOUR, lw=1.2,
              marker="." if scored.sum() < 30 else None, ms=3)
    skipped = (frames["status"] == "skipped").to_numpy()
    if skipped.any():
        axis.plot(index[skipped], np.zeros(skipped.sum()), "x", color=SKIPPED_COLOUR, ms=4,
                  clip_on=False)
    axis.set_zorder(twin.get_zorder() + 1)
    axis.patch.set_visible(False)
    axis.set_ylim(0, 1)
    axis.set_yticks([0, 0.5, 1])
    axis.tick_params(labelsize=6.5, labelleft=first_column)
    shown = name if len(name) <= 28 else name[:27] + "…"
    axis.set_title(shown.replace("$", r"\$"), fontsize=7.5, loc="left")


def _legend(skipped: bool) -> list:
    handles = [Line2D([], [], color=IOU_COLOUR, lw=1.2, label="IoU per scored frame (left)"),
               Patch(color=FLICKER_COLOUR, alpha=0.55, label="flicker vs the previous scored "
                     "frame (right; lower is better)")]
    if skipped:
        handles.append(Line2D([], [], color=SKIPPED_COLOUR, marker="x", lw=0,
                              label="frame skipped"))
    return handles
