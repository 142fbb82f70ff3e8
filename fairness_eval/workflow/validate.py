"""`fairness-eval validate`: a dataset checked without running the model, with the counts of
each attribute value."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..data.problem_lines import problem_lines
from ..errors import UsageError
from ..terminal import safe_writer
from .outcomes import EXIT_OK, EXIT_USAGE, ValidateResult
from .preflight import checked

Echo = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def validate(dataset: Path | str, attributes: Sequence[str] = (), *, echo: Echo = print,
             log: Echo = _stderr, max_pixels: int | str | None = None,
             exif: str = "ignore", images: Path | str | None = None,
             image_set: str | None = None,
             mask_person_value: int | str | None = None, image_column: str | None = None,
             mask_column: str | None = None, limit: int | str | None = None,
             sample: int | str | None = None, seed: int | str = 0,
             configured: Sequence[str] = (), attribute_votes: Path | str | None = None,
             votes_image_key: str = "image",
             per_attribute: Mapping[str, Mapping[str, Any]] | None = None) -> ValidateResult:
    """Check a dataset without running the model; print the counts of each attribute value.

    Each problem is logged; a dataset with problems exits 2. `max_pixels` (default: the
    run's default), `exif`, `images`, `image_set`, `mask_person_value`, `image_column` and
    `mask_column` check the rows `run` would evaluate with the same options; `limit` or
    `sample` (with `seed`) check only the rows a run with them would take. `configured`:
    attributes with a configuration's [attributes.NAME] table, evaluated by default as
    `run` does. `attribute_votes`, `votes_image_key` and `per_attribute` (the tables'
    `votes = "counts"`, `vocabulary`, `bins`) read annotators' votes as `run` does: every
    vote problem is logged and exits 2, and each voted attribute's counts are its majority
    labels.
    """
    from ..config.rules import DEFAULT_MAX_PIXELS
    from ..data.dataset import load_dataset
    from ..data.subset import take_subset
    from ..data.video import VideoDataset
    from ..data.votes import InvalidVotes

    echo, log = safe_writer(echo), safe_writer(log)
    max_pixels = checked("max_pixels", DEFAULT_MAX_PIXELS if max_pixels is None
                         else max_pixels)

    def load(requested: Sequence[str]):
        return load_dataset(dataset, tuple(requested), max_pixels=max_pixels,
                            exif=checked("exif", exif), images=images, image_set=image_set,
                            mask_person_value=checked("mask_person_value", mask_person_value),
                            image_column=image_column, mask_column=mask_column,
                            configured=tuple(configured))

    try:
        loaded, voted = _load_with_votes(load, attributes, attribute_votes, votes_image_key,
                                         per_attribute or {})
    except InvalidVotes as bad:  # every problem of the votes, as the dataset's are
        for line in problem_lines(bad.problems):
            log(line)
        error = f"{len(bad.problems)} problem(s) in the votes"
        return ValidateResult(Path(dataset), 0, 0, tuple(str(p) for p in bad.problems), {},
                              error, EXIT_USAGE)
    if limit is not None and sample is not None:
        raise UsageError(f"--limit {limit} and --sample {sample}: give only one (the first N "
                         "rows, or N rows drawn with --seed)")
    clips = isinstance(loaded, VideoDataset)  # its rows are clips; frames are counted too
    loaded = take_subset(loaded, limit=checked("limit", limit), sample=checked("sample", sample),
                         seed=checked("seed", seed), unit="clips" if clips else "rows")
    if clips:
        echo(f"{loaded.source}: {loaded.rows} clips, {len(loaded.samples)} valid "
             f"({loaded.frame_count} frames), {loaded.rows - len(loaded.samples)} with problems")
    else:
        echo(f"{loaded.source}: {loaded.rows} rows, {len(loaded.samples)} valid, "
             f"{len(loaded.problems)} with problems")
    if loaded.subset is not None:
        subset = loaded.subset
        which = (f"the first {subset.taken}" if subset.method == "limit"
                 else f"a sample of {subset.taken} (seed {subset.seed})")
        echo(f"note: --{subset.method} {subset.requested}: checked {which} of "
             f"{subset.available} {'clips' if clips else 'rows'}")
    for note in loaded.notes:
        echo(f"note: {note}")
    for line in _vote_lines(voted):
        echo(line)
    counts = loaded.value_counts()
    for name, values in counts.items():
        echo("")
        echo(name)
        for value, count in values.items():
            echo(f"  {value:<30} {count:>6}")
    for line in problem_lines(loaded.problems):
        log(line)
    invalid = "problem(s) in the clips of" if clips else "invalid row(s) in"
    error = f"{len(loaded.problems)} {invalid} {loaded.source}" if loaded.problems else None
    return ValidateResult(loaded.source, loaded.rows, len(loaded.samples),
                          tuple(str(p) for p in loaded.problems), counts, error,
                          EXIT_USAGE if error else EXIT_OK)


def _load_with_votes(load: Callable[[Sequence[str]], Any], attributes: Sequence[str],
                     attribute_votes: Path | str | None, votes_image_key: str,
                     per_attribute: Mapping[str, Mapping[str, Any]]) -> tuple[Any, dict]:
    """The dataset as `run` loads it: with votes, each voted attribute labelled by majority
    (the votes read and checked by the same code, through run's checked settings)."""
    from ..data.vote_labels import counted_attributes

    if attribute_votes is None and not counted_attributes(per_attribute):
        return load(attributes), {}
    from ..config.settings import Settings
    from .label_votes import load_with_votes

    settings = Settings(attributes=tuple(attributes), attribute_votes=attribute_votes,
                        votes_image_key=votes_image_key, per_attribute=per_attribute)
    return load_with_votes(load, settings)


def _vote_lines(voted: Mapping[str, Any]) -> list[str]:
    """A note per voted attribute: the images voted, the annotators, the disputed labels."""
    from ..results.names import DISPUTED

    lines = []
    for name, attribute in voted.items():
        votes = attribute.votes
        annotators = (f"{len(votes.annotators())} annotators" if votes.named
                      else "count columns")
        disputed = sum(1 for label in attribute.labels.values() if label == DISPUTED)
        lines.append(f"note: {name} is labelled from votes: {len(votes.images)} images voted "
                     f"({annotators}), majority labels, {disputed} {DISPUTED}"
                     + (f", {attribute.skipped} skipped annotations" if attribute.skipped
                        else ""))
    return lines
