"""The comparison card: several models over the same images, as HTML and PDF.

It shares the model card's stylesheet, verdict badges, number formats, chart style and
PDF printer (card.css, formatting.py, charts.py, pdf.py), so the two read alike. Per
attribute it shows each model's overall IoU with its interval, the attribute's range and
verdicts, a forest plot of the groups across models, each group's IoU per model, and each
candidate's paired change against the baseline. Formatting only: every figure comes from
the ModelComparison record (results/model_comparison_record.py). Runs judged by Boundary IoU or
flicker, or over clips, are labelled so (the baseline's bootstrap records the metric and
unit; judged.py names them).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from markupsafe import Markup

from .. import __version__
from ..atomicwrite import write_atomically
from ..errors import UsageError
from ..results.assessment import AttributeAssessment, GroupResult
from ..results.comparison_record import GroupChange
from ..results.model_comparison_record import FAIREST_RULE, ComparedModel, ModelComparison
from .comparison_charts import model_style, models_forest_svg
from .formatting import DASH, STATISTIC_LABELS, interval, pct, points, verdict, worst_verdict
from .html import STYLESHEET, card_environment
from .judged import JudgedFigure
from .model_comparison_markdown import fairest_line, rule_figure

TEMPLATE = "comparison.html.j2"
COMPARISON_HTML = "comparison.html"
COMPARISON_PDF = "comparison.pdf"
MARKER_NAMES = {"o": "circle", "s": "square", "D": "diamond", "^": "triangle",
                "v": "inverted triangle", "P": "plus"}
DIRECTIONS = {"worse": ("worse", "bad"), "better": ("better", "ok"),
              "no clear change": ("no clear change", "na")}


def comparison_context(comparison: ModelComparison) -> dict[str, Any]:
    """Everything the comparison template shows, formatted."""
    confidence = f"{100 * (comparison.bootstrap.confidence or 0.95):g}%"
    labels = [model.label for model in comparison.models]
    failures = comparison.failures
    figure = _judged(comparison)
    statistic = comparison.bootstrap.statistic or "mean"
    return {
        "title": "Model comparison: " + ", ".join(labels),
        "labels": labels,
        "confidence": confidence,
        "judged": {
            "label": figure.label, "units": figure.units,
            # Lower is better (flicker): a rise is what the tolerance is about.
            "worsening": "rise" if figure.lower_is_better else "drop",
            "worsens": "rises" if figure.lower_is_better else "drops",
        },
        "headline": {
            "models": len(comparison.models),
            "images": f"{comparison.images:,}",
            "baseline": comparison.baseline.label,
            "gate": verdict("violation" if failures else "pass"),
            "gate_label": "failed" if failures else "passed",
            "max_drop": (points(comparison.max_drop) if comparison.max_drop is not None
                         else "not gated (no --max-drop)"),
            "gate_on": comparison.gate_on,
        },
        "bootstrap": {
            "statistic": (f"mean of per-{figure.unit} {figure.label}"
                          if statistic == "mean" and figure != JudgedFigure()
                          else STATISTIC_LABELS.get(statistic, statistic)),
            "method": comparison.bootstrap.method or DASH,
            "resamples": comparison.bootstrap.resamples,
            "seed": comparison.bootstrap.seed,
        },
        "models": [_model_row(i, model) for i, model in enumerate(comparison.models)],
        "fairest": {
            "line": fairest_line(comparison),
            "rule": FAIREST_RULE,
            "ranking": [{"rank": s.rank, "label": s.label,
                         "violations": s.gated_violations,
                         "bound": rule_figure(s, "worst-group bound"),
                         "gap": rule_figure(s, "gap"),
                         "decided_by": s.decided_by or ("tie" if s.rank == next(
                             (o.rank for o in comparison.ranking[i + 1:]), None) else DASH)}
                        for i, s in enumerate(comparison.ranking)],
        },
        "attributes": [_attribute(i, name, comparison)
                       for i, name in enumerate(comparison.attribute_names(), start=1)],
        "verdict_changes": [
            {"label": model.label, "lines": [v.describe() for v in pair.verdict_changes]}
            for model, pair in zip(comparison.candidates, comparison.pairs, strict=True)],
        "failures": list(failures),
    }


def _model_row(index: int, model: ComparedModel) -> dict[str, Any]:
    colour, marker = model_style(index)
    record = model.model
    return {
        "label": model.label,
        "role": "baseline" if index == 0 else "candidate",
        "colour": colour,
        "marker": MARKER_NAMES.get(marker, marker),
        "file": (record.path if record else None) or DASH,
        "sha256": (record.sha256 if record else None) or DASH,
        "runtime": (record.runtime if record else None) or DASH,
        "supplied": bool(record and record.supplied),
        "run_dir": model.run.run_dir,
        "threshold": f"{model.run.mask_threshold:g}" if model.run.mask_threshold else DASH,
        "overall": pct(model.overall.value),
        "overall_ci": interval(model.overall.ci),
    }


def _group_verdict(group: GroupResult | None) -> dict[str, str]:
    if group is None:
        return verdict(None)
    if not group.gated:
        return verdict("not gated")
    return verdict(worst_verdict([v.statistical for v in group.verdicts.values()]))


def _attribute(number: int, name: str, comparison: ModelComparison) -> dict[str, Any]:
    blocks: list[AttributeAssessment] = [m.attributes[name] for m in comparison.models]
    baseline = blocks[0]
    summary = []
    for model, block in zip(comparison.models, blocks, strict=True):
        span = block.range
        summary.append({
            "label": model.label,
            "overall": pct(model.overall.value), "overall_ci": interval(model.overall.ci),
            "range": points(span.value if span else None),
            "range_groups": (f"{span.max_group} − {span.min_group}"
                             if span and span.min_group and span.max_group else ""),
            "verdict": verdict(block.verdict), "point_verdict": verdict(block.point_verdict),
        })
    group_names = list(baseline.groups)
    group_names += [g for b in blocks[1:] for g in b.groups if g not in group_names]
    groups = []
    for group in group_names:
        first = next((b.groups[group] for b in blocks if group in b.groups), None)
        cells = []
        for block in blocks:
            result = block.groups.get(group)
            cells.append({"value": pct(result.value if result else None),
                          "ci": interval(result.ci if result else None),
                          "verdict": _group_verdict(result)})
        groups.append({"name": group, "n": first.n if first and first.n is not None else DASH,
                       "gated": bool(first and first.gated), "cells": cells})
    changes = []
    for group in group_names:
        cells = [_change_cell(pair.attributes.get(name), group) for pair in comparison.pairs]
        changes.append({"name": group, "cells": cells})
    return {
        "name": name, "anchor": f"attribute-{number}", "summary": summary,
        "groups": groups, "changes": changes,
        "chart": Markup(models_forest_svg(name, [m.label for m in comparison.models], blocks,
                                          f"{100 * (comparison.bootstrap.confidence or 0.95):g}%",
                                          metric=_judged(comparison).metric)),
    }


def _judged(comparison: ModelComparison) -> JudgedFigure:
    """What the runs judged and what their rows are, from the baseline's bootstrap."""
    boot = comparison.bootstrap
    return JudgedFigure(boot.metric or "iou", boot.unit or "image")


def _change_cell(changes: Any, group: str) -> dict[str, Any]:
    change: GroupChange | None = changes.groups.get(group) if changes is not None else None
    if change is None:
        return {"change": DASH, "ci": DASH, "direction": verdict(None), "beyond": False}
    label, css = DIRECTIONS.get(change.direction, (change.direction, "na"))
    return {"change": points(change.change, signed=True),
            "ci": interval(change.change_ci, signed=True),
            "direction": {"label": label, "css": css},
            "beyond": change.drop_beyond_tolerance and change.gated}


def comparison_card_html(comparison: ModelComparison) -> str:
    """The comparison card as one self-contained HTML page (no scripts, fetches nothing)."""
    environment = card_environment()
    css = resources.files("fairness_eval").joinpath(f"templates/{STYLESHEET}").read_text("utf-8")
    return environment.get_template(TEMPLATE).render(
        **comparison_context(comparison), css=Markup(css), generator_version=__version__)


def write_comparison_card(comparison: ModelComparison, out_dir: Path | str,
                          formats: Sequence[str] = ("html", "pdf")) -> list[Path]:
    """Write comparison.html and / or comparison.pdf into `out_dir`; the paths written."""
    out_dir = Path(out_dir)
    html = comparison_card_html(comparison)
    contents: dict[Path, bytes] = {}
    if "html" in formats:
        contents[out_dir / COMPARISON_HTML] = html.encode("utf-8")
    if "pdf" in formats:
        from .pdf import pdf_bytes

        contents[out_dir / COMPARISON_PDF] = pdf_bytes(html, COMPARISON_PDF, "--format html")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot write {out_dir}: {error.strerror or error}") from None
    for path, data in contents.items():
        write_atomically(path, data)
    return list(contents)


__all__ = ["COMPARISON_HTML", "COMPARISON_PDF", "comparison_card_html", "comparison_context",
           "write_comparison_card"]
