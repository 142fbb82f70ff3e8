"""Criteria from a published per-group table, without images (`card --from-table FILE.csv`).

The table has one row per (attribute, group): columns `attribute`, `group`, `value` (or
`iou` / `iou_percent`), `n` (or `n_images`) and/or `share` (or `share_of_dataset_percent`),
optionally `ci_low` and `ci_high` in the same units as the values. Values are percentages
when all exceed 1, fractions otherwise, unless `units` says which.

The reference is `average` (the card's image-level average) when given; otherwise the n- or
share-weighted mean of each attribute's groups (or their plain mean, with a note). Without
intervals in the table, the statistical verdicts are "not evaluated" and each attribute's
verdict rests on the card's point verdicts (`verdict_basis` "point"); with them, the
deviation interval is the group's interval shifted by the reference, taken as known.
The result has the shape of results.json with kind "table" and no per-image parts.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..config.command_options import TableSettings
from ..config.rules import MAX_ATTRIBUTE_LENGTH
from ..errors import UsageError
from ..results.jsonvalues import to_jsonable
from ..results.names import NOT_ANNOTATED
from .criteria import GroupFigures, Levels, assess_attribute, criterion_b_threshold, is_small
from .familywise import gated_checks, holm_levels

__all__ = ["TableRow", "evaluate_table", "read_table"]

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "attribute": ("attribute",),
    "group": ("group",),
    "value": ("value", "iou", "mean_iou", "iou_percent"),
    "n": ("n", "n_images"),
    "share": ("share", "share_percent", "share_of_dataset_percent"),
    "ci_low": ("ci_low", "ci_low_percent"),
    "ci_high": ("ci_high", "ci_high_percent"),
}
_REQUIRED = ("attribute", "group", "value")


@dataclass(frozen=True)
class TableRow:
    """One published group, values as given (units resolved later)."""

    line: int  # line in the file (the header is line 1)
    attribute: str
    group: str
    value: float
    n: int | None
    share: float | None  # fraction of the dataset
    ci: tuple[float, float] | None


def _columns(frame: pd.DataFrame, path: Path) -> dict[str, str]:
    """Canonical name -> the file's column, by the aliases above (case-insensitive)."""
    by_lower = {str(c).strip().lower(): c for c in frame.columns}
    found: dict[str, str] = {}
    for canonical, aliases in COLUMN_ALIASES.items():
        present = [by_lower[a] for a in aliases if a in by_lower]
        if len(present) > 1:
            raise UsageError(f"{path}: columns {', '.join(map(str, present))} all mean "
                             f"{canonical!r}; keep one")
        if present:
            found[canonical] = present[0]
    missing = [c for c in _REQUIRED if c not in found]
    if missing:
        raise UsageError(
            f"{path}: missing column(s) {', '.join(missing)} (need attribute, group, value, "
            "and n or share)"
        )
    if "n" not in found and "share" not in found:
        raise UsageError(f"{path}: needs a column n (or n_images) or share")
    if ("ci_low" in found) != ("ci_high" in found):
        raise UsageError(f"{path}: give both ci_low and ci_high, or neither")
    return found


def _number(text: str, path: Path, line: int, column: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        number = float(text.rstrip("%"))
    except ValueError:
        raise UsageError(f"{path} line {line}: {column} {text!r} is not a number") from None
    if math.isnan(number):
        return None
    if not math.isfinite(number):
        raise UsageError(f"{path} line {line}: {column} {text!r} is not a finite number")
    return number


def read_table(path: str | Path) -> tuple[list[TableRow], dict[str, str]]:
    """The table's rows and its column mapping; UsageError names the file and line at fault."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UsageError(f"{path}: not a readable CSV table ({exc})") from None
    if frame.empty:
        raise UsageError(f"{path}: the table has no rows")
    columns = _columns(frame, path)
    share_is_percent = "percent" in str(columns.get("share", "")).lower()
    rows: list[TableRow] = []
    seen: set[tuple[str, str]] = set()
    for position, record in enumerate(frame.to_dict("records")):
        line = position + 2

        def cell(name: str, record: dict = record) -> str:
            return str(record[columns[name]]).strip() if name in columns else ""

        attribute, group = cell("attribute"), cell("group")
        for name, text in (("attribute", attribute), ("group", group)):
            if not text or text.lower() == "nan":
                raise UsageError(f"{path} line {line}: {columns[name]} is missing")
            if len(text) > MAX_ATTRIBUTE_LENGTH:  # a label on every page of the card
                raise UsageError(f"{path} line {line}: {columns[name]} is {len(text):,} "
                                 f"characters long ({text[:40]!r}...); {name} names are "
                                 f"limited to {MAX_ATTRIBUTE_LENGTH} characters")
        if (attribute, group) in seen:
            raise UsageError(f"{path} line {line}: group {group!r} of {attribute!r} repeats")
        seen.add((attribute, group))
        value = _number(cell("value"), path, line, columns["value"])
        if value is None:
            raise UsageError(f"{path} line {line}: {columns['value']} is missing or NaN")
        n = _number(cell("n"), path, line, columns.get("n", "n"))
        share = _number(cell("share"), path, line, columns.get("share", "share"))
        if n is None and share is None:
            raise UsageError(f"{path} line {line}: neither n nor share is given")
        if n is not None and (n < 1 or not float(n).is_integer()):
            raise UsageError(f"{path} line {line}: n {n:g} is not a positive whole number")
        if share is not None and not 0 <= share <= 100:
            raise UsageError(f"{path} line {line}: share {share:g} is not in [0, 100]")
        low = _number(cell("ci_low"), path, line, columns.get("ci_low", "ci_low"))
        high = _number(cell("ci_high"), path, line, columns.get("ci_high", "ci_high"))
        if (low is None) != (high is None):
            raise UsageError(f"{path} line {line}: give both ci_low and ci_high, or neither")
        if low is not None and high is not None and low > high:
            raise UsageError(f"{path} line {line}: ci_low {low:g} exceeds ci_high {high:g}")
        rows.append(TableRow(
            line=line, attribute=attribute, group=group, value=value,
            n=None if n is None else int(n),
            share=None if share is None else share,
            ci=None if low is None or high is None else (low, high),
        ))
    shares = [r.share for r in rows if r.share is not None]
    if shares and (share_is_percent or max(shares) > 1):
        rows = [r if r.share is None else _replace(r, share=r.share / 100.0) for r in rows]
    return rows, columns


def _replace(row: TableRow, **changes: Any) -> TableRow:
    return TableRow(**{**row.__dict__, **changes})


def _resolve_units(rows: Sequence[TableRow], units: str, path: Path) -> tuple[str, float]:
    """The table's units and the divisor that turns its values into fractions."""
    values = [r.value for r in rows]
    if units == "auto":
        above = [v > 1 for v in values]
        if all(above):
            units = "percent"
        elif not any(above):
            units = "fraction"
        else:
            line = rows[above.index(False)].line
            raise UsageError(
                f"{path}: some values exceed 1 and some (line {line}) do not; say whether they "
                "are percentages or fractions with --units"
            )
    scale = 100.0 if units == "percent" else 1.0
    for row in rows:
        numbers = [row.value] + (list(row.ci) if row.ci else [])
        if any(not 0 <= x / scale <= 1 for x in numbers):
            raise UsageError(
                f"{path} line {row.line}: {row.value:g} is not a valid IoU in {units}"
            )
    return units, scale


def _reference(
    rows: Sequence[TableRow], average: float | None, reference: str, min_group_size: int
) -> tuple[float, str, list[str]]:
    """The attribute's reference, its kind and a note on how it was obtained."""
    gated = [r for r in rows if r.group != NOT_ANNOTATED and not is_small(r.n, min_group_size)]
    if reference == "group-mean":
        pool = gated or list(rows)
        return float(np.mean([r.value for r in pool])), "group-mean", []
    if average is not None:
        return average, "overall", []
    if all(r.n is not None for r in rows):
        weights = [float(r.n) for r in rows]  # type: ignore[arg-type]
        how = "the n-weighted mean of its groups"
    elif all(r.share is not None for r in rows) and sum(r.share for r in rows) > 0:  # type: ignore[misc]
        weights = [float(r.share) for r in rows]  # type: ignore[arg-type]
        how = "the share-weighted mean of its groups"
    else:
        pool = gated or list(rows)
        note = ("no --average and no counts or shares for every group: the reference is the "
                "plain mean of the group values")
        return float(np.mean([r.value for r in pool])), "group-mean", [note]
    value = float(np.average([r.value for r in rows], weights=weights))
    return value, "overall", [f"no --average: the reference is {how}"]


def evaluate_table(path: str | Path, settings: TableSettings | None = None) -> dict[str, Any]:
    """The criteria applied to a published table: results.json parts, kind "table".

    Without `settings.inter_annotator_iou`, criterion (b) is not evaluated;
    `settings.confidence` is the level of the table's intervals (used for n_needed).
    """
    path = Path(path)
    settings = TableSettings() if settings is None else settings
    mean, iaa_value, level = settings.average, settings.inter_annotator_iou, settings.confidence
    min_group_size = settings.min_group_size

    rows, _ = read_table(path)
    resolved_units, scale = _resolve_units(rows, settings.units, path)
    rows = [
        _replace(r, value=r.value / scale,
                 ci=None if r.ci is None else (r.ci[0] / scale, r.ci[1] / scale))
        for r in rows
    ]
    threshold_b = criterion_b_threshold(iaa_value)
    z = float(ndtri(0.5 + level / 2.0))

    prepared: dict[str, tuple[list[GroupFigures], dict[str, Any]]] = {}
    for attribute in dict.fromkeys(r.attribute for r in rows):
        members = [r for r in rows if r.attribute == attribute]
        ref, ref_kind, notes = _reference(members, mean, settings.reference, min_group_size)
        figures = []
        for r in members:
            spread = None
            if r.ci is not None and r.n is not None:
                spread = (r.ci[1] - r.ci[0]) / 2.0 / z * math.sqrt(r.n)
            figures.append(GroupFigures(
                label=r.group,
                n=r.n,
                value=r.value,
                ci=r.ci,
                deviation_ci=None if r.ci is None else (r.ci[0] - ref, r.ci[1] - ref),
                spread=spread,
                share=r.share,
                # A table has no other way to mark the images without a value.
                not_annotated=r.group == NOT_ANNOTATED,
            ))
        prepared[attribute] = (figures, dict(
            reference=ref, reference_kind=ref_kind, threshold_b=threshold_b,
            sd_factor=settings.sd_factor, sd_ddof=settings.sd_ddof, min_group_size=min_group_size,
            confidence=level, notes=notes,
        ))

    def assess_all(levels: dict[str, Levels]) -> dict[str, Any]:
        return {name: assess_attribute(figures, levels=levels.get(name), **options)
                for name, (figures, options) in prepared.items()}

    def every_criterion(_attribute: str) -> tuple[str, ...]:
        return ("a", "b")

    attributes = assess_all({})
    if settings.familywise == "holm":
        attributes, checks = holm_levels(attributes, assess_all, every_criterion, level)
    else:
        checks = len(gated_checks(attributes, every_criterion))

    iaa = {
        "value": iaa_value, "ci": None, "source": None if iaa_value is None else "option",
        "n_images": None, "annotators": [],
        "note": "given by --inter-annotator-iou" if iaa_value is not None else
                "no --inter-annotator-iou: criterion (b) is not evaluated",
    }
    return to_jsonable({
        "kind": "table",
        "table": {
            "path": str(path.resolve()),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "rows": len(rows),
            "units": resolved_units,
        },
        "overall": {"n": None, "mean_iou": None, "pooled_iou": None, "ci": None,
                    "value": mean, "both_empty": None,
                    "note": None if mean is not None else "no --average given"},
        "bootstrap": None,
        "inter_annotator_iou": iaa,
        "attributes": attributes,
        "familywise": {"method": settings.familywise, "checks": checks},
    })
