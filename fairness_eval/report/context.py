"""results.json -> the values the card templates print, already formatted.

Formatting only: every figure is read from the results document (docs/results-schema.md)
and turned into text (percentages, intervals, percentage points, verdict labels). Nothing
here computes a statistic; the few counts it shows (images with ignore pixels, the number
of gated groups per verdict) are tallies of values already in the documents.
Missing keys render as "—" so that a results document of kind "table" (published
figures, no per-image data) renders with the same templates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..data.dataset import NOT_ANNOTATED
from ..data.vocabularies import standard_vocabularies
from .card_text import CardText

DASH = "—"

# Verdict -> (short label for tables, CSS class). The order is the severity order.
VERDICTS: dict[str, tuple[str, str]] = {
    "violation": ("violation", "bad"),
    "inconclusive": ("inconclusive", "warn"),
    "pass": ("pass", "ok"),
    "not evaluated": ("not evaluated", "na"),
    "not gated": ("not gated", "na"),
}
STATISTIC_LABELS = {
    "mean": "mean of per-image IoU",
    "pooled": "pooled IoU (sum of intersections / sum of unions)",
}
CI_METHOD_LABELS = {"bca": "bias-corrected and accelerated (BCa)", "percentile": "percentile"}


def pct(value: float | None, digits: int = 2) -> str:
    """A fraction as a percentage without the sign: 0.96571 -> '96.57'."""
    if not _is_number(value):
        return DASH
    return f"{100 * value:.{digits}f}"


def points(value: float | None, digits: int = 2, signed: bool = False) -> str:
    """A difference of fractions in percentage points: 0.0252 -> '2.52 pt'."""
    if not _is_number(value):
        return DASH
    text = f"{100 * value:+.{digits}f}" if signed else f"{100 * value:.{digits}f}"
    return text.replace("-", "−") + " pt"


def interval(ci: Sequence[float] | None, digits: int = 2, signed: bool = False) -> str:
    """An interval of fractions in percent (or signed points): [0.95, 0.97] -> '95.00 – 97.00'."""
    if not ci or len(ci) != 2 or not all(_is_number(v) for v in ci):
        return DASH
    if signed:
        low, high = (f"{100 * v:+.{digits}f}".replace("-", "−") for v in ci)
    else:
        low, high = (f"{100 * v:.{digits}f}" for v in ci)
    return f"{low} – {high}"


def count(value: Any) -> str:
    """An integer with thousands separators, or a dash."""
    if not _is_number(value):
        return DASH
    return f"{int(value):,}"


def verdict(value: str | None) -> dict[str, str]:
    """A verdict as {'label', 'css'} for a badge."""
    label, css = VERDICTS.get(value or "", (value or DASH, "na"))
    return {"label": label, "css": css, "value": value or ""}


def worst_verdict(values: Sequence[str | None]) -> str | None:
    """The most severe of verdicts in VERDICTS order (used to headline attribute verdicts)."""
    order = list(VERDICTS)
    known = [v for v in values if v in VERDICTS]
    return min(known, key=order.index) if known else None


def confidence_label(results: Mapping[str, Any]) -> str:
    """'95%' from the bootstrap confidence level, or '95%' when the document gives none."""
    level = (results.get("bootstrap") or {}).get("confidence") or 0.95
    return f"{100 * level:g}%"


def build_context(
    results: Mapping[str, Any],
    card: CardText,
    per_image: pd.DataFrame | None = None,
    results_sha256: str | None = None,
    per_image_sha256: str | None = None,
) -> dict[str, Any]:
    """Everything the HTML, PDF and Markdown templates print, as text."""
    attributes = results.get("attributes") or {}
    level = confidence_label(results)
    model = results.get("model") or {}
    display_name = card.display_name or model.get("name") or "unnamed model"
    return {
        "kind": results.get("kind", "run"),
        "is_table": results.get("kind") == "table",
        "title": f"Model card: {display_name}",
        "display_name": display_name,
        "card": card,
        "confidence": level,
        "headline": _headline(results),
        "verdict_rows": [_verdict_row(name, attr, _gated_criteria(results, name))
                         for name, attr in attributes.items()],
        "model_rows": _model_rows(results, card),
        "dataset": _dataset(results),
        "factors": [_factor(name, attr) for name, attr in attributes.items()],
        "metrics": _metrics(results, per_image),
        "results": [
            _attribute_results(index, name, attr)
            for index, (name, attr) in enumerate(attributes.items())
        ],
        "fairness": _fairness(results),
        "sample_size": [_sample_size(name, attr) for name, attr in attributes.items()],
        "definitions": _definitions(results),
        "reproducibility": _reproducibility(results, card, results_sha256, per_image_sha256),
        "versions": [(k, str(v)) for k, v in (results.get("versions") or {}).items()],
    }


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _headline(results: Mapping[str, Any]) -> dict[str, Any]:
    overall = results.get("overall") or {}
    dataset = results.get("dataset") or {}
    iaa = results.get("inter_annotator_iou") or {}
    attributes = results.get("attributes") or {}
    verdicts = [a.get("verdict") for a in attributes.values()]
    worst = worst_verdict(verdicts)
    flagged = sum(1 for v in verdicts if v in ("violation", "inconclusive"))
    statistic = (results.get("bootstrap") or {}).get("statistic") or (
        (results.get("settings") or {}).get("statistic")
    )
    thresholds = {
        (a.get("criteria") or {}).get("b", {}).get("threshold") for a in attributes.values()
    } - {None}
    return {
        "verdict": verdict(worst),
        "attributes": len(attributes),
        "flagged": flagged,
        "overall_value": pct(overall.get("value")),
        "overall_ci": interval(overall.get("ci")),
        "overall_note": overall.get("note"),
        "overall_label": ("Average IoU" if results.get("kind") == "table"
                          else "Pooled IoU" if statistic == "pooled" else "Mean IoU"),
        "groups": count(sum(len(a.get("groups") or {}) for a in attributes.values())),
        "images": count(overall.get("n") if overall.get("n") is not None else None),
        "rows": count(dataset.get("rows")),
        "iaa": pct(iaa.get("value")),
        "iaa_ci": interval(iaa.get("ci")),
        "threshold_b": points(next(iter(thresholds))) if len(thresholds) == 1 else DASH,
        "date": (results.get("finished") or results.get("started") or "")[:10] or DASH,
    }


def _gated_criteria(results: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """The criteria the configuration gates for an attribute (both unless it says otherwise)."""
    per_attribute = (results.get("settings") or {}).get("per_attribute") or {}
    gate = (per_attribute.get(name) or {}).get("gate")
    return ("a", "b") if gate is None else tuple(str(g) for g in gate)


def _verdict_row(name: str, attr: Mapping[str, Any], gated_criteria: Sequence[str] = ("a", "b")
                 ) -> dict[str, Any]:
    groups = attr.get("groups") or {}
    criteria = attr.get("criteria") or {}
    rng = attr.get("range") or {}

    def criterion_summary(key: str) -> dict[str, Any]:
        """Worst statistical verdict over gated groups; point verdict beside it."""
        gated = [g for g in groups.values() if g.get("gated")]
        stat = worst_verdict([(g.get("verdicts") or {}).get(key, {}).get("statistical")
                              for g in gated])
        point = worst_verdict([(g.get("verdicts") or {}).get(key, {}).get("point")
                               for g in gated])
        return _criterion_cell({"statistical": stat, "point": point})

    gated = sum(1 for g in groups.values() if g.get("gated"))
    return {
        "name": name,
        "groups": len(groups),
        "gated": gated,
        "range": points(rng.get("value")),
        "range_groups": _range_groups(rng),
        "threshold_b": points((criteria.get("b") or {}).get("threshold")),
        "a": criterion_summary("a"),
        "a_can_fire": (criteria.get("a") or {}).get("can_fire", True),
        "ungated": [key for key in ("a", "b") if key not in gated_criteria],
        "b": criterion_summary("b"),
        "verdict": verdict(attr.get("verdict")),
    }


def _range_groups(rng: Mapping[str, Any]) -> str:
    low, high = rng.get("min_group"), rng.get("max_group")
    if low is None or high is None:
        return ""
    return f"{high} − {low}"


def _model_rows(results: Mapping[str, Any], card: CardText) -> list[tuple[str, str]]:
    model = results.get("model") or {}
    rows: list[tuple[str, str]] = [
        ("Name", card.display_name or model.get("name") or DASH),
    ]
    if model.get("name") and model.get("name") != card.display_name:
        rows.append(("Model evaluated", str(model["name"])))
    rows += [
        ("Version", card.version or DASH),
        ("Date", card.date or DASH),
        ("Authors", ", ".join(card.authors) or DASH),
        ("Licence", card.license or DASH),
        ("Contact", card.contact or DASH),
        ("Architecture", card.architecture or DASH),
        ("File", model.get("path") or DASH),
        ("File size", f"{count(model.get('size_bytes'))} bytes"
         if model.get("size_bytes") is not None else DASH),
        ("SHA-256", model.get("sha256") or DASH),
        ("Input", _tensor(model.get("input_shape"), model.get("input_dtype"))),
        ("Output", _tensor(model.get("output_shape"), model.get("output_dtype"),
                           model.get("output_layout"))),
    ]
    # Facts of the model file exist only when images were run; a published table has none.
    file_facts = ("File", "File size", "SHA-256", "Input", "Output")
    return [(label, value) for label, value in rows
            if not (label in file_facts and value == DASH)]


def _tensor(shape: Sequence[int] | None, dtype: str | None, layout: str | None = None) -> str:
    if not shape:
        return DASH
    text = " × ".join(str(s) for s in shape) + (f" {dtype}" if dtype else "")
    if layout == "probability":
        text += ", person probability"
    elif layout == "two_class_logits":
        text += ", background and person logits (softmax across channels)"
    elif layout:
        text += f", {layout}"
    return text


def _dataset(results: Mapping[str, Any]) -> dict[str, Any]:
    dataset = results.get("dataset") or {}
    table = results.get("table") or {}
    if not dataset and table:
        # A published table stands where the dataset would: name it by its file.
        path = str(table.get("path") or "")
        dataset = {"name": path.replace("\\", "/").rsplit("/", 1)[-1] or None, "path": path,
                   "sha256": table.get("sha256"), "rows": table.get("rows")}
    skipped = dataset.get("skipped") or []
    shown = 25
    return {
        "name": dataset.get("name") or DASH,
        "path": dataset.get("path") or DASH,
        "rows": count(dataset.get("rows")),
        "evaluated": count(dataset.get("evaluated")),
        "skipped_count": len(skipped),
        "skipped": [
            {"row": count(s.get("row")), "image": str(s.get("image") or DASH),
             "reason": str(s.get("reason") or DASH)}
            for s in skipped[:shown]
        ],
        "skipped_more": max(0, len(skipped) - shown),
        "sha256": dataset.get("sha256") or DASH,
        "notes": [str(n) for n in dataset.get("notes") or []],
    }


def _factor(name: str, attr: Mapping[str, Any]) -> dict[str, Any]:
    groups = attr.get("groups") or {}
    vocabulary = standard_vocabularies().get(name)
    if attr.get("kind") == "intersection":
        columns = attr.get("columns") or []
        description = "Intersection of " + " × ".join(str(c) for c in columns) + "."
    elif vocabulary is not None:
        description = f"Standard attribute: {vocabulary.description}"
    else:
        description = "Free attribute: its groups are the values found in the data."
    absent = []
    if vocabulary is not None:
        absent = [v for v in vocabulary.values if v not in groups]
    not_annotated = groups.get(NOT_ANNOTATED) or {}
    return {
        "name": name,
        "description": description,
        "groups": [
            {
                "name": group,
                "n": count(g.get("n")),
                "share": pct(g.get("share")) + " %" if _is_number(g.get("share")) else DASH,
                "small": bool(g.get("small_group")),
                "not_annotated": bool(g.get("not_annotated")),
                "meaning": vocabulary.values.get(group, "") if vocabulary else "",
            }
            for group, g in groups.items()
        ],
        "has_share": any(_is_number(g.get("share")) for g in groups.values()),
        "has_n": any(_is_number(g.get("n")) for g in groups.values()),
        "not_annotated": count(not_annotated.get("n")) if not_annotated else "0",
        "absent": absent,
    }


def _metrics(results: Mapping[str, Any], per_image: pd.DataFrame | None) -> dict[str, Any]:
    settings = results.get("settings") or {}
    boot = results.get("bootstrap") or {}
    overall = results.get("overall") or {}
    statistic = boot.get("statistic") or settings.get("statistic") or "mean"
    ignore_images = None
    if per_image is not None and "ignored_pixels" in per_image:
        ignored = pd.to_numeric(per_image["ignored_pixels"], errors="coerce").fillna(0)
        ignore_images = int((ignored > 0).sum())
    threshold = settings.get("threshold")
    return {
        "threshold": f"{threshold:g}" if _is_number(threshold) else DASH,
        "statistic": STATISTIC_LABELS.get(statistic, statistic),
        "both_empty": count(overall.get("both_empty")),
        "ignore_images": count(ignore_images) if ignore_images is not None else None,
        "method": CI_METHOD_LABELS.get(boot.get("method"), boot.get("method") or DASH),
        "resamples": count(boot.get("resamples")),
        "confidence": confidence_label(results),
        "seed": str(boot["seed"]) if boot.get("seed") is not None else DASH,
        "has_bootstrap": bool(boot),
        "min_group_size": count(settings.get("min_group_size")),
    }


def _attribute_results(index: int, name: str, attr: Mapping[str, Any]) -> dict[str, Any]:
    groups = attr.get("groups") or {}
    criteria = attr.get("criteria") or {}
    rows = []
    for group, g in groups.items():
        verdicts = g.get("verdicts") or {}
        flags = []
        if g.get("not_annotated") and group != NOT_ANNOTATED:
            flags.append(("not annotated", "na"))
        if g.get("small_group"):
            flags.append(("small group", "warn"))
        stat = [v.get("statistical") for v in verdicts.values()]
        point = [v.get("point") for v in verdicts.values()]
        if "violation" in stat:
            flags.append(("violation", "bad"))
        elif "violation" in point:
            flags.append(("point violation", "warn"))
        if g.get("note"):
            flags.append((str(g["note"]), "note"))
        worst = worst_verdict(stat) if g.get("gated") else None
        rows.append({
            "group": group,
            "n": count(g.get("n")),
            "share": pct(g.get("share")) + " %" if _is_number(g.get("share")) else DASH,
            "value": pct(g.get("value")),
            "ci": interval(g.get("ci")),
            "deviation": points(g.get("deviation"), signed=True),
            "deviation_ci": interval(g.get("deviation_ci"), signed=True),
            "a": _criterion_cell(verdicts.get("a")),
            "z": (f"z = {g['z']:+.2f}".replace("-", "−") if _is_number(g.get("z")) else ""),
            "b": _criterion_cell(verdicts.get("b")),
            "flags": flags,
            "row_css": {"violation": "row-bad", "inconclusive": "row-warn"}.get(worst or "", ""),
            "gated": bool(g.get("gated")),
        })
    a = criteria.get("a") or {}
    b = criteria.get("b") or {}
    notes = [str(n) for n in (a.get("note"), b.get("note"), *(attr.get("notes") or [])) if n]
    if attr.get("verdict_basis") == "point":
        notes.append("No intervals for some gated group: the verdict rests on the point "
                     "verdicts.")
    return {
        "anchor": f"attribute-{index + 1}",
        "name": name,
        "kind": attr.get("kind") or "attribute",
        "reference": pct(attr.get("reference")),
        "reference_kind": _reference_label(attr.get("reference_kind")),
        "rows": rows,
        "has_share": any(_is_number(g.get("share")) for g in groups.values()),
        "has_n": any(_is_number(g.get("n")) for g in groups.values()),
        "has_ci": any(g.get("ci") for g in groups.values()),
        "has_deviation_ci": any(g.get("deviation_ci") for g in groups.values()),
        "notes": notes,
        "verdict": verdict(attr.get("verdict")),
    }


def _criterion_cell(verdicts: Mapping[str, Any] | None) -> dict[str, Any]:
    """The verdict a table cell leads with, and the other form beside it.

    Leads with the statistical verdict; where there is none (a published table without
    intervals) it leads with the point verdict, marked as such.
    """
    verdicts = verdicts or {}
    statistical = verdict(verdicts.get("statistical"))
    point = verdict(verdicts.get("point"))
    if statistical["value"] in ("", "not evaluated") and point["value"] in ("pass", "violation"):
        main = dict(point, label=f"{point['label']} (point)")
        other = ""
    else:
        main = statistical
        other = "" if point["value"] == statistical["value"] else f"point: {point['label']}"
    return {"statistical": statistical, "point": point, "main": main, "other": other}


def _reference_label(kind: str | None) -> str:
    return {
        "overall": ("the image-level mean over the images annotated for this attribute "
                    "(the card's “average” when every image is annotated)"),
        "group-mean": "the unweighted mean of the group means",
    }.get(kind or "", kind or DASH)


def _fairness(results: Mapping[str, Any]) -> dict[str, Any]:
    iaa = results.get("inter_annotator_iou") or {}
    source = iaa.get("source")
    if source == "dataset":
        annotators = ", ".join(iaa.get("annotators") or []) or "other annotators"
        origin = (f"computed from the dataset's second annotations ({annotators}) over "
                  f"{count(iaa.get('n_images'))} images: per image the mean IoU over all "
                  f"annotator pairs including the primary mask, then the mean over images")
    elif source == "option":
        origin = "given on the command line (--inter-annotator-iou) or in the configuration"
    else:
        origin = None
    per_attribute = []
    for name, attr in (results.get("attributes") or {}).items():
        criteria = attr.get("criteria") or {}
        a = criteria.get("a") or {}
        b = criteria.get("b") or {}
        rng = attr.get("range") or {}
        range_threshold = rng.get("threshold")
        exceeds = rng.get("exceeds_threshold")
        per_attribute.append({
            "name": name,
            "k": count(attr.get("k")),
            "reference": pct(attr.get("reference")),
            "reference_kind": _reference_label(attr.get("reference_kind")),
            "sd": points(attr.get("sd")),
            "max_attainable_sd": f"{attr['max_attainable_sd']:.2f}"
            if _is_number(attr.get("max_attainable_sd")) else DASH,
            "a_factor": f"{a['factor']:g}" if _is_number(a.get("factor")) else DASH,
            "a_ddof": str(a.get("ddof", DASH)),
            "a_threshold": points(a.get("threshold")),
            "a_can_fire": a.get("can_fire", True),
            "a_note": a.get("note"),
            "b_threshold": points(b.get("threshold")),
            "b_evaluated": b.get("evaluated", True),
            "b_note": b.get("note"),
            "range": points(rng.get("value")),
            "range_groups": _range_groups(rng),
            "range_threshold": points(range_threshold),
            "range_exceeds": exceeds,
            "verdict": verdict(attr.get("verdict")),
        })
    return {
        "iaa": pct(iaa.get("value")),
        "iaa_ci": interval(iaa.get("ci")),
        "iaa_note": iaa.get("note"),
        "iaa_origin": origin,
        "iaa_available": _is_number(iaa.get("value")),
        "attributes": per_attribute,
    }


def _sample_size(name: str, attr: Mapping[str, Any]) -> dict[str, Any]:
    rows = []
    for group, g in (attr.get("groups") or {}).items():
        needed = g.get("n_needed")
        n = g.get("n")
        if _is_number(needed) and _is_number(n):
            status = ("enough" if n >= needed else f"about {count(needed - n)} more images")
        else:
            status = DASH
        rows.append({"group": group, "n": count(n), "n_needed": count(needed), "status": status,
                     "enough": _is_number(needed) and _is_number(n) and n >= needed})
    return {"name": name, "rows": rows,
            "any": any(r["n_needed"] != DASH for r in rows)}


def _definitions(results: Mapping[str, Any]) -> list[tuple[str, str]]:
    level = confidence_label(results)
    return [
        ("IoU", "Intersection over union of the predicted and the ground-truth person masks of "
                "an image: pixels in both divided by pixels in either, ignored pixels left out."),
        ("Mean IoU", "The average of per-image IoUs: every image counts equally (the statistic "
                     "of the MediaPipe card)."),
        ("Pooled IoU", "Sum of intersections over sum of unions across images: large people "
                       "weigh more."),
        ("Reference (“average”)", "The figure the criteria measure deviations from: the "
                                  "image-level mean over the images annotated for the "
                                  "attribute (over all images when all are annotated, as in "
                                  "the MediaPipe card), or with --reference group-mean the "
                                  "unweighted mean of the gated groups' means."),
        ("Deviation", "A group's IoU minus the reference, in percentage points (pt)."),
        ("Criterion (a)", "A group performs poorly if it lies more than 3 standard deviations "
                          "(of the group means) from the reference. With k groups no group can "
                          "lie more than √(k − 1) SD from their mean, so for k ≤ 10 it cannot "
                          "fire."),
        ("Criterion (b)", "A group performs poorly if it lies further than twice the human "
                          "annotation error, 2 × (1 − inter-annotator IoU), from the reference."),
        ("Inter-annotator IoU", "The IoU between masks drawn independently by different "
                                "people for the same images: the agreement a model can "
                                "reasonably be held to."),
        (f"{level} interval", "Bootstrap confidence interval: images are resampled with "
                              "replacement within each group, the statistic recomputed for "
                              "each resample, and the interval read from the resampled values."),
        ("Statistical verdict", "violation when the whole interval of a group's deviation "
                                "lies beyond the threshold, pass when it lies wholly within, "
                                "inconclusive otherwise."),
        ("Point verdict", "The card's literal reading: the deviation itself compared with the "
                          "threshold, without regard to uncertainty."),
        ("Small group", "A group with fewer images than the minimum group size: shown with its "
                        "interval, never gated."),
        ("Not annotated", "Images without a value for the attribute: reported as their own "
                          "group, never gated."),
        ("Images needed", "How many images a group would need for its interval's half-width "
                          "to fall below half the criterion (b) threshold, from its observed "
                          "spread."),
    ]


def _reproducibility(
    results: Mapping[str, Any],
    card: CardText,
    results_sha256: str | None,
    per_image_sha256: str | None,
) -> list[tuple[str, str]]:
    model = results.get("model") or {}
    dataset = results.get("dataset") or {}
    config = results.get("config") or {}
    boot = results.get("bootstrap") or {}
    rows = [
        ("Command", results.get("command") or DASH),
        ("Started", results.get("started") or DASH),
        ("Finished", results.get("finished") or DASH),
        ("Seed", str(boot["seed"]) if boot.get("seed") is not None else DASH),
        ("Results schema", str(results.get("schema_version") or DASH)),
        ("Model SHA-256", model.get("sha256") or DASH),
        ("Dataset", dataset.get("path") or DASH),
        ("Dataset SHA-256", dataset.get("sha256") or DASH),
        ("Configuration", f"{config.get('source') or 'defaults and command line'}"
                          + (f" (SHA-256 {config['sha256']})" if config.get("sha256") else "")),
        ("results.json SHA-256", results_sha256 or DASH),
    ]
    if per_image_sha256:
        rows.append(("per_image.csv SHA-256", per_image_sha256))
    rows.append(("Card text", "; ".join(card.sources) or "none given"))
    return rows
