"""The card's charts, drawn with matplotlib as SVG text ready to inline into the HTML.

Per attribute: a forest plot (each group's judged figure, IoU unless the run chose another
--metric, with its interval against the reference line, the criterion (b) band reference
+- 2(1 - IAA) and the criterion (a) band reference +- the recorded factor x SD) and, where
the per-image table is at hand, the distribution of the per-image figure per group.
The forest plot is also drawn as PNG (`forest_plot_png`) for the Model Card Toolkit export.
The SVGs keep their text as text nodes, escaped by matplotlib (user-supplied group names
never become markup) with invisible characters shown as escapes (text.py), carry no
comments, and have ids made unique per chart, so that several can sit in one HTML page.
Each chart's <title> (escaped) is its accessible name; the figures themselves are in the
card's tables. Layers with a mark per image (the distribution's points) are one raster
image, so a chart's size does not grow with the set.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from ..results.assessment import AttributeAssessment, GroupResult, as_attribute  # noqa: E402
from ..results.labels import group_labels as label_rows  # noqa: E402
from ..results.names import METRIC_BOUNDS  # noqa: E402
from .formatting import is_number  # noqa: E402
from .judged import metric_label  # noqa: E402
from .text import visible  # noqa: E402

# Verdict colours, shared with the CSS (card.css): pass, inconclusive, violation, not gated.
COLOURS = {
    "pass": "#1f7a3f",
    "inconclusive": "#b26a00",
    "violation": "#c0262d",
    "not gated": "#8a9099",
    "not evaluated": "#4a5563",
}
REFERENCE_COLOUR = "#1d2b3a"
BAND_B_COLOUR = "#cfe3f7"
BAND_A_COLOUR = "#7a4fb5"
INK = "#2b3440"
PNG_DPI = 120  # raster exports: 840 px wide, the axis labels still legible
# Matplotlib 3.10 renamed boxplot's vert=False to orientation="horizontal".
_HORIZONTAL = (
    {"orientation": "horizontal"}
    if tuple(int(p) for p in matplotlib.__version__.split(".")[:2]) >= (3, 10)
    else {"vert": False}
)
# Resolution of a chart's rasterised layers (the distribution's points): sharp in print.
RASTER_DPI = 200
# The charts' matplotlib style; other chart modules draw inside rc_context(CHART_STYLE) too.
CHART_STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.edgecolor": "#9aa3ad",
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    # Text stays text (escaped by matplotlib): selectable, read by screen readers, and
    # drawn by WeasyPrint several times faster than one glyph path per character.
    "svg.fonttype": "none",
}


def forest_plot_svg(name: str, attribute: AttributeAssessment | Mapping[str, Any],
                    confidence: str = "95%", *, metric: str = "iou") -> str:
    """Forest plot of one attribute's groups: the judged metric (`results.metric`; IoU by
    default) in percent, with interval, against the criteria bands."""
    with plt.rc_context(CHART_STYLE):
        figure, title = _forest_figure(name, attribute, confidence, metric)
        return figure_svg(figure, f"forest-{name}", title)


def forest_plot_png(name: str, attribute: AttributeAssessment | Mapping[str, Any],
                    confidence: str = "95%", dpi: int = PNG_DPI, *, metric: str = "iou"
                    ) -> tuple[bytes, str]:
    """The same forest plot as PNG bytes, and its title (for exports that take raster
    images, such as the Model Card Toolkit's graphics)."""
    with plt.rc_context(CHART_STYLE):
        figure, title = _forest_figure(name, attribute, confidence, metric)
        return _png(figure, dpi), title


def _forest_figure(name: str, attribute: AttributeAssessment | Mapping[str, Any],
                   confidence: str, metric: str) -> tuple[Any, str]:
    """The forest plot's figure and title; drawn inside the caller's rc_context(CHART_STYLE)."""
    attribute = as_attribute(name, attribute)
    groups = list(attribute.groups.items())
    reference = attribute.reference
    threshold_b = attribute.criterion_b.threshold
    threshold_a = attribute.criterion_a.threshold
    height = 1.45 + 0.26 * len(groups)
    figure, axes = plt.subplots(figsize=(7.0, height), layout="constrained")
    extent: list[float] = []
    if is_number(reference):
        ref = 100 * reference
        extent.append(ref)
        if is_number(threshold_b):
            half = 100 * threshold_b
            axes.axvspan(ref - half, ref + half, color=BAND_B_COLOUR, zorder=0, lw=0)
            extent += [ref - half, ref + half]
        if is_number(threshold_a):
            half = 100 * threshold_a
            for edge in (ref - half, ref + half):
                axes.axvline(edge, color=BAND_A_COLOUR, lw=1.0, ls=(0, (4, 3)), zorder=1)
            extent += [ref - half, ref + half]
        axes.axvline(ref, color=REFERENCE_COLOUR, lw=1.2, zorder=2)
    for row, (_, group) in enumerate(groups):
        y = len(groups) - 1 - row
        colour = COLOURS[_group_verdict(group)]
        value = group.value
        ci = group.ci
        if ci and all(is_number(v) for v in ci):
            low, high = 100 * ci[0], 100 * ci[1]
            axes.plot([low, high], [y, y], color=colour, lw=1.8, solid_capstyle="butt",
                      zorder=3, gid=f"interval-{row}")
            axes.plot([low, low], [y - 0.15, y + 0.15], color=colour, lw=1.2, zorder=3)
            axes.plot([high, high], [y - 0.15, y + 0.15], color=colour, lw=1.2, zorder=3)
            extent += [low, high]
        if is_number(value):
            hollow = not group.gated
            axes.plot(100 * value, y, marker="o", ms=5.5, zorder=4, gid=f"marker-{row}",
                      color=colour, mfc="white" if hollow else colour, mew=1.4)
            extent.append(100 * value)
    axes.set_yticks(range(len(groups)))
    axes.set_yticklabels([_label(g, d) for g, d in reversed(groups)])
    axes.set_ylim(-0.7, len(groups) - 0.3)
    if extent:
        low, high = min(extent), max(extent)
        axes.set_xlim(*interval_axis(metric, low, high))
    has_ci = any(g.ci for _, g in groups)
    label = metric_label(metric)
    axes.set_xlabel(f"{label} (%) with {confidence} interval" if has_ci else f"{label} (%)")
    axes.grid(axis="x", color="#e3e7eb", lw=0.6, zorder=0)
    axes.tick_params(axis="y", length=0)
    handles = _forest_legend(reference, threshold_a, threshold_b,
                             attribute.criterion_a.factor)
    figure.legend(handles=handles, loc="outside lower center", ncol=(len(handles) + 1) // 2,
                  frameon=False, fontsize=7.5, handlelength=1.8, columnspacing=1.2)
    title = f"{name}: {label} per group" + (f" with {confidence} interval" if has_ci else "")
    return figure, title


def metric_bounds(metric: str) -> tuple[float, float | None]:
    """The range of a metric's values (the metric catalogue's bounds; IoU's for a name it
    does not hold); None: unbounded above (flicker, spurious change over person size)."""
    return METRIC_BOUNDS.get(metric, (0.0, 1.0))


def interval_axis(metric: str, low: float, high: float) -> tuple[float, float]:
    """The value axis (in %) of a chart of points and intervals spanning `low`..`high` %:
    padded, and kept within the metric's range (IoU stops at 100 %; flicker does not)."""
    floor, ceiling = metric_bounds(metric)
    pad = max(0.08 * (high - low), 0.25)
    top = high + pad if ceiling is None else min(100 * ceiling, high + pad)
    return max(100 * floor, low - pad), top


def distribution_svg(
    name: str,
    attribute: AttributeAssessment | Mapping[str, Any],
    per_image: pd.DataFrame,
    column: str | Sequence[str],
    *,
    metric: str = "iou",
) -> str | None:
    """Per-image values of the judged metric (`results.metric`, per_image.csv's column of
    that name; IoU by default) in percent per group, as box plots over jittered points;
    None without data.

    `column` is the per-image column of the attribute, or the columns of an intersection.
    Rows are matched to groups by the attribute's values (an intersection's group names
    join the values with "×"); groups with no matching rows are drawn empty.
    """
    attribute = as_attribute(name, attribute)
    frame = per_image
    if "status" in frame:
        frame = frame[frame["status"].astype(str) == "ok"]
    columns = [column] if isinstance(column, str) else list(column)
    if frame.empty or metric not in frame or any(c not in frame for c in columns):
        return None
    labels = group_labels(frame, columns)
    judged = pd.to_numeric(frame[metric], errors="coerce") * 100
    groups = list(attribute.groups.items())
    values = [judged[labels == group].dropna().to_numpy() for group, _ in groups]
    if not any(len(v) for v in values):
        return None
    height = 0.9 + 0.3 * len(groups)
    rng = np.random.default_rng(0)  # jitter only; seeded so the SVG is reproducible
    with plt.rc_context(CHART_STYLE):
        figure, axes = plt.subplots(figsize=(7.0, height), layout="constrained")
        positions = [len(groups) - 1 - row for row in range(len(groups))]
        drawn = [(p, v) for p, v in zip(positions, values, strict=True) if len(v)]
        axes.boxplot([v for _, v in drawn], positions=[p for p, _ in drawn], **_HORIZONTAL,
                     widths=0.55, showfliers=False, patch_artist=True,
                     boxprops={"facecolor": "#eef2f6", "edgecolor": "#6b7684", "lw": 0.9},
                     medianprops={"color": REFERENCE_COLOUR, "lw": 1.4},
                     whiskerprops={"color": "#6b7684", "lw": 0.9},
                     capprops={"color": "#6b7684", "lw": 0.9})
        for (position, data), (_, group) in zip(
            zip(positions, values, strict=True), groups, strict=True
        ):
            if not len(data):
                continue
            jitter = rng.uniform(-0.18, 0.18, size=len(data))
            # One raster layer, not a vector marker per image: the chart's size and the
            # PDF's drawing time stay flat however many images the set has.
            axes.scatter(data, position + jitter, s=6, alpha=0.55, lw=0, zorder=3,
                         color=COLOURS[_group_verdict(group)], rasterized=True)
        axes.set_yticks(positions)
        axes.set_yticklabels([_label(g, d) for g, d in groups])
        axes.set_ylim(-0.7, len(groups) - 0.3)
        floor, ceiling = metric_bounds(metric)
        if ceiling is not None:  # the whole range, a little wider: IoU's -2 % to 102 %
            axes.set_xlim(100 * floor - 2, 100 * ceiling + 2)
        label = metric_label(metric)
        axes.set_xlabel(f"per-image {label} (%)")
        axes.grid(axis="x", color="#e3e7eb", lw=0.6, zorder=0)
        axes.tick_params(axis="y", length=0)
        return figure_svg(figure, f"distribution-{name}",
                          f"{name}: per-image {label} per group")


def attribute_columns(name: str, attribute: AttributeAssessment | Mapping[str, Any]
                      ) -> list[str]:
    """The per-image columns an attribute's groups come from."""
    return list(as_attribute(name, attribute).per_image_columns)


def group_labels(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """Each row's group name, exactly as the statistics stage names it (value, values
    joined by "×", or "(not annotated)"), so rows and the document's groups always match."""
    return pd.Series(label_rows(frame, list(columns)), index=frame.index)


def _forest_legend(reference: Any, threshold_a: Any, threshold_b: Any,
                   sd_factor: Any) -> list[Any]:
    handles: list[Any] = [
        Line2D([], [], color=COLOURS["pass"], marker="o", lw=1.8, label="pass"),
        Line2D([], [], color=COLOURS["inconclusive"], marker="o", lw=1.8, label="inconclusive"),
        Line2D([], [], color=COLOURS["violation"], marker="o", lw=1.8, label="violation"),
        Line2D([], [], color=COLOURS["not gated"], marker="o", mfc="white", lw=1.8,
               label="not gated"),
    ]
    if is_number(reference):
        handles.append(Line2D([], [], color=REFERENCE_COLOUR, lw=1.2, label="reference"))
    if is_number(threshold_b):
        handles.append(Patch(color=BAND_B_COLOUR, label="± 2(1 − IAA), criterion (b)"))
    if is_number(threshold_a):
        # The band is drawn at the recorded threshold (factor x SD): say which factor.
        factor = f"{sd_factor:g}" if is_number(sd_factor) else "k"
        handles.append(Line2D([], [], color=BAND_A_COLOUR, lw=1.0, ls=(0, (4, 3)),
                              label=f"± {factor} SD, criterion (a)"))
    return handles


def _group_verdict(group: GroupResult) -> str:
    """The colour key of a group: its worst statistical verdict, or point where none."""
    if not group.gated:
        return "not gated"
    found = [v.statistical for v in group.verdicts.values()]
    if all(f in (None, "not evaluated") for f in found):
        found = [v.point for v in group.verdicts.values()]  # published tables: no intervals
    for key in ("violation", "inconclusive", "pass"):
        if key in found:
            return key
    return "not evaluated"


def _label(group: str, data: GroupResult) -> str:
    n = data.n
    text = str(group)
    if len(text) > 32:
        text = text[:31] + "…"
    # Tick labels are made at drawing time, after `_visible_text` looked: escaped here.
    text = visible(text, keep_layout=False)
    # A "$" would switch matplotlib to mathtext; group names are literal text.
    text = text.replace("$", r"\$")
    if isinstance(n, int):
        return f"{text}  (n={n})"
    share = data.share
    return f"{text}  ({100 * share:.1f}%)" if is_number(share) else text


def _visible_text(figure: Any) -> None:
    """Every text of the figure (ticks, titles, legends) with its invisible characters as
    escapes, whichever chart module set it: a direction override would draw a group name
    reversed, and a control character is not allowed in the SVG's XML at all."""
    for text in figure.findobj(Text):
        shown = visible(text.get_text(), keep_layout=False)
        if shown != text.get_text():
            text.set_text(shown)


def _png(figure: Any, dpi: int) -> bytes:
    """The figure as PNG bytes, without the Software tag (same bytes for the same chart)."""
    _visible_text(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def short_label(value: object, limit: int) -> str:
    """A chart label cut to `limit` characters, an ellipsis marking the cut."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def figure_svg(figure: Any, key: str, title: str) -> str:
    """The figure as an <svg> element for inlining: no prolog, no comments, unique ids,
    and `title` as its accessible name (the <title> child; a PDF's Figure /Alt text).

    `key` names the chart uniquely within a page: it salts matplotlib's ids and prefixes
    every id, so several charts can share one HTML page. Closes the figure."""
    _visible_text(figure)
    buffer = io.StringIO()
    # The salt seeds matplotlib's id hashes: fixed per chart, so output is reproducible.
    with plt.rc_context({"svg.hashsalt": key}):
        figure.savefig(buffer, format="svg", dpi=RASTER_DPI,
                       metadata={"Date": None, "Creator": None})
    plt.close(figure)
    text = buffer.getvalue()
    # Whatever text a chart module passed on raw (a tick label) is escaped here: the inline
    # SVG stays well-formed XML and shows no override.
    text = visible(text[text.index("<svg"):])
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    # Its stroke defaults would apply to the whole HTML page; card.css scopes them instead.
    text = re.sub(r"<defs>\s*<style[^>]*>.*?</style>\s*</defs>", "", text, flags=re.S)
    prefix = "c" + hashlib.sha256(key.encode()).hexdigest()[:8] + "-"
    # Every id and every internal reference gets the chart's prefix.
    text = re.sub(r'\bid="', f'id="{prefix}', text)
    text = re.sub(r'(href="#|url\(#)', rf"\g<1>{prefix}", text)
    # Scale with the page: keep the viewBox, let CSS set the size.
    text = re.sub(r'(<svg[^>]*?)\s+width="[^"]+"\s+height="[^"]+"', r"\1", text, count=1)
    text = text.replace("<svg ", '<svg class="chart" role="img" ', 1)
    opening = text.index(">") + 1
    return f"{text[:opening]}\n<title>{html.escape(visible(title))}</title>{text[opening:]}"
