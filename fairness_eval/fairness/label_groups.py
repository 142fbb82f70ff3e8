"""An attribute's groups when its labels are drawn from annotators' votes (`--labels resample`).

`drawn_groups` turns the evaluated rows and the attribute's votes into what the label
bootstrap (`stats/label_resample.py`) needs: the groups (every value some vote of an
evaluated image names, and the not-annotated group of images without a vote), each image's
stratum (its majority label, `(disputed)` on a tie: the observed votes fix it, never the
draw) and its weights (its vote shares; 1 on its own group for an image without votes).

Which groups are gated is decided on the strata: a group's n is the number of images whose
majority label it is, so the set of checks a run makes does not depend on random draws. A
group's figures weight every image by its vote share for it (`expected` images in all).
There is no `(disputed)` group: a tied image's label is drawn like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data.label_policies import majority_label, vote_matrix
from ..data.votes import AttributeVotes
from ..errors import UsageError
from ..results.labels import group_order
from ..results.names import IMAGE_COLUMN, IOU_COLUMN
from ..stats.bootstrap import GroupBootstrap, Sample
from ..stats.label_resample import LabelBootstrap, label_bootstrap
from .rows import pooled_iou

# Discarded resamples condition every group's distribution on the gated groups being
# non-empty: beyond this share, the intervals no longer describe the data's sampling.
_MOST_DISCARDED = 0.01


@dataclass(frozen=True)
class DrawnFigures:
    """The label bootstrap's figures, as `assess.py` reads a group's."""

    figures: GroupBootstrap
    means: list[tuple[float, float]]  # (mean IoU, pooled IoU), vote-share-weighted
    notes: list[str | None]
    expected: list[tuple[float, float]]  # (expected images, empty share)
    doubt: str | None  # why gated groups are inconclusive at best, if they are


@dataclass(frozen=True)
class DrawnGroups:
    """One voted attribute's groups, strata and label weights over the evaluated rows."""

    groups: tuple[str, ...]
    strata: np.ndarray  # per row: its majority label, or its group without votes
    weights: np.ndarray  # (rows, groups): each row's probability of each group

    def means(self, rows: pd.DataFrame, group: int) -> tuple[float, float]:
        """The group's mean and pooled IoU, each image weighted by its share."""
        weight = self.weights[:, group]
        mine = weight > 0
        if (weight[mine] == 1.0).all():  # no image in doubt: the plain figures exactly
            members = rows[mine]
            return float(members[IOU_COLUMN].mean()), pooled_iou(members)
        iou = rows[IOU_COLUMN].to_numpy(dtype=float)[mine]
        mean = float((weight[mine] * iou).sum() / weight[mine].sum())
        intersection = (weight[mine] * rows["intersection"].to_numpy(dtype=float)[mine]).sum()
        union = (weight[mine] * rows["union"].to_numpy(dtype=float)[mine]).sum()
        return mean, float(intersection / union) if union > 0 else 1.0

    def judge(self, rows: pd.DataFrame, attribute: str, whole: Sample,
               **options: Any) -> DrawnFigures:
        """The groups' figures with labels drawn from the votes (`label_bootstrap`)."""
        try:
            resampled = label_bootstrap(
                whole.numerator, whole.denominator, self.weights, list(self.strata),
                list(self.groups), attribute=attribute,
                unit_denominator=whole.unit_denominator, **options)
        except ValueError as error:
            raise UsageError(f"--labels resample: {attribute}: {error}") from None
        share = resampled.discarded / options["resamples"]
        doubt = None
        if share > _MOST_DISCARDED:
            doubt = (f"labels too uncertain: {100 * share:.1f} % of the resamples drew no "
                     "image into some gated group and were discarded")
        return DrawnFigures(
            figures=resampled.figures,
            means=[self.means(rows, i) for i in range(len(self.groups))],
            notes=_notes(resampled),
            expected=[(float(e), float(s)) for e, s in zip(resampled.expected,
                                                           resampled.empty_share, strict=True)],
            doubt=doubt)

    def attribute_note(self, statistic: str) -> str:
        figure = "mean" if statistic == "mean" else "pooled IoU"
        return ("labels drawn from the annotators' votes in every resample (--labels "
                f"resample): a group's {figure} weights each image by its vote share for "
                "the group; n counts the images whose majority label it is, and decides "
                "which groups are gated; per_image.csv and the per-image charts show "
                "majority labels")


def drawn_groups(rows: pd.DataFrame, labels: np.ndarray, missing: np.ndarray,
                 votes: AttributeVotes) -> DrawnGroups:
    """The groups, strata and weights of `rows` given `votes`; `labels`/`missing` are the
    attribute column's (what an image without votes keeps)."""
    images = [str(image) for image in rows[IMAGE_COLUMN]]
    try:
        counts = vote_matrix(votes, images).astype(float)
    except ValueError as error:
        raise UsageError(f"--labels resample: {error}") from None
    voted = counts.sum(axis=1) > 0
    strata = np.array([
        majority_label(votes.images[image].counts) if has_votes else label
        for image, has_votes, label in zip(images, voted, labels, strict=True)],
        dtype=object)
    named = [value for j, value in enumerate(votes.values) if counts[voted, j].sum() > 0]
    fixed = {str(label) for label in labels[~voted]} - set(named)
    missing_labels = set(labels[missing])
    groups = tuple(sorted([*named, *fixed],
                          key=lambda label: group_order(label, label in missing_labels)))
    column = {group: g for g, group in enumerate(groups)}
    weights = np.zeros((len(images), len(groups)))
    shares = counts[voted] / counts[voted].sum(axis=1, keepdims=True)
    for j, value in enumerate(votes.values):
        if value in column:
            weights[voted, column[value]] = shares[:, j]
    for i in np.flatnonzero(~voted):
        weights[i, column[str(labels[i])]] = 1.0
    return DrawnGroups(groups=groups, strata=strata, weights=weights)


def _notes(resampled: LabelBootstrap) -> list[str | None]:
    """Each group's note: the bootstrap's, and the resamples discarded, if any."""
    notes = []
    for note in resampled.figures.notes:
        parts = [note] if note else []
        if resampled.discarded:
            parts.append(f"{resampled.discarded} resamples without an image in some gated "
                         "group were discarded")
        notes.append("; ".join(parts) or None)
    return notes


__all__ = ["DrawnFigures", "DrawnGroups", "drawn_groups"]
