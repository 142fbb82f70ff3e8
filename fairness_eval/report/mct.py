"""model_card.json in Google's Model Card Toolkit schema (v0.0.2), for that toolkit's users.

Only keys of the schema are written (it forbids unknown top-level keys, and the toolkit's
protobuf loader rejects unknown ones anywhere). Metric values and interval bounds are
strings, as the schema requires, written as the card writes them: the judged metric (IoU,
or Boundary IoU or flicker under --metric; each metric's type names it) in percent with two
decimals ("66.06 %"), differences and thresholds in points ("−1.23 pt"); the toolkit's
templates print a value followed by its interval, "66.06 % (62.49 %, 69.47 %)". Verdicts
have no field of their own in the schema, so they travel as metrics of type "fairness
verdict ..." with the verdict as value. A run under capture conditions adds, per condition
and severity ("dark f = 0.1"), the IoU of all images and of each group with its change from
clean and excess drop, and each attribute's disparate-degradation verdict.
`quantitative_analysis.graphics` holds the card's forest plot of each attribute as a base64
PNG (the schema's media type for graphics).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..results.names import CRITERIA
from ..results.provenance import ModelRecord
from ..results.schema import ResultsDocument, as_document
from .card_text import CardText
from .formatting import confidence_label, is_number, pct, points
from .judged import JudgedFigure, judged_figure

SCHEMA_VERSION = "0.0.2"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_SPDX = re.compile(r"^[A-Za-z0-9.+-]+( (AND|OR|WITH) [A-Za-z0-9.+-]+)*$")


def model_card_document(results: ResultsDocument | Mapping[str, Any], card: CardText, *,
                        graphics: bool = True) -> dict[str, Any]:
    """The Model Card Toolkit document of a results document and its card text.

    graphics: draw each attribute's forest plot into `quantitative_analysis.graphics`
    (about half a second per attribute); False leaves them out.
    """
    results = as_document(results)
    model = results.model or ModelRecord()
    analysis: dict[str, Any] = {
        "performance_metrics": _metrics(results, judged_figure(results)),
    }
    if graphics:
        analysis["graphics"] = _graphics(results)
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "model_details": _model_details(model, card),
        "model_parameters": _model_parameters(results, model, card),
        "quantitative_analysis": analysis,
        "considerations": _considerations(card),
    }
    return _prune(document)


def _model_details(model: ModelRecord, card: CardText) -> dict[str, Any]:
    version: dict[str, Any] = {"name": card.version}
    if card.date and _ISO_DATE.match(card.date):
        version["date"] = card.date
    licenses = []
    if card.license:
        key = "identifier" if _SPDX.match(card.license) else "custom_text"
        licenses.append({key: card.license})
    return {
        "name": card.display_name or model.name,
        "overview": card.overview,
        "documentation": card.documentation,
        "owners": [{"name": author, "contact": card.contact} for author in card.authors],
        "version": version,
        "licenses": licenses,
        "references": [{"reference": ref} for ref in card.references if _URI.match(ref)],
        "citations": [{"citation": card.citation}] if card.citation else [],
        "path": model.path,
    }


def _model_parameters(results: ResultsDocument, model: ModelRecord,
                      card: CardText) -> dict[str, Any]:
    dataset = results.evaluated_data
    description = []
    if dataset is not None and dataset.rows is not None:
        description.append(f"{dataset.rows} rows" + ("" if dataset.evaluated is None
                                                     else f", {dataset.evaluated} evaluated"))
    if dataset is not None and dataset.path:
        description.append(f"path {dataset.path}")
    if dataset is not None and dataset.sha256:
        description.append(f"sha256 {dataset.sha256}")
    if results.is_table:
        description.append("published per-group figures (no per-image data)")
    data = {"name": dataset.name if dataset else None,
            "description": "; ".join(description) or None}
    if dataset is not None and dataset.path and _URI.match(dataset.path):
        data["link"] = dataset.path
    return {
        "model_architecture": card.architecture,
        "data": [data] if dataset is not None else [],
        # One form each: the toolkit's template heads input_format and input_format_map
        # alike ("Input Format"), so filling both showed each heading twice.
        "input_format": _tensor(model.input_shape, model.input_dtype),
        "output_format": _tensor(model.output_shape, model.output_dtype, model.output_layout),
    }


def _metrics(results: ResultsDocument, figure: JudgedFigure) -> list[dict[str, Any]]:
    statistic = f"{results.statistic} {figure.label}"  # "mean IoU", "mean flicker"
    overall = results.overall
    metrics = [_metric(statistic, _percent(overall.value), None, _bounds(overall.ci, _percent))]
    iaa = results.inter_annotator_iou
    metrics.append(_metric("inter-annotator IoU", _percent(iaa.value), None,
                           _bounds(iaa.ci, _percent)))
    for name, attr in results.attributes.items():
        metrics.append(_metric("fairness verdict", attr.verdict, name, None))
        metrics.append(_metric(f"{figure.label} range (max - min)",
                               _points(attr.range.value if attr.range else None), name, None))
        for key, criterion in zip(CRITERIA, (attr.criterion_a, attr.criterion_b), strict=True):
            metrics.append(_metric(f"criterion ({key}) threshold",
                                   _points(criterion.threshold), name, None))
        for group, g in attr.groups.items():
            slice_name = f"{name}: {group}"
            metrics.append(_metric(statistic, _percent(g.value), slice_name,
                                   _bounds(g.ci, _percent)))
            if is_number(g.n):
                metrics.append(_metric(figure.units, str(int(g.n)), slice_name, None))
            metrics.append(_metric("share of the dataset", _percent(g.share), slice_name, None))
            metrics.append(_metric("deviation from reference", _signed_points(g.deviation),
                                   slice_name, _bounds(g.deviation_ci, _signed_points)))
            for key, verdicts in g.verdicts.items():
                for form in ("statistical", "point"):
                    metrics.append(_metric(f"fairness verdict, criterion ({key}), {form}",
                                           verdicts.form(form), slice_name, None))
    metrics += _condition_metrics(results)
    return [m for m in metrics if m is not None]


def _condition_metrics(results: ResultsDocument) -> list[dict[str, Any] | None]:
    """The conditions block's figures: IoU under each condition and severity, overall and
    per group (with change from clean and excess drop), and the attributes' verdicts."""
    record = results.conditions
    if record is None:
        return []
    parameters = {d.condition: d.parameter for d in record.definitions}

    def under(item: Any) -> str:
        return f"under {item.condition} {parameters.get(item.condition, 'severity')} = " \
               f"{item.severity:g}"

    metrics = []
    for item in record.overall:
        metrics += [_metric(f"IoU {under(item)}", _percent(item.degraded), None,
                            _bounds(item.degraded_ci, _percent)),
                    _metric(f"change in IoU from clean {under(item)}",
                            _signed_points(item.change), None,
                            _bounds(item.change_ci, _signed_points))]
    for name, block in record.attributes.items():
        for form in ("statistical", "point"):
            metrics.append(_metric(f"disparate degradation verdict, {form}",
                                   block.verdict.get(form), name, None))
        for item in block.rows:
            # the pool's row by its flag: a group in the data may bear the pool's name
            slice_name = f"{name}: {'reference pool' if item.reference else item.group}"
            metrics += [_metric(f"IoU {under(item)}", _percent(item.degraded), slice_name,
                                _bounds(item.degraded_ci, _percent)),
                        _metric(f"excess drop in IoU {under(item)}",
                                _signed_points(item.excess_drop), slice_name,
                                _bounds(item.excess_drop_ci, _signed_points))]
            if item.gated:
                metrics.append(_metric(f"disparate degradation verdict {under(item)}, "
                                       "statistical", item.statistical, slice_name, None))
    return metrics


def _metric(kind: str, value: str | None, slice_name: str | None,
            bounds: tuple[str, str] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    metric: dict[str, Any] = {"type": kind, "value": str(value)}
    if slice_name is not None:
        metric["slice"] = slice_name
    if bounds is not None:
        metric["confidence_interval"] = {"lower_bound": bounds[0], "upper_bound": bounds[1]}
    return metric


def _percent(value: Any) -> str | None:
    """A fraction as the card's tables write IoU: 0.66055 -> '66.06 %'."""
    return f"{pct(value)} %" if is_number(value) else None


def _points(value: Any) -> str | None:
    """A difference of fractions in points: 0.0252 -> '2.52 pt'."""
    return points(value) if is_number(value) else None


def _signed_points(value: Any) -> str | None:
    """A deviation in signed points, as the card writes it: -0.0123 -> '−1.23 pt'."""
    return points(value, signed=True) if is_number(value) else None


def _bounds(ci: Sequence[Any] | None, write: Any) -> tuple[str, str] | None:
    """An interval's bounds written like its value, or None unless both are numbers."""
    if not ci or len(ci) != 2 or not all(is_number(v) for v in ci):
        return None
    return write(ci[0]), write(ci[1])


def _graphics(results: ResultsDocument) -> dict[str, Any]:
    """Each attribute's forest plot, drawn from the document as the HTML card draws it."""
    from .charts import forest_plot_png  # matplotlib: only when graphics are asked for

    confidence = confidence_label(results)
    figure = judged_figure(results)
    collection = []
    for name, attribute in results.attributes.items():
        image, title = forest_plot_png(name, attribute, confidence, metric=figure.metric)
        collection.append({"name": title, "image": base64.b64encode(image).decode("ascii")})
    description = (
        f"Per attribute, each group's {results.statistic} {figure.label} in percent, with its "
        f"{confidence} interval where one is recorded, against the reference (solid line), "
        "criterion (b)'s band reference ± 2(1 − IAA) (shaded) and criterion (a)'s band "
        "reference ± factor × SD (dashed). Marker colour: the group's verdict; hollow: not "
        "gated (small or not annotated). The figures are in performance_metrics.")
    return {"description": description, "collection": collection}


def _considerations(card: CardText) -> dict[str, Any]:
    use_cases = [*card.primary_uses, *(f"Out of scope: {item}" for item in card.out_of_scope)]
    return {
        "users": [{"description": text} for text in card.primary_users],
        "use_cases": [{"description": text} for text in use_cases],
        "limitations": [{"description": text} for text in card.limitations],
        "tradeoffs": [{"description": text} for text in card.tradeoffs],
        "ethical_considerations": [
            {"name": risk.name, "mitigation_strategy": risk.mitigation} for risk in card.ethical
        ],
    }


def _tensor(shape: Any, dtype: Any, layout: Any = None) -> str | None:
    if not shape:
        return None
    text = "x".join(str(s) for s in shape) + (f" {dtype}" if dtype else "")
    return text + (f" ({layout})" if layout else "")


def _prune(value: Any) -> Any:
    """Drop None values and empty containers: the toolkit reads absence, not null."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [], "")}
    if isinstance(value, list):
        return [v for v in (_prune(v) for v in value) if v not in (None, {}, [], "")]
    return value
