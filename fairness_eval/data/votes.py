"""Attribute votes from several annotators: one record, whichever of three sources they come in.

An attribute such as skin tone is a judgement on which annotators disagree. This module
turns their votes into one typed record, `VoteTable`: per attribute, per image, how many
annotators chose each value and, where the source names them, who chose what. The three
readers (`formats` below) produce the same record:

- a long table, `image, annotator, attribute, value` (one vote a row: `read_long_votes`);
- a Label Studio JSON export (`read_label_studio`, `votes_formats.py`);
- count columns in attributes.csv, FACET's way: `<attribute>_<value>` holds how many
  annotators chose that value (`votes_from_counts`); a column `<attribute>_na` counts
  annotators who gave no value and is not a vote. Counts name no annotator, so the
  annotator-by-annotator confusion cannot be drawn from them.

Values are canonicalised with the attribute's vocabulary (`results/vocabularies.py`: the
attribute's own name, or the one a configuration names, e.g. `mst` for a column called
`skin_tone`), so "II" and "2" are one vote. Every row that cannot be read is a `Problem`
naming the file, its row (a Label Studio task's position) and the reason; they are
collected and raised together as `InvalidVotes`, a one-line UsageError (exit 2) naming the
first. The same annotator voting twice on an image's attribute is a problem (the second row
names the first), since which of the two votes counts cannot be decided here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..results.vocabularies import Vocabulary, standard_vocabularies
from .attributes import image_stem
from .samples import Problem
from .tables import cell_text, parse_csv, read_table_file

# The column of attributes.csv that counts annotators without a value (FACET's "_na").
ABSTAIN_SUFFIX = "na"
LONG_COLUMNS = ("image", "annotator", "attribute", "value")


@dataclass(frozen=True)
class ImageVotes:
    """One image's votes on one attribute."""

    counts: dict[str, int]  # value -> annotators who chose it (values with a vote only)
    annotators: dict[str, str]  # annotator -> value; empty where the source names nobody

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class AttributeVotes:
    """Every image's votes on one attribute, on the attribute's value scale."""

    attribute: str
    values: tuple[str, ...]  # the scale in order: the vocabulary's, else the values seen, sorted
    ordinal: bool  # whether `values` are ordered (an ordinal vocabulary)
    images: dict[str, ImageVotes]  # image id -> votes
    named: bool  # whether the votes name their annotators (not count columns)

    def annotators(self) -> tuple[str, ...]:
        """The annotators who voted, sorted."""
        return tuple(sorted({a for votes in self.images.values() for a in votes.annotators}))


@dataclass(frozen=True)
class VoteTable:
    """The votes of one source, per attribute."""

    source: str  # the file read
    kind: str  # "long", "label-studio" or "counts"
    attributes: dict[str, AttributeVotes]
    skipped: int = 0  # annotations the annotator skipped (Label Studio's was_cancelled)


class InvalidVotes(UsageError):
    """Votes that cannot be read: every problem kept, the first named in the one line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1:,} more problem(s))" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}")


@dataclass(frozen=True)
class Vote:
    """One vote, or a count of identical votes, as a reader found it."""

    image: str
    attribute: str
    value: str
    annotator: str | None  # None: an anonymous count
    line: int  # the row (a Label Studio task's position) that holds it
    count: int = 1


def vocabulary_of(attribute: str, vocabularies: Mapping[str, str] | None = None
                  ) -> Vocabulary | None:
    """The vocabulary an attribute's values follow: the one named for it, else its own name's."""
    known = standard_vocabularies()
    name = (vocabularies or {}).get(attribute, attribute)
    if name not in known and attribute in (vocabularies or {}):
        raise UsageError(f"attributes.{attribute}.vocabulary: no vocabulary {name!r} "
                         f"(known: {', '.join(known)})")
    return known.get(name)


def build_table(source: Path, kind: str, votes: Iterable[Vote], problems: list[Problem],
                vocabularies: Mapping[str, str] | None = None, skipped: int = 0) -> VoteTable:
    """The `VoteTable` of a reader's votes; `InvalidVotes` if any row has a problem."""
    counts: dict[str, dict[str, dict[str, int]]] = {}
    named: dict[str, dict[str, dict[str, str]]] = {}
    seen: dict[tuple[str, str, str], int] = {}
    vocab_cache: dict[str, Vocabulary | None] = {}
    for vote in votes:
        if vote.attribute not in vocab_cache:
            vocab_cache[vote.attribute] = vocabulary_of(vote.attribute, vocabularies)
        vocabulary = vocab_cache[vote.attribute]
        value = vote.value if vocabulary is None else vocabulary.canonical(vote.value)
        if value is None and vocabulary is not None:
            problems.append(Problem(str(source), f"{vote.attribute} {vote.value!r} is not in "
                                    f"the vocabulary {vocabulary.name} "
                                    f"({', '.join(vocabulary.values)})",
                                    None, vote.image, vote.line))
            continue
        assert value is not None
        if vote.annotator is not None:
            key = (vote.image, vote.attribute, vote.annotator)
            if key in seen:
                problems.append(Problem(
                    str(source), f"annotator {vote.annotator!r} votes twice on {vote.attribute} "
                    f"(also row {seen[key]})", None, vote.image, vote.line))
                continue
            seen[key] = vote.line
            named.setdefault(vote.attribute, {}).setdefault(vote.image, {})[vote.annotator] = value
        if vote.count:
            image_counts = counts.setdefault(vote.attribute, {}).setdefault(vote.image, {})
            image_counts[value] = image_counts.get(value, 0) + vote.count
    if problems:
        raise InvalidVotes(problems)
    attributes = {}
    for attribute in sorted(counts):
        vocabulary = vocab_cache[attribute]
        images = {image: ImageVotes(dict(image_counts),
                                    dict(named.get(attribute, {}).get(image, {})))
                  for image, image_counts in sorted(counts[attribute].items())}
        if vocabulary is not None:
            values = tuple(vocabulary.values)
        else:
            values = tuple(sorted({v for votes in images.values() for v in votes.counts}))
        attributes[attribute] = AttributeVotes(
            attribute, values, bool(vocabulary and vocabulary.ordinal), images,
            named=kind != "counts")
    return VoteTable(str(source), kind, attributes, skipped)


def read_long_votes(path: Path, vocabularies: Mapping[str, str] | None = None) -> VoteTable:
    """Votes from a long table with the columns image, annotator, attribute, value."""
    records = parse_csv(path, read_table_file(path, "--attribute-votes"))
    header = list(records[0]) if records else []
    absent = [c for c in LONG_COLUMNS if c not in header]
    if absent:
        raise UsageError(f"{path}: no column(s) {', '.join(absent)} (a vote table has the "
                         f"columns {', '.join(LONG_COLUMNS)}; found {', '.join(header) or 'none'})")
    votes, problems = [], []
    for number, record in enumerate(records, start=1):
        cells = {c: cell_text(record.get(c)) for c in LONG_COLUMNS}
        empty = [c for c in LONG_COLUMNS if cells[c] is None]
        image = image_stem(cells["image"]) if cells["image"] else None
        if empty:
            problems.append(Problem(str(path), f"empty {', '.join(repr(c) for c in empty)} "
                                    "cell(s)", None, image, number))
            continue
        votes.append(Vote(str(image), str(cells["attribute"]), str(cells["value"]),
                          cells["annotator"], number))
    return build_table(path, "long", votes, problems, vocabularies)


def votes_from_counts(path: Path, attributes: Sequence[str],
                      vocabularies: Mapping[str, str] | None = None) -> VoteTable:
    """Votes from count columns `<attribute>_<value>` of an attributes.csv (FACET's layout)."""
    records = parse_csv(path, read_table_file(path))
    header = list(records[0]) if records else []
    if records and "image" not in header:
        raise UsageError(f"{path}: no 'image' column (columns: {', '.join(header)})")
    columns = count_columns_of(header, attributes, str(path))
    votes: list[Vote] = []
    problems: list[Problem] = []
    for number, record in enumerate(records, start=1):
        cell = cell_text(record.get("image"))
        if cell is None:
            problems.append(Problem(str(path), "empty 'image' cell", None, None, number))
            continue
        cells = {column: cell_text(record.get(column)) for column in columns}
        count_votes(str(path), image_stem(cell), number, None, cells, columns, votes, problems)
    return build_table(path, "counts", votes, problems, vocabularies)


def count_columns_of(header: Sequence[str], attributes: Sequence[str],
                     source: str) -> dict[str, tuple[str, str]]:
    """column -> (attribute, raw value) of the count columns `<attribute>_<value>`."""
    columns: dict[str, tuple[str, str]] = {}
    for attribute in attributes:
        prefix = f"{attribute}_"
        found = {c: (attribute, c[len(prefix):]) for c in header
                 if c.startswith(prefix) and c[len(prefix):].lower() != ABSTAIN_SUFFIX}
        if not found:
            raise UsageError(f"{source}: no count columns {prefix}<value> for attribute "
                             f"{attribute!r} (declared votes = \"counts\")")
        columns.update(found)
    return columns


def count_votes(source: str, image: str, line: int, row: int | None,
                cells: Mapping[str, str | None], columns: Mapping[str, tuple[str, str]],
                votes: list[Vote], problems: list[Problem]) -> None:
    """Add one row's count cells as votes (or a problem per cell that is not a count)."""
    for column, (attribute, value) in columns.items():
        text = cells.get(column)
        if text is None:
            continue  # no annotator chose it
        count = int(text) if text.isdigit() else -1
        if count < 0:
            problems.append(Problem(source, f"'{column}' is {text!r}, not a count of "
                                    "annotators (a whole number >= 0)", row, image, line))
        else:
            votes.append(Vote(image, attribute, value, None, line, count))


def load_votes(path: Path, image_key: str = "image",
               vocabularies: Mapping[str, str] | None = None) -> VoteTable:
    """The votes of `--attribute-votes`: a Label Studio export (.json) or a long table (.csv)."""
    if path.suffix.lower() == ".json":
        from .votes_formats import read_label_studio

        return read_label_studio(path, image_key, vocabularies)
    if path.suffix.lower() in (".csv", ".tsv", ".txt") or not path.suffix:
        return read_long_votes(path, vocabularies)
    raise UsageError(f"--attribute-votes: {path} is neither a vote table (.csv) nor a Label "
                     "Studio JSON export (.json)")


__all__ = ["AttributeVotes", "ImageVotes", "InvalidVotes", "Vote", "VoteTable", "build_table",
           "count_columns_of", "count_votes", "load_votes", "read_long_votes",
           "votes_from_counts", "vocabulary_of"]
