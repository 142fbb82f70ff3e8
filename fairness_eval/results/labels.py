"""Group labels: the text every stage uses for an image's group under an attribute.

The statistics group images by these labels, and the charts, overlays and comparison
label their figures with them, so they are computed here once, from the per-image table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .names import INTERSECTION_JOINER, NOT_ANNOTATED


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


def group_order(label: str) -> tuple:
    """Sort key: natural order (skin tone 2 before 10), "(not annotated)" last."""
    pieces = re.split(r"(\d+(?:\.\d+)?)", label)
    key = tuple((0, float(p), "") if re.fullmatch(r"\d+(?:\.\d+)?", p) else (1, 0.0, p.lower())
                for p in pieces if p)
    return (label == NOT_ANNOTATED, key)
