"""The attribute columns a label policy makes of annotators' votes, set on a loaded dataset.

A run given votes (`--attribute-votes FILE`, or count columns declared with
`[attributes.<name>] votes = "counts"`) evaluates each voted attribute as if attributes.csv
held the label the policy (`--labels`, `label_policies.py`) gives each image: the votes
are read (`votes.py`), binned where the configuration says (`label_bins.py`), labelled,
and written into every sample's attributes. An image without a vote is not annotated.
The count columns themselves (`skin_tone_1` ... `skin_tone_10`) are votes, not attributes,
and are dropped from the dataset's attribute columns.

An attribute is voted by one source: a column of attributes.csv with the same name as a
voted attribute is refused (which would hold the label is undecidable). Votes for images
the dataset does not hold are counted in a note (a vote table often covers a larger pool)
and left out of the labels and their agreement, which describe the images evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .label_bins import Bins, binned, parse_bins
from .label_policies import policy_labels
from .samples import Dataset, Problem
from .votes import (
    AttributeVotes,
    Vote,
    VoteTable,
    build_table,
    count_columns_of,
    count_votes,
    load_votes,
    vocabulary_of,
)


@dataclass(frozen=True)
class VotedAttribute:
    """One voted attribute as the run labels it."""

    votes: AttributeVotes  # on the binned scale where bins are given
    bins: Bins | None
    policy: str
    labels: dict[str, str]  # image id -> label (images with votes only)
    skipped: int  # annotations skipped in the source (Label Studio)


def counted_attributes(per_attribute: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    """The attributes whose votes are count columns of the dataset's table."""
    return tuple(name for name, table in per_attribute.items() if table.get("votes") == "counts")


def vocabularies_of(per_attribute: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The vocabulary each attribute's configuration names (attribute -> vocabulary)."""
    return {name: str(table["vocabulary"]) for name, table in per_attribute.items()
            if table.get("vocabulary")}


def read_vote_file(path: Path | None, image_key: str,
                   per_attribute: Mapping[str, Mapping[str, Any]]) -> VoteTable | None:
    """The votes of `--attribute-votes`, or None without one."""
    if path is None:
        return None
    return load_votes(Path(path), image_key, vocabularies_of(per_attribute))


def counts_from_dataset(dataset: Dataset, attributes: Sequence[str],
                        per_attribute: Mapping[str, Mapping[str, Any]]) -> VoteTable:
    """Votes from count columns `<attribute>_<value>` of a loaded dataset's table."""
    source = dataset.attribute_file or dataset.source
    columns = count_columns_of(dataset.attribute_columns, attributes, str(source))
    votes: list[Vote] = []
    problems: list[Problem] = []
    for sample in dataset.samples:
        line = dataset.attribute_rows.get(sample.image_id, sample.row)
        count_votes(str(source), sample.image_id, line, sample.row, sample.attributes, columns,
                    votes, problems)
    return build_table(Path(source), "counts", votes, problems, vocabularies_of(per_attribute))


def count_columns(dataset: Dataset, attributes: Sequence[str]) -> list[str]:
    """The dataset's columns that hold the counts of `attributes`."""
    return [c for c in dataset.attribute_columns
            if any(c.startswith(f"{a}_") for a in attributes)]


def apply_votes(dataset: Dataset, table: VoteTable, policy: str,
                per_attribute: Mapping[str, Mapping[str, Any]],
                requested: Sequence[str] = ()) -> dict[str, VotedAttribute]:
    """Label the dataset's samples from `table` under `policy`, in place, and return each
    voted attribute's votes and labels. Every voted attribute becomes a column; those of
    `requested` (all when empty) are evaluated."""
    voted: dict[str, VotedAttribute] = {}
    counted = table.kind == "counts"
    dropped = set(count_columns(dataset, list(table.attributes))) if counted else set()
    known = {sample.image_id for sample in dataset.samples}
    for name, votes in table.attributes.items():
        if name in dataset.attribute_columns and not counted:
            columns_file = dataset.attribute_file or dataset.source
            raise UsageError(f"--attribute-votes: attribute {name!r} is both voted in "
                             f"{table.source} and a column of {columns_file}; give each "
                             "attribute one source")
        spec = (per_attribute.get(name) or {}).get("bins")
        bins = None
        if spec:
            vocabulary = vocabulary_of(name, vocabularies_of(per_attribute))
            bins = parse_bins(list(spec), vocabulary, f"attributes.{name}.bins")
            votes = binned(votes, bins)
        elsewhere = len(set(votes.images) - known)
        if elsewhere:
            dataset.notes.append(f"{elsewhere:,} image(s) voted on {name} in {table.source} "
                                 "are not in the dataset")
            # The labels and their agreement describe the images evaluated.
            votes = replace(votes, images={image: found for image, found in votes.images.items()
                                           if image in known})
        labels = policy_labels(votes, policy)
        voted[name] = VotedAttribute(votes, bins, policy, labels, table.skipped)
    dataset.samples = [
        replace(sample, attributes={
            **{k: v for k, v in sample.attributes.items() if k not in dropped},
            **{name: attribute.labels.get(sample.image_id) for name, attribute in voted.items()},
        })
        for sample in dataset.samples
    ]
    dataset.attribute_columns = [c for c in dataset.attribute_columns if c not in dropped]
    dataset.attributes = [c for c in dataset.attributes if c not in dropped]
    for name in voted:
        if name not in dataset.attribute_columns:
            dataset.attribute_columns.append(name)
        if name not in dataset.attributes and (not requested or name in requested):
            dataset.attributes.append(name)
    return voted


__all__ = ["VotedAttribute", "apply_votes", "count_columns", "counted_attributes",
           "counts_from_dataset", "read_vote_file", "vocabularies_of"]
