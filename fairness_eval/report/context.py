"""results.json -> the values the card templates print, already formatted.

Formatting only: every figure is read from the typed results document
(docs/results-schema.md) and turned into text by formatting.py. Nothing here computes a
statistic; the few counts it shows (images with ignore pixels, the number of gated groups
per verdict) are tallies of values already in the documents. The verdict box and each
attribute's verdict are the gate's (ci/gate.py, the same checks `run --gate`, `check` and
the CI outputs read): an attribute nothing gates is "not gated", whatever it reports.
Missing values render as "—" so that a results document of kind "table" (published
figures, no per-image data) renders with the same templates. This module holds the
card's first sections; sections.py the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..ci.gate import GateReport, gate_report
from ..results.assessment import AttributeAssessment, CriterionVerdicts
from ..results.names import CRITERIA
from ..results.provenance import DatasetRecord, SubsetRecord
from ..results.schema import ResultsDocument, as_document
from ..results.vocabularies import standard_vocabularies
from . import sections
from .bounds import hidden_attributes, shown_attributes
from .card_text import CardText
from .conditions_section import adjusted_figures, conditions_section
from .formatting import (
    CI_METHOD_LABELS,
    DASH,
    STATISTIC_LABELS,
    confidence_label,
    count,
    criterion_cell,
    interval,
    is_number,
    pct,
    points,
    range_groups,
    share,
    tensor,
    verdict,
    worst_verdict,
)
from .judged import judged_figure, methods_context
from .label_section import label_section
from .model_facts import spec_rows, supplied_rows


def build_context(
    results: ResultsDocument | Mapping[str, Any],
    card: CardText,
    per_image: pd.DataFrame | None = None,
    results_sha256: str | None = None,
    per_image_sha256: str | None = None,
    gate: GateReport | None = None,
) -> dict[str, Any]:
    """Everything the HTML, PDF and Markdown templates print, as text.

    `gate`: the gate just applied (the CI step summary); None: the gate under the policy
    the document recorded, as `check` on the folder applies it.
    """
    results = as_document(results)
    gate = gate_report(results) if gate is None else gate
    attributes = list(results.attributes.values())
    in_full = shown_attributes(attributes, results.lower_is_better)
    display_name = card.display_name or results.model_name or "unnamed model"
    return {
        "kind": results.kind,
        "is_table": results.is_table,
        "title": f"Model card: {display_name}",
        "display_name": display_name,
        "card": card,
        "confidence": confidence_label(results),
        "headline": _headline(results, gate),
        "verdict_rows": [_verdict_row(attr, results.gated_criteria(attr.name), gate)
                         for attr in attributes],
        "model_rows": _model_rows(results, card),
        "dataset": _dataset(results),
        # Attributes and groups beyond the card's bounds: in results.json and per_image.csv.
        "factors": [{**_factor(shown.attribute), "hidden_groups": shown.hidden_groups}
                    for shown in in_full],
        "metrics": _metrics(results, per_image),
        "video": methods_context(results),
        "results": [{**sections.attribute_results(shown.index, shown.attribute,
                                                  results.sd_factor, unit=results.unit),
                     "hidden_groups": shown.hidden_groups} for shown in in_full],
        "hidden_attributes": hidden_attributes(attributes, in_full),
        "fairness": _in_full(sections.fairness(results), in_full),
        "sample_size": [sections.sample_size(shown.attribute, judged_figure(results).units)
                        for shown in in_full],
        "definitions": sections.definitions(results),
        "reproducibility": sections.reproducibility(results, card, results_sha256,
                                                    per_image_sha256),
        "versions": [(k, str(v)) for k, v in (results.versions or {}).items()],
        "conditions": conditions_section(results),
        "adjusted": adjusted_figures(results),
        "labels": label_section(results),
    }


def _in_full(fairness: dict[str, Any], in_full: Sequence[Any]) -> dict[str, Any]:
    """The criteria section with the rows of the attributes shown in full (bounds.py); the
    fairness summary keeps every attribute's verdict."""
    names = {shown.attribute.name for shown in in_full}
    return {**fairness, "attributes": [a for a in fairness["attributes"] if a["name"] in names]}


def _gate_summary(gate: GateReport) -> dict[str, Any]:
    """The verdict box: the gate's outcome and each outcome's count of attributes, never
    lumped together (an inconclusive attribute is not a violation; one nothing gates is
    not a pass)."""
    tally = gate.tally()
    total = sum(tally.values())
    counted = ", ".join(f"{n} {outcome}" for outcome, n in tally.items() if n)
    noun = "attribute" if total == 1 else "attributes"
    if gate.empty:
        note = (f"nothing gated in {total} {noun}: {'; '.join(gate.missing)}" if total
                else "no attribute evaluated")
    else:
        note = f"{total} {noun}: {counted}"
    return {"verdict": verdict(gate.overall()), "tally": tally, "note": note,
            "gate_on": gate.gate_on, "empty": gate.empty}


def _headline(results: ResultsDocument, gate: GateReport) -> dict[str, Any]:
    overall = results.overall
    attributes = results.attributes.values()
    verdicts = [a.verdict for a in attributes]
    summary = _gate_summary(gate)
    thresholds = {a.criterion_b.threshold for a in attributes} - {None}
    statistic = results.statistic
    label = judged_figure(results).label
    moment = results.finished or results.started or ""
    return {
        "verdict": summary["verdict"],
        "verdict_note": summary["note"],
        "tally": summary["tally"],
        "gate_on": summary["gate_on"],
        "attributes": len(verdicts),
        "overall_value": pct(overall.value),
        "overall_ci": interval(overall.ci),
        "overall_note": overall.note,
        "overall_label": (f"Average {label}" if results.is_table
                          else f"Pooled {label}" if statistic == "pooled" else f"Mean {label}"),
        "groups": count(sum(len(a.groups) for a in attributes)),
        "images": count(overall.n),
        "rows": count(results.dataset.rows if results.dataset else None),
        "iaa": pct(results.inter_annotator_iou.value),
        "iaa_ci": interval(results.inter_annotator_iou.ci),
        "threshold_b": points(next(iter(thresholds))) if len(thresholds) == 1 else DASH,
        "date": moment[:10] or DASH,
    }


def _verdict_row(attr: AttributeAssessment, gated_criteria: Sequence[str] = CRITERIA,
                 gate: GateReport | None = None) -> dict[str, Any]:
    gated = attr.gated_groups()

    def criterion_summary(key: str) -> dict[str, Any]:
        """Worst statistical verdict over gated groups; point verdict beside it."""
        stat = worst_verdict([g.verdict(key).statistical for g in gated])
        point = worst_verdict([g.verdict(key).point for g in gated])
        return criterion_cell(CriterionVerdicts(point=point, statistical=stat))

    return {
        "name": attr.name,
        "groups": len(attr.groups),
        "gated": len(gated),
        "range": points(attr.range.value if attr.range else None),
        "range_groups": range_groups(attr.range),
        "threshold_b": points(attr.criterion_b.threshold),
        "a": criterion_summary("a"),
        "a_can_fire": attr.criterion_a.can_fire,
        "ungated": [key for key in CRITERIA if key not in gated_criteria],
        "b": criterion_summary("b"),
        # The gate's outcome; what the attribute reports is shown beside when it differs.
        "verdict": verdict(gate.outcome(attr.name) if gate is not None else attr.verdict),
        "reported": (verdict(attr.verdict) if gate is not None
                     and gate.outcome(attr.name) != attr.verdict and attr.verdict else None),
    }


def _model_rows(results: ResultsDocument, card: CardText) -> list[tuple[str, str]]:
    model = results.model
    name = model.name if model else None
    rows: list[tuple[str, str]] = [("Name", card.display_name or name or DASH)]
    if name and card.display_name and name != card.display_name:
        rows.append(("Model evaluated", str(name)))
    size = model.size_bytes if model else None
    rows += [
        ("Version", card.version or DASH),
        ("Date", card.date or DASH),
        ("Authors", ", ".join(card.authors) or DASH),
        ("Licence", card.license or DASH),
        ("Contact", card.contact or DASH),
        ("Architecture", card.architecture or DASH),
    ]
    if model is not None and model.supplied:
        return rows + supplied_rows(model)
    rows += [
        ("File", (model.path if model else None) or DASH),
        ("File size", f"{count(size)} bytes" if size is not None else DASH),
        ("SHA-256", (model.sha256 if model else None) or DASH),
        ("Input", tensor(model.input_shape, model.input_dtype) if model else DASH),
        ("Output", tensor(model.output_shape, model.output_dtype, model.output_layout)
         if model else DASH),
        *(spec_rows(model) if model else []),
    ]
    # Facts of the model file exist only when images were run; a published table has none.
    file_facts = ("File", "File size", "SHA-256", "Input", "Output")
    return [(label, value) for label, value in rows
            if not (label in file_facts and value == DASH)]


def _dataset(results: ResultsDocument) -> dict[str, Any]:
    # A published table stands where the dataset would (evaluated_data names it by its file).
    dataset = results.evaluated_data or DatasetRecord()
    skipped = dataset.skipped or ()
    shown = 25
    return {
        "name": dataset.name or DASH,
        "path": dataset.path or DASH,
        "rows": count(dataset.rows),
        "evaluated": count(dataset.evaluated),
        "skipped_count": len(skipped),
        "skipped": [
            {"row": count(s.row), "image": str(s.image or DASH), "reason": str(s.reason or DASH)}
            for s in skipped[:shown]
        ],
        "skipped_more": max(0, len(skipped) - shown),
        "sha256": dataset.sha256 or DASH,
        "notes": [str(n) for n in dataset.notes or ()],
        "subset": subset_line(dataset.subset, judged_figure(results).units),
    }


def subset_line(subset: SubsetRecord | None, units: str) -> str:
    """What part of the dataset --limit or --sample took, in words ("" for all of it)."""
    if subset is None:
        return ""
    taken, available = count(subset.taken), count(subset.available)
    if subset.sample is not None:
        return f"a sample of {taken} of {available} {units} (seed {subset.seed})"
    return f"the first {taken} of {available} {units}"


def _factor(attr: AttributeAssessment) -> dict[str, Any]:
    groups = attr.groups
    vocabulary = standard_vocabularies().get(attr.name)
    if attr.kind == "intersection":
        description = "Intersection of " + " × ".join(attr.columns or ()) + "."
    elif vocabulary is not None:
        description = f"Standard attribute: {vocabulary.description}"
    else:
        description = "Free attribute: its groups are the values found in the data."
    absent = [v for v in vocabulary.values if v not in groups] if vocabulary is not None else []
    # by the flag: a group in the data may be named "(not annotated)"
    not_annotated = next((g for g in groups.values() if g.is_not_annotated), None)
    return {
        "name": attr.name,
        "description": description,
        "groups": [
            {
                "name": group,
                "n": count(g.n),
                "share": share(g.share),
                "small": g.small_group,
                "not_annotated": g.not_annotated,
                "meaning": vocabulary.values.get(group, "") if vocabulary else "",
            }
            for group, g in groups.items()
        ],
        "has_share": any(is_number(g.share) for g in groups.values()),
        "has_n": any(is_number(g.n) for g in groups.values()),
        "not_annotated": count(not_annotated.n) if not_annotated else "0",
        "absent": absent,
    }


def _metrics(results: ResultsDocument, per_image: pd.DataFrame | None) -> dict[str, Any]:
    boot = results.bootstrap
    ignore_images = None
    if per_image is not None and "ignored_pixels" in per_image:
        # A tally of a recorded column, not a statistic.
        ignored = pd.to_numeric(per_image["ignored_pixels"], errors="coerce").fillna(0)
        ignore_images = int((ignored > 0).sum())
    threshold = results.settings.mask_threshold
    method = boot.method if boot else None
    seed = boot.seed if boot else None
    return {
        "threshold": f"{threshold:g}" if is_number(threshold) else DASH,
        "statistic": STATISTIC_LABELS.get(results.statistic, results.statistic),
        "both_empty": count(results.overall.both_empty),
        "ignore_images": count(ignore_images) if ignore_images is not None else None,
        "method": CI_METHOD_LABELS.get(method, method or DASH),
        "resamples": count(boot.resamples if boot else None),
        "confidence": confidence_label(results),
        "seed": str(seed) if seed is not None else DASH,
        "has_bootstrap": boot is not None,
        "min_group_size": count(results.settings.min_group_size),
    }


# Formatting helpers that tests and older callers import from here.
__all__ = ["DASH", "build_context", "interval", "pct", "points", "verdict", "worst_verdict"]
