"""Label policies: which group an image belongs to when its annotators disagree (`--labels`).

- `majority`: the value more annotators chose than any other. The tie rule: where two or
  more values share the most votes (2 against 2, or 1, 1, 1) no value is the majority and
  the image's label is `(disputed)`. Breaking a tie by the scale's order or by a coin would
  put the image in a group its annotators did not agree on, and for a nominal attribute
  there is no order to break it by.
- `unanimous`: the value every annotator chose; any disagreement makes the image
  `(disputed)`. An image with a single vote is unanimous (no disagreement was seen).
- `resample`: every bootstrap resample draws each image's label from its votes
  (`stats/label_resample.py`), so the groups' intervals carry the labels' uncertainty. The
  column the run stores is the majority label: it is the stratum each image is resampled in.

`(disputed)` is a group of its own: reported with its figures, never gated, and not part of
the reference the gated groups are measured from. Images without a vote are not annotated,
as an empty attributes.csv cell is. Votes are binned (`label_bins.py`) before they are
counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..results.names import DISPUTED, LABEL_POLICIES
from .votes import AttributeVotes


def majority_label(counts: Mapping[str, int]) -> str | None:
    """The value with the most votes; `(disputed)` on a tie for the most; None without votes."""
    positive = {value: n for value, n in counts.items() if n > 0}
    if not positive:
        return None
    most = max(positive.values())
    leaders = [value for value, n in positive.items() if n == most]
    return leaders[0] if len(leaders) == 1 else DISPUTED


def unanimous_label(counts: Mapping[str, int]) -> str | None:
    """The value every vote chose; `(disputed)` when votes differ; None without votes."""
    positive = [value for value, n in counts.items() if n > 0]
    if not positive:
        return None
    return positive[0] if len(positive) == 1 else DISPUTED


def policy_labels(votes: AttributeVotes, policy: str) -> dict[str, str]:
    """Each voted image's label under `policy` (image id -> label); `resample` gives the
    majority label, the stratum its draws are made in."""
    if policy not in LABEL_POLICIES:
        raise ValueError(f"policy must be one of {LABEL_POLICIES}, not {policy!r}")
    rule = unanimous_label if policy == "unanimous" else majority_label
    labels = {}
    for image, image_votes in votes.images.items():
        label = rule(image_votes.counts)
        if label is not None:
            labels[image] = label
    return labels


def vote_matrix(votes: AttributeVotes, images: Sequence[str]) -> np.ndarray:
    """Vote counts (len(images), len(votes.values)) in the scale's order; an image without
    votes is a row of zeros."""
    column = {value: j for j, value in enumerate(votes.values)}
    matrix = np.zeros((len(images), len(votes.values)), dtype=np.int64)
    for i, image in enumerate(images):
        found = votes.images.get(image)
        if found is not None:
            for value, n in found.counts.items():
                if value not in column:
                    raise ValueError(f"{votes.attribute}: image {image} has votes for "
                                     f"{value!r}, not a value of its scale")
                matrix[i, column[value]] = n
    return matrix


__all__ = ["DISPUTED", "LABEL_POLICIES", "majority_label", "policy_labels",
           "unanimous_label", "vote_matrix"]
