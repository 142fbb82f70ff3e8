"""Agreement on an attribute's labels: Krippendorff's alpha with a bootstrap interval, the
annotator-by-annotator confusion, and each group's share of unanimous images.

Alpha (Krippendorff 2011, "Computing Krippendorff's alpha-reliability") is computed from
the coincidence matrix o of the images with at least two votes: image u with m_u votes,
n_uc of them for value c, adds (n_uc n_uk - [c = k] n_uc) / (m_u - 1) to o_ck. With
n_c = sum_k o_ck and n = sum_c n_c,

    alpha = 1 - (n - 1) sum_ck o_ck d2_ck / sum_ck n_c n_k d2_ck,

where d2 is 1 for c != k on the nominal metric, and on the ordinal metric (values in the
vocabulary's order) d2_ck = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2: distances are counted
in votes between the values, so confusing neighbouring skin tones costs less than
confusing the ends of the scale. Alpha is 1 for perfect agreement, 0 for agreement at
chance; it is undefined (None) when no image has two votes or every vote is one value.
Only vote counts enter alpha, so count columns, which name no annotator, give it too.

The interval is a percentile bootstrap over images, seeded: each resample draws the
images with replacement (from `stream(seed, ["label-agreement", attribute])`) and alpha is
recomputed; images with the same votes add the same coincidences, so a resample is drawn
as how many images of each vote pattern it holds (a multinomial draw, exact in law).
Krippendorff's own bootstrap resamples pairable values instead; resampling images keeps
an image's votes together, which is what is sampled when a dataset is drawn.

The confusion is drawn for every pair of annotators (at most MAX_CONFUSION_ANNOTATORS
annotators; a crowd of hundreds makes tens of thousands of pairs nobody reads): rows the
first annotator's value, columns the second's, over the images both labelled. A group's
unanimous share is the share of its images (by majority label, `data/label_policies.py`)
with at least two votes whose votes all agree; an image with one vote shows no agreement
either way and is not counted. The records (`LabelAgreement`, `AnnotatorConfusion`) are
results.json's (`results/label_agreement.py`).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from ..data.label_policies import majority_label
from ..data.votes import AttributeVotes
from ..results.label_agreement import AnnotatorConfusion, LabelAgreement
from .intervals import percentile_interval
from .streams import stream

MAX_CONFUSION_ANNOTATORS = 20
# Pattern counts held at once: memory stays bounded whatever the number of vote patterns.
_DRAWS_PER_CHUNK = 1_000_000


def coincidences(counts: np.ndarray) -> np.ndarray:
    """Each image's coincidence matrix, (n, V, V); zero for an image with fewer than 2 votes."""
    counts = np.asarray(counts, dtype=float)
    m = counts.sum(axis=1)
    pairs = counts[:, :, None] * counts[:, None, :]
    pairs[:, np.arange(counts.shape[1]), np.arange(counts.shape[1])] -= counts
    scale = np.where(m >= 2, 1.0 / np.maximum(m - 1.0, 1.0), 0.0)
    return pairs * scale[:, None, None]


def alpha_from_coincidences(o: np.ndarray, level: str) -> np.ndarray:
    """Alpha of coincidence matrices (..., V, V); NaN where undefined."""
    o = np.asarray(o, dtype=float)
    n_c = o.sum(axis=-1)
    n = n_c.sum(axis=-1)
    values = o.shape[-1]
    if level == "nominal":
        d2 = np.broadcast_to(1.0 - np.eye(values), o.shape)
    elif level == "ordinal":
        rank = np.cumsum(n_c, axis=-1) - n_c / 2.0  # mid-rank of each value
        d2 = (rank[..., :, None] - rank[..., None, :]) ** 2
    else:
        raise ValueError(f"level must be nominal or ordinal, not {level!r}")
    observed = (o * d2).sum(axis=(-2, -1))
    expected = (n_c[..., :, None] * n_c[..., None, :] * d2).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = 1.0 - (n - 1.0) * observed / expected
    return np.where((expected > 0) & (n > 1), alpha, np.nan)


def krippendorff_alpha(counts: np.ndarray, level: str = "nominal") -> float | None:
    """Alpha of a vote-count matrix (images x values, in the scale's order); None if undefined."""
    value = float(alpha_from_coincidences(coincidences(counts).sum(axis=0), level))
    return None if np.isnan(value) else value


def alpha_interval(counts: np.ndarray, level: str, rng: np.random.Generator,
                   resamples: int, confidence: float) -> tuple[float, float] | None:
    """Percentile bootstrap interval of alpha over the images (rows) of `counts`.

    Images with the same votes add the same coincidences, so a resample is summarised by
    how many images of each vote pattern it draws: n draws with replacement give pattern
    counts Multinomial(n, pattern shares), drawn directly (the same bootstrap distribution,
    at a cost that does not grow with the number of images).
    """
    counts = np.asarray(counts)
    pairable = counts[counts.sum(axis=1) >= 2]
    n = pairable.shape[0]
    if n < 2 or resamples < 1:
        return None
    patterns, images = np.unique(pairable, axis=0, return_counts=True)
    flat = coincidences(patterns).reshape(patterns.shape[0], -1)
    shares = images / n
    alphas = np.empty(resamples)
    rows = max(1, _DRAWS_PER_CHUNK // patterns.shape[0])
    for start in range(0, resamples, rows):
        stop = min(resamples, start + rows)
        weights = rng.multinomial(n, shares, size=stop - start)
        o_b = (weights @ flat).reshape(stop - start, counts.shape[1], counts.shape[1])
        alphas[start:stop] = alpha_from_coincidences(o_b, level)
    # A resample of one repeated value has no alpha: the interval is over those that do.
    defined = alphas[~np.isnan(alphas)]
    if defined.size == 0:
        return None
    interval = percentile_interval(defined[None, :], confidence)
    return float(interval.low[0]), float(interval.high[0])


def confusion_matrices(votes: AttributeVotes) -> tuple[AnnotatorConfusion, ...]:
    """The confusion of every pair of annotators over the images both labelled."""
    column = {value: j for j, value in enumerate(votes.values)}
    size = len(votes.values)
    annotators = votes.annotators()
    # Each annotator's value index per image, -1 where they gave none.
    labels = np.full((len(annotators), len(votes.images)), -1, dtype=np.int64)
    row = {annotator: i for i, annotator in enumerate(annotators)}
    for j, image_votes in enumerate(votes.images.values()):
        for annotator, value in image_votes.annotators.items():
            labels[row[annotator], j] = column[value]
    confusions = []
    for first, second in combinations(annotators, 2):
        a, b = labels[row[first]], labels[row[second]]
        both_voted = (a >= 0) & (b >= 0)
        matrix = np.bincount(a[both_voted] * size + b[both_voted],
                             minlength=size * size).reshape(size, size)
        both = int(matrix.sum())
        confusions.append(AnnotatorConfusion(
            first, second, both, float(np.trace(matrix)) / both if both else None,
            tuple(tuple(int(x) for x in row) for row in matrix)))
    return tuple(confusions)


def unanimous_shares(votes: AttributeVotes) -> dict[str, float | None]:
    """Per majority-label group, the share of its images with >= 2 votes that are unanimous."""
    tally: dict[str, list[int]] = {}
    for image_votes in votes.images.values():
        label = majority_label(image_votes.counts)
        if label is None:
            continue
        counted = tally.setdefault(label, [0, 0])
        if image_votes.total >= 2:
            counted[1] += 1
            counted[0] += sum(1 for n in image_votes.counts.values() if n > 0) == 1
    return {label: (unanimous / pairable if pairable else None)
            for label, (unanimous, pairable) in sorted(tally.items())}


def label_agreement(votes: AttributeVotes, *, seed: int = 0, resamples: int = 2000,
                    confidence: float = 0.95, level: str | None = None) -> LabelAgreement:
    """The `LabelAgreement` of one attribute's votes (ordinal for an ordinal scale)."""
    from ..data.label_policies import vote_matrix

    level = level or ("ordinal" if votes.ordinal else "nominal")
    images = list(votes.images)
    counts = vote_matrix(votes, images)
    pairable = int((counts.sum(axis=1) >= 2).sum())
    alpha = krippendorff_alpha(counts, level)
    ci = None
    if alpha is not None:
        rng = stream(seed, ["label-agreement", votes.attribute])
        ci = alpha_interval(counts, level, rng, resamples, confidence)
    note = None
    if alpha is None:
        note = ("no image has two votes" if pairable == 0
                else "every vote is one value: agreement is undefined")
    annotators = votes.annotators() if votes.named else ()
    confusion: tuple[AnnotatorConfusion, ...] = ()
    if votes.named and len(annotators) <= MAX_CONFUSION_ANNOTATORS:
        confusion = confusion_matrices(votes)
    elif votes.named:
        note = (f"{len(annotators)} annotators: the pairwise confusion is drawn for at most "
                f"{MAX_CONFUSION_ANNOTATORS}")
    return LabelAgreement(
        alpha=alpha, ci=ci, level=level,
        annotators=len(annotators) if votes.named else None, images=pairable,
        unanimous_share=unanimous_shares(votes), values=votes.values, confusion=confusion,
        note=note, bootstrap=resamples, confidence=confidence, seed=seed)


__all__ = ["AnnotatorConfusion", "LabelAgreement", "alpha_from_coincidences",
           "alpha_interval", "coincidences", "confusion_matrices", "krippendorff_alpha",
           "label_agreement", "unanimous_shares"]
