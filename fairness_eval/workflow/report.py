"""`fairness-eval report`: the model card and summaries of a run folder, from its results.json."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..terminal import safe_writer
from .examples import dataset_images
from .finish import render
from .outcomes import ReportResult
from .preflight import check_card_file, check_results_file, checked, locked

Echo = Callable[[str], None]


def report(run_dir: Path | str, formats: Sequence[str] | str = ("html", "pdf"), *,
           card: Path | None = None, examples: int = 0, overwrite: bool = False,
           echo: Echo = print, redact_paths: bool = True) -> ReportResult:
    """Render the model card and summaries of a run folder from its results.json.

    `redact_paths` (the default): the reports name files relative to the dataset or by
    name, never by an absolute local path (results.json keeps them).

    With `examples`, the run's dataset is loaded (from the path results.json records) to
    find the images the overlays draw (`dataset_images`).
    """
    run_dir = Path(run_dir)
    echo = safe_writer(echo)
    formats, examples = checked("formats", formats), checked("examples", examples)
    check_results_file(run_dir)
    check_card_file(card)
    images = dataset_images(run_dir) if examples else None
    with locked(run_dir, "RUN_DIR"):
        written = render(run_dir, formats, card=card, examples=examples,
                         overwrite=overwrite, echo=echo, images=images,
                         redact_paths=redact_paths)
    return ReportResult(run_dir, written)
