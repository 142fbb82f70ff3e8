"""model_card.json in Google's Model Card Toolkit schema (v0.0.2), for that toolkit's users.

Only keys of the schema are written (it forbids unknown top-level keys, and the toolkit's
protobuf loader rejects unknown ones anywhere). Metric values and interval bounds are
strings, as the schema requires. Verdicts have no field of their own in the schema, so they
travel as metrics of type "fairness verdict ..." with the verdict as value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .card_text import CardText

SCHEMA_VERSION = "0.0.2"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_SPDX = re.compile(r"^[A-Za-z0-9.+-]+( (AND|OR|WITH) [A-Za-z0-9.+-]+)*$")


def model_card_document(results: Mapping[str, Any], card: CardText) -> dict[str, Any]:
    """The Model Card Toolkit document of a results document and its card text."""
    model = results.get("model") or {}
    statistic = (results.get("bootstrap") or {}).get("statistic") or (
        (results.get("settings") or {}).get("statistic") or "mean"
    )
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "model_details": _model_details(model, card),
        "model_parameters": _model_parameters(results, card),
        "quantitative_analysis": {
            "performance_metrics": _metrics(results, f"{statistic} IoU"),
        },
        "considerations": _considerations(card),
    }
    return _prune(document)


def _model_details(model: Mapping[str, Any], card: CardText) -> dict[str, Any]:
    version: dict[str, Any] = {"name": card.version}
    if card.date and _ISO_DATE.match(card.date):
        version["date"] = card.date
    licenses = []
    if card.license:
        key = "identifier" if _SPDX.match(card.license) else "custom_text"
        licenses.append({key: card.license})
    return {
        "name": card.display_name or model.get("name"),
        "overview": card.overview,
        "documentation": card.documentation,
        "owners": [{"name": author, "contact": card.contact} for author in card.authors],
        "version": version,
        "licenses": licenses,
        "references": [{"reference": ref} for ref in card.references if _URI.match(ref)],
        "citations": [{"citation": card.citation}] if card.citation else [],
        "path": model.get("path"),
    }


def _model_parameters(results: Mapping[str, Any], card: CardText) -> dict[str, Any]:
    model = results.get("model") or {}
    dataset = results.get("dataset") or {}
    description = []
    if dataset.get("rows") is not None:
        description.append(f"{dataset['rows']} rows, {dataset.get('evaluated')} evaluated")
    if dataset.get("path"):
        description.append(f"path {dataset['path']}")
    if dataset.get("sha256"):
        description.append(f"sha256 {dataset['sha256']}")
    if results.get("kind") == "table":
        description.append("published per-group figures (no per-image data)")
    data = {"name": dataset.get("name"), "description": "; ".join(description) or None}
    if dataset.get("path") and _URI.match(str(dataset["path"])):
        data["link"] = dataset["path"]
    return {
        "model_architecture": card.architecture,
        "data": [data] if dataset else [],
        "input_format": _tensor(model.get("input_shape"), model.get("input_dtype")),
        "output_format": _tensor(model.get("output_shape"), model.get("output_dtype"),
                                 model.get("output_layout")),
        "input_format_map": _pairs({"shape": model.get("input_shape"),
                                    "dtype": model.get("input_dtype")}),
        "output_format_map": _pairs({"shape": model.get("output_shape"),
                                     "dtype": model.get("output_dtype"),
                                     "layout": model.get("output_layout")}),
    }


def _metrics(results: Mapping[str, Any], statistic: str) -> list[dict[str, Any]]:
    overall = results.get("overall") or {}
    metrics = [_metric(statistic, overall.get("value"), None, overall.get("ci"))]
    iaa = results.get("inter_annotator_iou") or {}
    if iaa.get("value") is not None:
        metrics.append(_metric("inter-annotator IoU", iaa["value"], None, iaa.get("ci")))
    for name, attr in (results.get("attributes") or {}).items():
        rng = attr.get("range") or {}
        criteria = attr.get("criteria") or {}
        metrics.append(_metric("fairness verdict", attr.get("verdict"), name, None))
        metrics.append(_metric("IoU range (max - min)", rng.get("value"), name, None))
        for key in ("a", "b"):
            threshold = (criteria.get(key) or {}).get("threshold")
            metrics.append(_metric(f"criterion ({key}) threshold", threshold, name, None))
        for group, g in (attr.get("groups") or {}).items():
            slice_name = f"{name}: {group}"
            metrics.append(_metric(statistic, g.get("value"), slice_name, g.get("ci")))
            if g.get("n") is not None:
                metrics.append(_metric("images", g["n"], slice_name, None))
            metrics.append(_metric("deviation from reference", g.get("deviation"), slice_name,
                                   g.get("deviation_ci")))
            for key, verdicts in (g.get("verdicts") or {}).items():
                for form in ("statistical", "point"):
                    metrics.append(_metric(f"fairness verdict, criterion ({key}), {form}",
                                           verdicts.get(form), slice_name, None))
    return [m for m in metrics if m is not None]


def _metric(kind: str, value: Any, slice_name: str | None, ci: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    metric: dict[str, Any] = {"type": kind, "value": _string(value)}
    if slice_name is not None:
        metric["slice"] = slice_name
    if ci and len(ci) == 2 and all(v is not None for v in ci):
        metric["confidence_interval"] = {"lower_bound": _string(ci[0]),
                                         "upper_bound": _string(ci[1])}
    return metric


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


def _pairs(values: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"key": key, "value": _string(value)} for key, value in values.items()
            if value is not None]


def _string(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "x".join(str(v) for v in value)
    return str(value)


def _prune(value: Any) -> Any:
    """Drop None values and empty containers: the toolkit reads absence, not null."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [], "")}
    if isinstance(value, list):
        return [v for v in (_prune(v) for v in value) if v not in (None, {}, [], "")]
    return value
