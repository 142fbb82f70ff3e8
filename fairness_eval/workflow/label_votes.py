"""`run`'s voted attributes: the dataset loaded with the label columns its votes make, and
results.json's `label_agreement` of each.

Given `--attribute-votes` or count columns (`[attributes.<name>] votes = "counts"`), the
dataset is loaded without the voted attributes (attributes.csv has no such column), then
each voted attribute's column is set by the label policy (`data/vote_labels.py`) before
anything is evaluated, so every later stage sees an ordinary attribute whose `(disputed)`
group is reported and never gated. Without votes the dataset is loaded exactly as before.

Under `--labels resample` the column holds each image's majority label, the stratum its
resamples are drawn in; the statistics stage draws the labels themselves from the votes
(`fairness/label_groups.py`). Whatever the policy, each gated group is also judged as the
other policy judges it (`fairness/label_verdicts.py`, the card's section "How sure are the
labels?").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from ..config.settings import Settings
    from ..data.samples import Dataset
    from ..data.vote_labels import VotedAttribute
    from ..results.label_agreement import LabelAgreement


def load_with_votes(load: Callable[[tuple[str, ...]], Dataset], settings: Settings
                    ) -> tuple[Dataset, dict[str, VotedAttribute]]:
    """The dataset `load(attributes)` reads, with its voted attributes labelled."""
    from ..data.vote_labels import counted_attributes, read_vote_file

    counted = counted_attributes(settings.per_attribute)
    if settings.attribute_votes is None and not counted:
        return load(settings.attributes), {}
    table = read_vote_file(settings.attribute_votes, settings.votes_image_key,
                           settings.per_attribute)
    voted = set(counted) | set(table.attributes if table is not None else ())
    crossed = next((c for c in settings.intersect if set(c) & voted), None)
    if settings.labels == "resample" and crossed is not None:
        name = sorted(set(crossed) & voted)[0]
        raise UsageError(f"--intersect {','.join(crossed)}: --labels resample draws {name}'s "
                         "labels from its votes and cannot cross them; use --labels majority "
                         "or unanimous")
    requested = tuple(a for a in settings.attributes if a not in voted)
    dataset = load(requested)
    from ..data.video import VideoDataset

    if isinstance(dataset, VideoDataset):
        raise UsageError(f"--attribute-votes: votes label images; {dataset.source} is a video "
                         "dataset")
    if settings.attributes and not requested:
        dataset.attributes = []  # only voted attributes were asked for
    voted_attributes = _label(dataset, table, counted, settings)
    return dataset, {name: attribute for name, attribute in voted_attributes.items()
                     if name in dataset.attributes}


def _label(dataset: Dataset, table, counted: Sequence[str],
           settings: Settings) -> dict[str, VotedAttribute]:
    from ..data.vote_labels import apply_votes, counts_from_dataset

    voted: dict[str, VotedAttribute] = {}
    if counted:
        counts = counts_from_dataset(dataset, counted, settings.per_attribute)
        voted.update(apply_votes(dataset, counts, settings.labels, settings.per_attribute,
                                 settings.attributes))
    if table is not None:
        clash = sorted(set(table.attributes) & set(counted))
        if clash:
            raise UsageError(f"--attribute-votes: {clash[0]!r} is voted in {table.source} and "
                             "declared votes = \"counts\"; give each attribute one source")
        voted.update(apply_votes(dataset, table, settings.labels, settings.per_attribute,
                                 settings.attributes))
    return voted


def agreement_records(voted: Mapping[str, VotedAttribute], settings: Settings
                      ) -> dict[str, LabelAgreement]:
    """results.json's `label_agreement`: each voted attribute's agreement and labelling."""
    from ..results.names import DISPUTED
    from ..stats.agreement import label_agreement

    records = {}
    for name, attribute in voted.items():
        found = label_agreement(attribute.votes, seed=settings.seed,
                                resamples=settings.bootstrap, confidence=settings.confidence)
        records[name] = replace(
            found, bins=attribute.bins.groups if attribute.bins is not None else None,
            policy=attribute.policy,
            disputed=sum(1 for label in attribute.labels.values() if label == DISPUTED),
            skipped=attribute.skipped)
    return records


__all__ = ["agreement_records", "load_with_votes"]
