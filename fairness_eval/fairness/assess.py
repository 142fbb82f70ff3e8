"""The model card's fairness criteria, per attribute, as point and statistical verdicts.

The card calls a group poor if its IoU lies (a) more than 3 standard deviations of the
group means from the average, or (b) more than 2 x (1 - inter-annotator IoU) from it.
For every group this module reports the card's literal point verdict (|deviation| beyond
the threshold) and a statistical verdict from the bootstrap interval of the deviation:
"violation" when the interval lies wholly beyond the threshold, "pass" when wholly within,
"inconclusive" otherwise. Criterion (a) is judged on the standardised deviation
(deviation / SD of the group means), whose interval is bootstrapped with the SD
recomputed in every resample, so the uncertainty of the SD is part of the verdict.

Attainability. With k groups and the SD taken with `ddof`, no group mean lies more than
sqrt((k - 1)(k - ddof) / k) SDs from the mean of the group means (sqrt(k - 1) for the
population SD), since the deviations sum to zero. When the reference is not that mean
(the overall image-level mean), it can lie further by at most |reference - mean| / SD.
When that bound does not exceed the factor, criterion (a) cannot fire: it is reported as
such ("not evaluated", `can_fire` false) instead of passing silently. With the default
factor 3 and population SD this is every attribute with k <= 10 groups.

Gating. Groups smaller than `min_group_size` ("small_group") and the "(not annotated)"
group (images with no value for the attribute) are reported with their intervals but not
gated; k counts the gated groups, which alone enter the SD and the "group-mean" reference.
An attribute's verdict is the worst statistical verdict of its gated groups (violation >
inconclusive > pass), or "not evaluated" when nothing could be gated.

`evaluate` is the entry point for a per-image table (docs/results-schema.md); it returns
the `overall`, `bootstrap`, `inter_annotator_iou` and `attributes` parts of results.json.
`assess_attribute` applies the criteria to figures from any source (also published
tables, see `table.py`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..data.dataset import NOT_ANNOTATED
from ..errors import UsageError
from ..results.jsonvalues import to_jsonable
from ..stats import bootstrap as stats

INTERSECTION_JOINER = "×"
IAA_COLUMN = "inter_annotator_iou"
_VERDICT_RANK = {"pass": 0, "inconclusive": 1, "violation": 2}
# "More than the threshold" ignores float rounding: 0.9 + 0.02 - 0.9 is not beyond 0.02.
_ROUNDING = 1e-12
# Only an empty cell is "not annotated" (as in dataset.py): "NA" may be North America.


def parse_fraction(value: Any, option_name: str) -> float:
    """A fraction in [0, 1] from a fraction (0.9874), a percentage (98.74) or "98.74%".

    Numbers above 1 and up to 100 are read as percentages. UsageError names the option
    for anything else (text that is not a number, NaN, negative, above 100).
    """
    text = str(value).strip()
    percent = text.endswith("%")
    try:
        number = float(text.rstrip("%").strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{option_name}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise UsageError(f"{option_name}: {value!r} is not a finite number")
    if percent or number > 1.0:
        if not 0.0 <= number <= 100.0:
            raise UsageError(f"{option_name}: {value!r} is not a percentage in [0, 100]")
        return number / 100.0
    if number < 0.0:
        raise UsageError(f"{option_name}: {value!r} is negative; give a fraction or percentage")
    return number


def criterion_b_threshold(inter_annotator_iou: float | None) -> float | None:
    """Criterion (b)'s threshold, 2 x (1 - inter-annotator IoU), or None without an IAA."""
    return None if inter_annotator_iou is None else 2.0 * (1.0 - inter_annotator_iou)


def max_attainable_sd(k: int, ddof: int = 0) -> float:
    """Largest |group mean - mean of group means| / SD possible with k groups (NaN if k < 2)."""
    if k < 2 or k - ddof <= 0:
        return float("nan")
    return math.sqrt((k - 1) * (k - ddof) / k)


def is_small(n: int | None, min_group_size: int) -> bool:
    """Whether a group of n images is too small to gate (unknown n: not small)."""
    return n is not None and n < min_group_size


# ---------------------------------------------------------------------------- criteria


@dataclass
class GroupFigures:
    """What the criteria need of one group, from a run (bootstrap) or a published table."""

    label: str
    n: int | None
    value: float
    ci: tuple[float, float] | None = None
    deviation_ci: tuple[float, float] | None = None
    z_ci: tuple[float, float] | None = None  # standardised deviation; derived if absent
    mean_iou: float | None = None
    pooled_iou: float | None = None
    spread: float | None = None  # per-image SD behind the interval, for n_needed
    share: float | None = None  # share of the dataset (published tables)
    not_annotated: bool = False
    note: str | None = None


def _interval_verdict(interval: tuple[float, float] | None, threshold: float,
                      threshold_range: tuple[float, float] | None = None) -> str:
    """Violation when the interval lies wholly beyond the threshold, pass when wholly within.

    With `threshold_range` (a threshold that is itself uncertain), a violation must lie
    beyond its upper end and a pass within its lower end.
    """
    if interval is None:
        return "not evaluated"
    low, high = interval
    lowest, highest = threshold_range or (threshold, threshold)
    beyond, within = highest + _ROUNDING, lowest + _ROUNDING
    if low > beyond or high < -beyond:
        return "violation"
    if -within <= low and high <= within:
        return "pass"
    return "inconclusive"


def _point_verdict(value: float, threshold: float) -> str:
    return "violation" if abs(value) > threshold + _ROUNDING else "pass"


def _worst(verdicts: Sequence[str]) -> str:
    ranked = [v for v in verdicts if v in _VERDICT_RANK]
    return max(ranked, key=_VERDICT_RANK.__getitem__) if ranked else "not evaluated"


def _criterion_a(
    k: int, sd: float, reference: float, gated_mean: float, factor: float, ddof: int
) -> dict[str, Any]:
    """Criterion (a)'s threshold, attainable bound and whether it can fire, with a note."""
    info: dict[str, Any] = {
        "threshold": None, "factor": factor, "ddof": ddof, "can_fire": False, "note": None,
        "max_attainable_sd": None,
    }
    if k < 2 or k - ddof <= 0:
        info["note"] = (
            f"k = {k} gated group(s) with ddof = {ddof}: the SD of group means is undefined; "
            "criterion (a) cannot fire"
        )
        return info
    info["threshold"] = factor * sd
    if not sd > 0:
        info["note"] = "all gated groups have the same value (SD 0); criterion (a) cannot fire"
        return info
    structural = max_attainable_sd(k, ddof)
    offset = abs(reference - gated_mean) / sd
    bound = structural + offset
    info["max_attainable_sd"] = bound
    # A hair of tolerance: at the bound exactly (k = 10, factor 3) "more than" cannot hold.
    info["can_fire"] = bool(bound > factor * (1 + 1e-9))
    formula = f"sqrt({k - 1})" if ddof == 0 else f"sqrt(({k}-1)({k}-{ddof})/{k})"
    where = f"no group can lie more than {formula} = {structural:.2f} SD from the mean of "
    where += "the group means"
    if offset >= 0.005:
        where += (
            f" ({bound:.2f} SD from the reference, which lies {offset:.2f} SD from that mean)"
        )
    if not info["can_fire"]:
        info["note"] = f"with k = {k} groups {where}; criterion (a) at {factor:g} SD cannot fire"
    return info


def _n_needed(spread: float | None, threshold_b: float | None, confidence: float) -> int | None:
    """Images for a normal interval's half-width to fall below threshold_b / 2."""
    if spread is None or threshold_b is None or not np.isfinite(spread) or spread <= 0:
        return None
    if threshold_b <= 0:
        return None
    z = float(ndtri(0.5 + confidence / 2.0))
    return int(math.floor((2.0 * z * spread / threshold_b) ** 2)) + 1


def assess_attribute(
    groups: Sequence[GroupFigures],
    *,
    reference: float,
    reference_kind: str = "overall",
    threshold_b: float | None = None,
    threshold_b_range: tuple[float, float] | None = None,
    sd_factor: float = 3.0,
    sd_ddof: int = 0,
    min_group_size: int = 30,
    confidence: float = 0.95,
    kind: str = "attribute",
    columns: Sequence[str] | None = None,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """One attribute's block of results.json from its groups' figures."""
    gated = [not g.not_annotated and not is_small(g.n, min_group_size) for g in groups]
    gated_values = np.array([g.value for g, ok in zip(groups, gated, strict=True) if ok])
    k = len(gated_values)
    sd = float(stats.group_sd(gated_values, sd_ddof)) if k else float("nan")
    gated_mean = float(gated_values.mean()) if k else float("nan")
    crit_a = _criterion_a(k, sd, reference, gated_mean, sd_factor, sd_ddof)
    a_evaluated = crit_a["can_fire"]
    b_evaluated = threshold_b is not None and k >= 2
    if threshold_b is None:
        b_note = ("no inter-annotator IoU (no other annotators' masks and no "
                  "--inter-annotator-iou): criterion (b) not evaluated")
    elif k < 2:
        b_note = (f"{k} group(s) of at least {min_group_size} annotated images: no groups to "
                  "compare; criterion (b) not evaluated")
    else:
        b_note = None
    crit_b = {"threshold": threshold_b, "evaluated": b_evaluated, "note": b_note,
              "threshold_range": list(threshold_b_range) if threshold_b_range else None}
    if b_evaluated and threshold_b_range:
        crit_b["note"] = (
            "the inter-annotator IoU is itself estimated, so the threshold is uncertain: a "
            f"statistical violation must lie beyond {100 * threshold_b_range[1]:.2f} pt and a "
            f"pass within {100 * threshold_b_range[0]:.2f} pt")

    group_blocks: dict[str, Any] = {}
    statistical: list[str] = []
    point: list[str] = []
    for figures, is_gated in zip(groups, gated, strict=True):
        deviation = figures.value - reference
        z = deviation / sd if np.isfinite(sd) and sd > 0 else None
        z_ci = figures.z_ci
        if z_ci is None and z is not None and figures.deviation_ci is not None:
            # Published table: reference and SD known, only the group's value uncertain.
            z_ci = (figures.deviation_ci[0] / sd, figures.deviation_ci[1] / sd)
        verdicts = {}
        for name, evaluated, estimate, interval, threshold, threshold_range in (
            ("a", a_evaluated, z, z_ci, sd_factor, None),
            ("b", b_evaluated, deviation, figures.deviation_ci, threshold_b, threshold_b_range),
        ):
            if not is_gated:
                verdicts[name] = {"point": "not gated", "statistical": "not gated"}
            elif not evaluated or estimate is None:
                verdicts[name] = {"point": "not evaluated", "statistical": "not evaluated"}
            else:
                verdicts[name] = {
                    "point": _point_verdict(estimate, threshold),
                    "statistical": _interval_verdict(interval, threshold, threshold_range),
                }
                point.append(verdicts[name]["point"])
                statistical.append(verdicts[name]["statistical"])
        block = {
            "n": figures.n,
            "mean_iou": figures.mean_iou,
            "pooled_iou": figures.pooled_iou,
            "value": figures.value,
            "ci": list(figures.ci) if figures.ci is not None else None,
            "deviation": deviation,
            "deviation_ci": list(figures.deviation_ci) if figures.deviation_ci else None,
            "z": z,
            "z_ci": list(z_ci) if z_ci is not None else None,
            "verdicts": verdicts,
            "small_group": is_small(figures.n, min_group_size),
            "not_annotated": figures.not_annotated,
            "gated": is_gated,
            "n_needed": _n_needed(figures.spread, threshold_b, confidence),
            "note": figures.note,
        }
        if figures.share is not None:
            block["share"] = figures.share
        group_blocks[figures.label] = block

    point_verdict = _worst(point)
    if "not evaluated" in statistical:
        # Some gated group has no interval (a published table without CIs): the card's
        # point verdicts are all there is.
        verdict, basis = point_verdict, "point"
    else:
        verdict, basis = _worst(statistical), "statistical"
    if verdict == "not evaluated":
        basis = None

    gated_groups = [g for g, ok in zip(groups, gated, strict=True) if ok]
    value_range = None
    if len(gated_groups) >= 2:  # the range of a single group says nothing
        low = min(gated_groups, key=lambda g: g.value)
        high = max(gated_groups, key=lambda g: g.value)
        spread_value = high.value - low.value
        value_range = {
            "value": spread_value,
            "min_group": low.label,
            "max_group": high.label,
            "threshold": threshold_b,
            "exceeds_threshold": None if threshold_b is None else spread_value > threshold_b,
        }

    block: dict[str, Any] = {"kind": kind}
    if columns is not None:
        block["columns"] = list(columns)
    block.update({
        "k": k,
        "reference": reference,
        "reference_kind": reference_kind,
        "min_group_size": min_group_size,
        "sd": sd if np.isfinite(sd) else None,
        "max_attainable_sd": crit_a.pop("max_attainable_sd"),
        "range": value_range,
        "criteria": {"a": crit_a, "b": crit_b},
        "verdict": verdict,
        "point_verdict": point_verdict,
        "verdict_basis": basis,
        "notes": list(notes),
        "groups": group_blocks,
    })
    return block


# ---------------------------------------------------------------------------- run


@dataclass(frozen=True)
class _Settings:
    resamples: int
    confidence: float
    method: str
    seed: int
    statistic: str
    reference: str
    sd_factor: float
    sd_ddof: int


def evaluate(
    per_image: pd.DataFrame,
    *,
    attributes: Sequence[str] | str,
    intersections: Sequence[Sequence[str] | str] = (),
    resamples: int = 10_000,
    confidence: float = 0.95,
    ci_method: str = "bca",
    seed: int = 0,
    statistic: str = "mean",
    reference: str = "overall",
    min_group_size: int = 30,
    sd_factor: float = 3.0,
    sd_ddof: int = 0,
    inter_annotator_iou: float | str | None = None,
    min_group_sizes: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Intervals and criteria for a per-image table: results.json's statistical parts.

    Only rows with status "ok" count. `attributes` are column names (a string may list
    several, comma-separated); `intersections` are tuples of columns (or "a,b" strings),
    named "a×b". `inter_annotator_iou` (fraction or percentage) overrides the table's
    `inter_annotator_iou` column; with neither, criterion (b) is not evaluated.
    `min_group_sizes` overrides `min_group_size` per attribute or intersection name.
    Returns {"overall", "bootstrap", "inter_annotator_iou", "attributes"}, JSON-ready.
    """
    settings = _validated_settings(
        resamples, confidence, ci_method, seed, statistic, reference, min_group_size,
        sd_factor, sd_ddof,
    )
    rows = evaluated_rows(per_image, settings.statistic)
    specs = _attribute_specs(attributes, intersections, rows.columns)
    overall = _overall(rows, settings)
    iaa = inter_annotator_summary(
        rows, inter_annotator_iou, seed=settings.seed, resamples=settings.resamples,
        confidence=settings.confidence, method=settings.method,
    )
    threshold_b = criterion_b_threshold(iaa["value"])
    threshold_b_range = None
    if iaa["value"] is not None and iaa.get("ci"):
        # a higher agreement makes a tighter threshold
        threshold_b_range = (criterion_b_threshold(iaa["ci"][1]),
                             criterion_b_threshold(iaa["ci"][0]))
    sizes = dict(min_group_sizes or {})
    blocks = {}
    for name, columns in specs:
        size = int(sizes.get(name, min_group_size))
        if size < 1:
            raise UsageError(f"min-group-size for {name!r}: {size} must be at least 1")
        blocks[name] = _evaluate_attribute(rows, name, columns, settings, size, threshold_b,
                                           threshold_b_range)
    return to_jsonable({
        "overall": overall,
        "bootstrap": {
            "method": settings.method,
            "resamples": settings.resamples,
            "confidence": settings.confidence,
            "seed": settings.seed,
            "statistic": settings.statistic,
        },
        "inter_annotator_iou": iaa,
        "attributes": blocks,
    })


def _validated_settings(
    resamples, confidence, ci_method, seed, statistic, reference, min_group_size, sd_factor,
    sd_ddof,
) -> _Settings:
    def integer(value: Any, option: str, least: int) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise UsageError(f"{option}: {value!r} must be an integer >= {least}")
        return int(value)

    def choice(value: Any, option: str, allowed: Sequence[str]) -> str:
        if value not in allowed:
            raise UsageError(f"{option}: {value!r} is not one of {', '.join(allowed)}")
        return str(value)

    level = parse_fraction(confidence, "--confidence")
    if not 0.0 < level < 1.0:
        raise UsageError(f"--confidence: {confidence!r} must lie strictly between 0 and 1")
    try:
        factor = float(sd_factor)
    except (TypeError, ValueError):
        raise UsageError(f"--sd-factor: {sd_factor!r} is not a number") from None
    if not (math.isfinite(factor) and factor > 0):
        raise UsageError(f"--sd-factor: {sd_factor!r} must be a positive number")
    integer(min_group_size, "--min-group-size", 1)
    return _Settings(
        resamples=integer(resamples, "--bootstrap", 1),
        confidence=level,
        method=choice(ci_method, "--ci-method", stats.CI_METHODS),
        seed=integer(seed, "--seed", 0),
        statistic=choice(statistic, "--statistic", stats.STATISTICS),
        reference=choice(reference, "--reference", stats.REFERENCES),
        sd_factor=factor,
        sd_ddof=integer(sd_ddof, "--sd-ddof", 0),
    )


def _row_name(rows: pd.DataFrame, position: int) -> str:
    row = rows.iloc[position]
    label = f"row {row['row']}" if "row" in rows.columns else f"row {rows.index[position]}"
    if "image" in rows.columns:
        label += f" (image {row['image']})"
    return label


def evaluated_rows(per_image: pd.DataFrame, statistic: str = "mean") -> pd.DataFrame:
    """The rows with status "ok", numeric columns checked; UsageError names a bad row."""
    if not isinstance(per_image, pd.DataFrame):
        raise UsageError("per-image table: expected a pandas DataFrame")
    needed = ["iou"] + (["intersection", "union"] if statistic == "pooled" else [])
    missing = [c for c in needed if c not in per_image.columns]
    if missing:
        raise UsageError(f"per-image table: missing column(s) {', '.join(missing)}")
    rows = per_image
    if "status" in rows.columns:
        rows = rows[rows["status"].astype(str).str.strip().str.lower() == "ok"]
    if rows.empty:
        raise UsageError("per-image table: no image with status ok; nothing to evaluate")
    rows = rows.copy()
    for column in ("iou", "intersection", "union"):
        if column not in rows.columns:
            continue
        values = pd.to_numeric(rows[column], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype=float)) | (values.to_numpy(dtype=float) < 0)
        if column == "iou":
            bad |= values.to_numpy(dtype=float) > 1
        if bad.any() and column in needed:
            first = int(np.flatnonzero(bad)[0])
            raise UsageError(
                f"per-image table {_row_name(rows, first)}: {column} is "
                f"{rows[column].iloc[first]!r}, not a valid number"
            )
        rows[column] = values
    return rows


def _attribute_specs(
    attributes: Sequence[str] | str,
    intersections: Sequence[Sequence[str] | str],
    columns: Sequence[str],
) -> list[tuple[str, tuple[str, ...]]]:
    def split(value: Sequence[str] | str) -> list[str]:
        parts = value.split(",") if isinstance(value, str) else list(value)
        return [str(p).strip() for p in parts if str(p).strip()]

    def check(name: str, option: str) -> None:
        if name not in columns:
            raise UsageError(f"{option}: {name!r} is not a column of the per-image table")

    specs: dict[str, tuple[str, ...]] = {}
    for name in split(attributes):
        check(name, "--attribute")
        specs[name] = (name,)
    for crossed in intersections:
        parts = split(crossed)
        if len(parts) < 2 or len(set(parts)) != len(parts):
            raise UsageError(f"--intersect: {crossed!r} needs two or more distinct attributes")
        for part in parts:
            check(part, "--intersect")
        specs[INTERSECTION_JOINER.join(parts)] = tuple(parts)
    return list(specs.items())


def attribute_labels(values: pd.Series) -> np.ndarray:
    """Group labels as text; missing (NaN, None, "") becomes "(not annotated)"."""

    def label(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            return NOT_ANNOTATED
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return str(int(value))  # skin tone 3 read as 3.0 next to missing values
        text = str(value).strip()
        return text or NOT_ANNOTATED

    return np.array([label(v) for v in values], dtype=object)


def group_labels(rows: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One label per row: the attribute's value, or the crossed values joined by "×"."""
    parts = [attribute_labels(rows[c]) for c in columns]
    if len(parts) == 1:
        return parts[0]
    crossed = [
        NOT_ANNOTATED if NOT_ANNOTATED in values else INTERSECTION_JOINER.join(values)
        for values in zip(*parts, strict=True)
    ]
    return np.array(crossed, dtype=object)


def _group_order(label: str) -> tuple:
    """Natural order (skin tone 2 before 10), "(not annotated)" last."""
    pieces = re.split(r"(\d+(?:\.\d+)?)", label)
    key = tuple((0, float(p), "") if re.fullmatch(r"\d+(?:\.\d+)?", p) else (1, 0.0, p.lower())
                for p in pieces if p)
    return (label == NOT_ANNOTATED, key)


def _sample(rows: pd.DataFrame, statistic: str) -> stats.Sample:
    if statistic == "mean":
        return stats.make_sample("mean", iou=rows["iou"].to_numpy(dtype=float))
    return stats.make_sample(
        "pooled",
        intersection=rows["intersection"].to_numpy(dtype=float),
        union=rows["union"].to_numpy(dtype=float),
    )


def _pooled(rows: pd.DataFrame) -> float | None:
    if "intersection" not in rows.columns or "union" not in rows.columns:
        return None
    values = rows[["intersection", "union"]].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        return None
    return float(stats.ratio(values[:, 0].sum(), values[:, 1].sum()))


def _overall(rows: pd.DataFrame, settings: _Settings) -> dict[str, Any]:
    value, ci, note = stats.bootstrap_value(
        _sample(rows, settings.statistic), ("(overall)",), seed=settings.seed,
        resamples=settings.resamples, confidence=settings.confidence, method=settings.method,
    )
    if "both_empty" in rows.columns:
        flags = rows["both_empty"]
        if flags.dtype != bool:
            flags = flags.astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
        both_empty: int | None = int(flags.sum())
    elif "union" in rows.columns:
        both_empty = int((rows["union"] == 0).sum())
    else:
        both_empty = None
    return {
        "n": len(rows),
        "mean_iou": float(rows["iou"].mean()),
        "pooled_iou": _pooled(rows),
        "ci": list(ci),
        "value": value,
        "both_empty": both_empty,
        "note": note,
    }


def inter_annotator_summary(
    rows: pd.DataFrame,
    option: float | str | None = None,
    *,
    seed: int = 0,
    resamples: int = 10_000,
    confidence: float = 0.95,
    method: str = "bca",
) -> dict[str, Any]:
    """Inter-annotator IoU: the option's value, else the mean of the table's per-image column.

    The per-image column holds each image's mean IoU over annotator pairs (NaN where the
    image has no other annotator); its mean over images gets its own bootstrap interval.
    """
    annotators = sorted(
        c[len("iou_"):] for c in rows.columns
        if c.startswith("iou_") and "_vs_" not in c and c != IAA_COLUMN
    )
    dataset = None
    if IAA_COLUMN in rows.columns:
        values = pd.to_numeric(rows[IAA_COLUMN], errors="coerce").to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size:
            if values.min() < 0 or values.max() > 1:
                raise UsageError(f"per-image table: {IAA_COLUMN} has values outside [0, 1]")
            value, ci, _ = stats.bootstrap_value(
                stats.make_sample("mean", iou=values), (IAA_COLUMN,), seed=seed,
                resamples=resamples, confidence=confidence, method=method,
            )
            dataset = {"value": value, "ci": list(ci), "source": "dataset",
                       "n_images": int(values.size), "annotators": annotators, "note": None}
    if option is not None:
        given = parse_fraction(option, "--inter-annotator-iou")
        if given <= 0:
            raise UsageError(f"--inter-annotator-iou: {option!r} must be above 0")
        note = "given by --inter-annotator-iou"
        if dataset is not None:
            note += (f"; the dataset's other annotators give {dataset['value']:.4f} over "
                     f"{dataset['n_images']} images")
        return {"value": given, "ci": None, "source": "option", "n_images": None,
                "annotators": [], "note": note}
    if dataset is not None:
        return dataset
    return {"value": None, "ci": None, "source": None, "n_images": 0, "annotators": [],
            "note": "no other annotators' masks and no --inter-annotator-iou: "
                    "criterion (b) is not evaluated"}


def _evaluate_attribute(
    rows: pd.DataFrame,
    name: str,
    columns: tuple[str, ...],
    settings: _Settings,
    min_group_size: int,
    threshold_b: float | None,
    threshold_b_range: tuple[float, float] | None = None,
) -> dict[str, Any]:
    labels = group_labels(rows, columns)
    order = sorted(set(labels), key=_group_order)
    members = [rows[labels == label] for label in order]
    samples = [_sample(group, settings.statistic) for group in members]
    not_annotated = [label == NOT_ANNOTATED for label in order]
    counted = [
        not na and not is_small(len(group), min_group_size)
        for na, group in zip(not_annotated, members, strict=True)
    ]
    boot = stats.stratified_bootstrap(
        samples, [(name, label) for label in order], counted=counted,
        annotated=[not na for na in not_annotated], seed=settings.seed,
        resamples=settings.resamples, confidence=settings.confidence, method=settings.method,
        reference=settings.reference, sd_ddof=settings.sd_ddof,
    )
    figures = [
        GroupFigures(
            label=label,
            n=len(group),
            value=float(boot.value[i]),
            ci=tuple(boot.ci[i]),
            deviation_ci=tuple(boot.deviation_ci[i]),
            z_ci=tuple(boot.z_ci[i]) if boot.z_ci is not None else None,
            mean_iou=float(group["iou"].mean()),
            pooled_iou=_pooled(group),
            spread=float(boot.spread[i]),
            not_annotated=not_annotated[i],
            note=boot.notes[i],
        )
        for i, (label, group) in enumerate(zip(order, members, strict=True))
    ]
    notes = []
    if settings.reference == "group-mean" and not any(counted):
        notes.append("no gated group: the reference is the mean of all groups")
    return assess_attribute(
        figures,
        reference=boot.reference,
        reference_kind=settings.reference,
        threshold_b=threshold_b,
        threshold_b_range=threshold_b_range,
        sd_factor=settings.sd_factor,
        sd_ddof=settings.sd_ddof,
        min_group_size=min_group_size,
        confidence=settings.confidence,
        kind="attribute" if len(columns) == 1 else "intersection",
        columns=columns if len(columns) > 1 else None,
        notes=notes,
    )
