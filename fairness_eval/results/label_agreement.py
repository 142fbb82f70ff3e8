"""results.json's `label_agreement`: how far the annotators of each voted attribute agree.

Written by a run given `--attribute-votes` (per attribute whose column the votes make);
absent otherwise. `stats/agreement.py` computes it; the reporters read this record. Keys:

- `alpha`, `ci`: Krippendorff's alpha and its percentile bootstrap interval over images
  (null where undefined: no image with two votes, or every vote one value);
- `level`: "nominal" or "ordinal" (an ordinal vocabulary: skin_tone, mst);
- `annotators`: how many the votes name (null for count columns, which name none);
- `images`: images with at least two votes, those alpha is computed from;
- `unanimous_share`: per group (majority label), the share of its images with at least two
  votes whose votes all agree;
- `values`: the scale, in order (the bins' names where `bins` group it);
- `confusion`: per pair of annotators, over the images both labelled, `matrix[i][j]`
  counting first = values[i], second = values[j], and the share they agree on;
- `bins`: the bins' values where the configuration groups the scale (null otherwise);
- `policy`, `disputed`: the label policy (`--labels`) and how many images it left
  `(disputed)`; `skipped`: annotations the annotators skipped (Label Studio);
- `bootstrap`, `confidence`, `seed`: how the interval was drawn; `note`: why a figure is
  missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .assessment import Interval
from .codec import JsonRecord, json_field

AGREEMENT_LEVELS = ("nominal", "ordinal")


@dataclass(frozen=True)
class AnnotatorConfusion(JsonRecord):
    """Two annotators' labels on the images both labelled."""

    first: str
    second: str
    images: int
    agreement: float | None  # share of those images with the same label
    matrix: tuple[tuple[int, ...], ...]  # [first's value][second's value]


@dataclass(frozen=True)
class LabelAgreement(JsonRecord):
    """How far the annotators of one attribute agree, and what the label policy made of it."""

    alpha: float | None  # Krippendorff's alpha; None when undefined
    ci: Interval | None  # percentile bootstrap interval over images
    level: str = json_field(choices=AGREEMENT_LEVELS)
    annotators: int | None = None  # annotators the votes name; None for count columns
    images: int = 0  # images with at least two votes
    unanimous_share: Mapping[str, float | None] = json_field(default_factory=dict)
    values: tuple[str, ...] = ()
    confusion: tuple[AnnotatorConfusion, ...] = ()
    bins: Mapping[str, tuple[str, ...]] | None = None
    policy: str | None = None
    disputed: int | None = None  # images the policy left (disputed)
    skipped: int | None = None  # annotations skipped (Label Studio's was_cancelled)
    bootstrap: int = 0
    confidence: float = 0.95
    seed: int = 0
    note: str | None = None


__all__ = ["AGREEMENT_LEVELS", "AnnotatorConfusion", "LabelAgreement"]
