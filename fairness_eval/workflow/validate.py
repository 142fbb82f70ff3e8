"""`fairness-eval validate`: a dataset checked without running the model, with the counts of
each attribute value."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

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
             configured: Sequence[str] = ()) -> ValidateResult:
    """Check a dataset without running the model; print the counts of each attribute value.

    Each problem is logged; a dataset with problems exits 2. `max_pixels` (default: the
    run's default), `exif`, `images`, `image_set`, `mask_person_value`, `image_column` and
    `mask_column` check the rows `run` would evaluate with the same options; `limit` or
    `sample` (with `seed`) check only the rows a run with them would take. `configured`:
    attributes with a configuration's [attributes.NAME] table, evaluated by default as
    `run` does.
    """
    from ..config.rules import DEFAULT_MAX_PIXELS
    from ..data.dataset import load_dataset
    from ..data.subset import take_subset
    from ..data.video import VideoDataset

    echo, log = safe_writer(echo), safe_writer(log)
    max_pixels = checked("max_pixels", DEFAULT_MAX_PIXELS if max_pixels is None
                         else max_pixels)
    loaded = load_dataset(dataset, tuple(attributes), max_pixels=max_pixels,
                          exif=checked("exif", exif), images=images, image_set=image_set,
                          mask_person_value=checked("mask_person_value", mask_person_value),
                          image_column=image_column, mask_column=mask_column,
                          configured=tuple(configured))
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
