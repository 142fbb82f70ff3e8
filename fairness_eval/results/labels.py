"""Group labels: the text every stage uses for an image's group under an attribute.

The statistics group images by these labels, and the charts, overlays and comparison
label their figures with them, so they are computed here once, from the per-image table.

The images without a value form one group, marked by a flag wherever it is recorded
(`not_annotated`), never recognised by its name: its label is "(not annotated)" unless a
value in the data is that very text, in which case it takes the first of "(not annotated,
2)", "(not annotated, 3)", ... that no value takes, and the data's group is judged like any
other.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .names import INTERSECTION_JOINER, NOT_ANNOTATED


def _value_text(value: Any) -> str | None:
    """A value as its group's text; None when missing (NaN, None, NA, blank)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))  # skin tone 3 read as 3.0 next to missing values
    return str(value).strip() or None


def not_annotated_label(taken: Iterable[str]) -> str:
    """The label of the images without a value: "(not annotated)" unless a value takes it."""
    taken = set(taken)
    label, count = NOT_ANNOTATED, 1
    while label in taken:
        count += 1
        label = f"{NOT_ANNOTATED[:-1]}, {count})"
    return label


def group_labels_and_missing(rows: pd.DataFrame,
                             columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """One label per row (the value, or the crossed values joined by "×") and whether the
    row lacks a value for any of the columns (its group is the not-annotated one)."""
    parts = [[_value_text(v) for v in rows[c]] for c in columns]
    values = [None if None in texts else INTERSECTION_JOINER.join(texts)
              for texts in zip(*parts, strict=True)] if parts else []
    missing = np.array([v is None for v in values], dtype=bool)
    fill = not_annotated_label(v for v in values if v is not None)
    labels = np.array([fill if v is None else v for v in values], dtype=object)
    return labels, missing


def group_labels(rows: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One label per row: the attribute's value, or the crossed values joined by "×"."""
    return group_labels_and_missing(rows, columns)[0]


def attribute_labels(values: pd.Series) -> np.ndarray:
    """Group labels of one column's values (see `group_labels`)."""
    return group_labels(pd.DataFrame({"value": values}), ["value"])


def group_order(label: str, not_annotated: bool | None = None) -> tuple:
    """Sort key: natural order (skin tone 2 before 10), the not-annotated group last (by
    its flag where the caller knows it, else by the name)."""
    pieces = re.split(r"(\d+(?:\.\d+)?)", label)
    key = tuple((0, float(p), "") if re.fullmatch(r"\d+(?:\.\d+)?", p) else (1, 0.0, p.lower())
                for p in pieces if p)
    last = label == NOT_ANNOTATED if not_annotated is None else not_annotated
    return (last, key)
