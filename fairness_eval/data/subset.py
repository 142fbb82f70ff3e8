"""A part of a dataset to evaluate: its first N rows (`--limit`) or N rows drawn without
replacement from the seed (`--sample`); for video, rows are clips.

`take_subset` narrows a loaded `Dataset` to the rows taken (their samples and problems, in
dataset order) and says what was taken in a `Subset` record, which results.json keeps in
its dataset block. A problem of the whole dataset (no row) is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeVar

from .samples import Dataset

D = TypeVar("D", bound=Dataset)


@dataclass(frozen=True)
class Subset:
    """What `--limit` or `--sample` took: the N asked for, the rows there were, the rows
    taken (fewer than N when the dataset has fewer) and, for a sample, its seed."""

    method: str  # "limit" or "sample"
    requested: int
    available: int
    taken: int
    seed: int | None = None


def take_subset(dataset: D, *, limit: int | None = None, sample: int | None = None,
                seed: int = 0, unit: str = "rows") -> D:
    """`dataset` narrowed to its first `limit` rows, or to `sample` rows drawn with `seed`
    (kept in dataset order); the dataset itself when neither is given. N larger than the
    dataset takes every row and says so in a note."""
    if limit is None and sample is None:
        return dataset
    method, requested = ("limit", limit) if limit is not None else ("sample", sample)
    assert requested is not None
    rows = sorted({s.row for s in dataset.samples}
                  | {p.row for p in dataset.problems if p.row is not None})
    if requested >= len(rows):
        taken = set(rows)
    elif method == "limit":
        taken = set(rows[:requested])
    else:
        from ..stats.streams import stream

        drawn = stream(seed, ("sample",)).choice(len(rows), size=requested, replace=False)
        taken = {rows[int(i)] for i in drawn}
    notes = list(dataset.notes)
    if requested > len(rows):
        notes.append(f"--{method} {requested}: the dataset has {len(rows)} {unit}; "
                     f"all {len(rows)} are evaluated")
    record = Subset(method, requested, len(rows), len(taken),
                    seed if method == "sample" else None)
    return replace(dataset, rows=len(taken),
                   samples=[s for s in dataset.samples if s.row in taken],
                   problems=[p for p in dataset.problems if p.row is None or p.row in taken],
                   notes=notes, subset=record)


__all__ = ["Subset", "take_subset"]
