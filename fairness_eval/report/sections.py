"""The card's later sections as template values: per-attribute results, the fairness criteria,
sample size, the glossary and the reproducibility facts.

Each function reads the typed results document and returns text formatted by
formatting.py; nothing here computes a statistic.
"""

from __future__ import annotations

from typing import Any

from ..results.assessment import AttributeAssessment
from ..results.schema import ResultsDocument
from .card_text import CardText
from .formatting import (
    DASH,
    confidence_label,
    count,
    criterion_a_definition,
    criterion_cell,
    factor,
    interval,
    is_number,
    pct,
    points,
    range_groups,
    reference_label,
    share,
    verdict,
    worst_verdict,
)
from .judged import judged_figure


def attribute_results(index: int, attr: AttributeAssessment,
                      sd_factor: float | None = None, *, unit: str = "image") -> dict[str, Any]:
    """One attribute's results table: a row per group with its figures, verdicts and flags.

    `sd_factor`: criterion (a)'s factor where the attribute records none (the document's);
    `unit`: what n counts (the document's `unit`, image or clip).
    """
    rows = []
    for group, g in attr.groups.items():
        flags = []
        if g.is_not_annotated:
            flags.append(("not annotated", "na"))
        if g.small_group:
            flags.append(("small group", "warn"))
        stat = [v.statistical for v in g.verdicts.values()]
        point = [v.point for v in g.verdicts.values()]
        if "violation" in stat:
            flags.append(("violation", "bad"))
        elif "violation" in point:
            flags.append(("point violation", "warn"))
        if g.note:
            flags.append((str(g.note), "note"))
        worst = worst_verdict(stat) if g.gated else None
        rows.append({
            "group": group,
            "n": count(g.n),
            "share": share(g.share),
            "value": pct(g.value),
            "ci": interval(g.ci),
            "deviation": points(g.deviation, signed=True),
            "deviation_ci": interval(g.deviation_ci, signed=True),
            "a": criterion_cell(g.verdict("a")),
            "z": f"z = {g.z:+.2f}".replace("-", "−") if is_number(g.z) else "",
            "b": criterion_cell(g.verdict("b")),
            "flags": flags,
            "row_css": {"violation": "row-bad", "inconclusive": "row-warn"}.get(worst or "", ""),
            "gated": g.gated,
        })
    a, b = attr.criterion_a, attr.criterion_b
    notes = [str(n) for n in (a.note, b.note, *attr.notes) if n]
    if attr.verdict_basis == "point":
        notes.append("No intervals for some gated group: the verdict rests on the point "
                     "verdicts.")
    groups = list(attr.groups.values())
    return {
        "anchor": f"attribute-{index + 1}",
        "name": attr.name,
        "kind": attr.kind,
        "reference": pct(attr.reference),
        "reference_kind": reference_label(attr.reference_kind, unit),
        "sd_factor": factor(a.factor if a.factor is not None else sd_factor),
        "rows": rows,
        "has_share": any(is_number(g.share) for g in groups),
        "has_n": any(is_number(g.n) for g in groups),
        "has_ci": any(g.ci for g in groups),
        "has_deviation_ci": any(g.deviation_ci for g in groups),
        "notes": notes,
        "verdict": verdict(attr.verdict),
    }


def fairness(results: ResultsDocument) -> dict[str, Any]:
    """The criteria section: inter-annotator IoU and where it came from, per attribute the
    reference, SD, thresholds and range."""
    iaa = results.inter_annotator_iou
    if iaa.source == "dataset":
        annotators = ", ".join(iaa.annotators) or "other annotators"
        origin = (f"computed from the dataset's second annotations ({annotators}) over "
                  f"{count(iaa.n_images)} images: per image the mean IoU over all "
                  f"annotator pairs including the primary mask, then the mean over images")
    elif iaa.source == "option":
        origin = "given on the command line (--inter-annotator-iou) or in the configuration"
    else:
        origin = None
    per_attribute = []
    for name, attr in results.attributes.items():
        a, b, rng = attr.criterion_a, attr.criterion_b, attr.range
        per_attribute.append({
            "name": name,
            "k": count(attr.k),
            "reference": pct(attr.reference),
            "reference_kind": reference_label(attr.reference_kind, results.unit),
            "sd": points(attr.sd),
            "max_attainable_sd": f"{attr.max_attainable_sd:.2f}"
            if is_number(attr.max_attainable_sd) else DASH,
            "a_factor": factor(a.factor),
            "a_ddof": DASH if a.ddof is None else str(a.ddof),
            "a_threshold": points(a.threshold),
            "a_can_fire": a.can_fire,
            "a_note": a.note,
            "b_threshold": points(b.threshold),
            "b_evaluated": b.evaluated,
            "b_note": b.note,
            "range": points(rng.value if rng else None),
            "range_groups": range_groups(rng),
            "range_threshold": points(rng.threshold if rng else None),
            "range_exceeds": rng.exceeds_threshold if rng else None,
            "verdict": verdict(attr.verdict),
        })
    return {
        "iaa": pct(iaa.value),
        "iaa_ci": interval(iaa.ci),
        "iaa_note": iaa.note,
        "iaa_origin": origin,
        "iaa_available": is_number(iaa.value),
        "attributes": per_attribute,
    }


def sample_size(attr: AttributeAssessment, units: str = "images") -> dict[str, Any]:
    """Per group: its images (or clips: `units`), the number its interval would need, and
    whether it has them."""
    rows = []
    for group, g in attr.groups.items():
        needed, n = g.n_needed, g.n
        enough = is_number(needed) and is_number(n) and n >= needed
        if is_number(needed) and is_number(n):
            status = "enough" if enough else f"about {count(needed - n)} more {units}"
        else:
            status = DASH
        rows.append({"group": group, "n": count(n), "n_needed": count(needed), "status": status,
                     "enough": enough})
    return {"name": attr.name, "rows": rows, "any": any(r["n_needed"] != DASH for r in rows)}


def definitions(results: ResultsDocument) -> list[tuple[str, str]]:
    """The glossary; criterion (a) states the factor the run recorded, and the entries
    name the judged metric and what n counts (images or clips) as the document records."""
    level = confidence_label(results)
    figure = judged_figure(results)
    unit, units, label = figure.unit, figure.units, figure.label
    worse = " A positive deviation is the worse one." if figure.lower_is_better else ""
    return [
        ("IoU", "Intersection over union of the predicted and the ground-truth person masks of "
                "an image: pixels in both divided by pixels in either, ignored pixels left out."),
        ("Mean IoU", "The average of per-image IoUs: every image counts equally (the statistic "
                     "of the MediaPipe card)."),
        ("Pooled IoU", "Sum of intersections over sum of unions across images: large people "
                       "weigh more."),
        ("Reference (“average”)", f"The figure the criteria measure deviations from: the "
                                  f"{unit}-level mean over the {units} of the gated groups "
                                  f"(annotated, at least the minimum group size: over all "
                                  f"{units} when all are, as in the MediaPipe card; a group "
                                  "too small to judge does not move it), or with --reference "
                                  "group-mean the unweighted mean of the gated groups' means."),
        ("Deviation", f"A group's {label} minus the reference, in percentage points "
                      f"(pt).{worse}"),
        ("Criterion (a)", criterion_a_definition(
            results.sd_factor, results.sd_ddof,
            "group-mean" if {a.reference_kind for a in results.attributes.values()}
            == {"group-mean"} else "overall")),
        ("Criterion (b)", "A group performs poorly if it lies further than twice the human "
                          "annotation error, 2 × (1 − inter-annotator IoU), from the reference."),
        ("Inter-annotator IoU", "The IoU between masks drawn independently by different "
                                "people for the same images: the agreement a model can "
                                "reasonably be held to."),
        (f"{level} interval", f"Bootstrap confidence interval: {units} are resampled with "
                              "replacement within each group, the statistic recomputed for "
                              "each resample, and the interval read from the resampled values."),
        ("Statistical verdict", "violation when the whole interval of a group's deviation "
                                "lies beyond the threshold, pass when it lies wholly within, "
                                "inconclusive otherwise."),
        ("Point verdict", "The card's literal reading: the deviation itself compared with the "
                          "threshold, without regard to uncertainty."),
        ("Small group", f"A group with fewer {units} than the minimum group size: shown with "
                        "its interval, never gated."),
        ("Not annotated", f"{units.capitalize()} without a value for the attribute: reported "
                          "as their own group, never gated."),
        (f"{units.capitalize()} needed", f"How many {units} a group would need for its "
                                         "interval's half-width to fall below half the "
                                         "criterion (b) threshold, from its observed spread."),
    ]


# --exif as the card names it (config/rules.py EXIF_CHOICES).
EXIF_LABELS = {
    "ignore": "not applied: images scored as stored (--exif ignore)",
    "rotate": "applied: images turned upright before scoring (--exif rotate)",
}


def reproducibility(results: ResultsDocument, card: CardText, results_sha256: str | None,
                    per_image_sha256: str | None) -> list[tuple[str, str]]:
    """What it takes to reproduce the card: command, times, seed, hashes, card text sources."""
    model, dataset, config = results.model, results.evaluated_data, results.config
    seed = results.bootstrap.seed if results.bootstrap else None
    source = (config.source if config else None) or "defaults and command line"
    config_hash = config.sha256 if config else None
    rows = [
        ("Command", results.command or DASH),
        ("Started", results.started or DASH),
        ("Finished", results.finished or DASH),
        ("Seed", str(seed) if seed is not None else DASH),
        ("Results schema", str(results.schema_version or DASH)),
        ("Predictions folder SHA-256" if model and model.supplied else "Model SHA-256",
         (model.sha256 if model else None) or DASH),
        ("Dataset", (dataset.path if dataset else None) or DASH),
        ("Dataset SHA-256", (dataset.sha256 if dataset else None) or DASH),
    ]
    if results.unit == "clip":  # video refuses --exif rotate (workflow/run_video.py)
        rows.append(("EXIF orientation", "not applied: frames scored as stored"))
    elif not results.is_table:  # how images were read: a setting every IoU depends on
        exif = results.settings.exif
        rows.append(("EXIF orientation", EXIF_LABELS.get(exif, exif)))
    rows += [
        ("Configuration", source + (f" (SHA-256 {config_hash})" if config_hash else "")),
        ("results.json SHA-256", results_sha256 or DASH),
    ]
    if per_image_sha256:
        rows.append(("per_image.csv SHA-256", per_image_sha256))
    rows.append(("Card text", "; ".join(card.sources) or "none given"))
    return rows
