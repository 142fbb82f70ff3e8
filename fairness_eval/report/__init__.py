"""Reporters: the model card (HTML, PDF), summary.md and model_card.json, from a run folder.

`render_reports` reads `results.json` (and `per_image.csv` when present) and writes the
requested formats into the same folder. Reporters never recompute a statistic and never
load a dataset: example overlays get the image files from the caller. A file the user
wrote (or edited after fairness-eval wrote it) is never replaced unless `overwrite`; the
SHA-256 of each file written is kept in `.fairness-eval-reports.json` to tell them apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomicwrite import write_atomically
from ..errors import UsageError
from ..results.document import read_per_image, read_results, verify_tables
from ..results.names import (
    PER_IMAGE_FILE,
    REPORT_FORMAT_NAMES,
    REPORT_FORMATS,
    RESULTS_FILE,
)
from ..results.schema import ResultsDocument
from ..results.video_tables import is_video_run, read_per_frame
from .card_text import CardText, load_card_text
from .ledger import LEDGER_NAME
from .ledger import foreign_files as _foreign_files
from .ledger import read_ledger as _read_ledger
from .ledger import refuse_foreign_files as _refuse_foreign_files

if TYPE_CHECKING:
    from .overlays import ImageFiles

# The report formats and their files: results/names.py's REPORT_FORMATS, one list.
FORMATS = REPORT_FORMAT_NAMES
FILE_NAMES = {report.name: report.file for report in REPORT_FORMATS}

__all__ = ["FILE_NAMES", "FORMATS", "load_card_text", "render_reports"]


def render_reports(
    run_dir: Path,
    formats: Sequence[str] = ("html", "pdf"),
    card: Path | None = None,
    examples: int = 0,
    overwrite: bool = False,
    images: Mapping[str, ImageFiles] | None = None,
    keep: Callable[[Path], None] | None = None,
    redact_paths: bool = True,
) -> list[Path]:
    """Write the requested reports into `run_dir`; returns the paths written, in `formats`
    order.

    formats: any of "html", "pdf", "md", "json". card: a TOML card file whose fields
    override the default card text. examples: per group, that many lowest-IoU images as
    overlays in the HTML/PDF (needs a run made with --save-masks, and `images`: image id
    -> its files, e.g. {s.image_id: s for s in dataset.samples}). `keep` (what `run`
    passes, --overwrite or not): an existing file fairness-eval did not write, or that was
    edited since, is kept and not written, and `keep` is told its path; without `keep`
    such a file is refused unless `overwrite`. Raises UsageError for a
    missing or unreadable run folder, an unknown format, a bad card file, a table changed
    since results.json recorded it, or an existing file fairness-eval did not write (unless
    overwrite). `redact_paths` (the default): the reports name files relative to the
    dataset or by name, never by an absolute path of this machine (report/redaction.py).
    """
    run_dir = Path(run_dir)
    wanted = _check_formats(formats)
    if examples < 0:
        raise UsageError(f"--examples: {examples} must be >= 0")
    results = read_results(run_dir)
    verify_tables(run_dir, results)  # the card's distributions and overlays read them
    per_image = None
    if not results.is_table and (run_dir / PER_IMAGE_FILE).is_file():
        per_image = read_per_image(run_dir)
    card_text = load_card_text(results.model_name, card)
    if redact_paths:
        from .redaction import redact_results

        results = redact_results(results, [str(run_dir), str(run_dir.resolve())])
    targets = {fmt: run_dir / FILE_NAMES[fmt] for fmt in wanted}
    ledger = _read_ledger(run_dir)
    if keep is not None and not overwrite:
        for path in _foreign_files(targets.values(), ledger):
            keep(path)
            wanted = [fmt for fmt in wanted if targets[fmt] != path]
    elif not overwrite:
        _refuse_foreign_files(targets.values(), ledger)

    contents: dict[str, bytes] = {}
    if "html" in wanted or "pdf" in wanted:
        html = _card_html(results, card_text, per_image, run_dir, examples, images,
                          _sha256_file(run_dir / RESULTS_FILE),
                          _sha256_file(run_dir / PER_IMAGE_FILE) if per_image is not None
                          else None)
        if "html" in wanted:
            contents["html"] = html.encode("utf-8")
        if "pdf" in wanted:
            from .pdf import pdf_bytes

            contents["pdf"] = pdf_bytes(html)
    if "md" in wanted:
        from .markdown import render_markdown

        contents["md"] = render_markdown(results, card_text).encode("utf-8")
    if "json" in wanted:
        from .mct import model_card_document

        document = model_card_document(results, card_text)
        contents["json"] = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()

    for fmt in wanted:
        write_atomically(targets[fmt], contents[fmt])
        ledger[targets[fmt].name] = hashlib.sha256(contents[fmt]).hexdigest()
    write_atomically(run_dir / LEDGER_NAME, (json.dumps(ledger, indent=2, sort_keys=True) + "\n")
                  .encode())
    return [targets[fmt] for fmt in wanted]


def _card_html(
    results: ResultsDocument,
    card_text: CardText,
    per_image: Any,
    run_dir: Path,
    examples: int,
    images: Mapping[str, ImageFiles] | None,
    results_sha256: str | None,
    per_image_sha256: str | None,
) -> str:
    from .bounds import shown_attributes
    from .charts import distribution_svg, forest_plot_svg
    from .context import build_context
    from .html import render_html
    from .overlays import example_overlays

    context = build_context(results, card_text, per_image, results_sha256, per_image_sha256)
    charts: dict[str, dict[str, str | None]] = {}
    # Charts only of what the card shows in full: its drawing time stays bounded.
    for shown in shown_attributes(list(results.attributes.values()), results.lower_is_better):
        name, attribute = shown.attribute.name, shown.attribute
        charts[name] = {"forest": forest_plot_svg(name, attribute, context["confidence"],
                                                  metric=results.metric)}
        if per_image is not None:
            charts[name]["distribution"] = distribution_svg(
                name, attribute, per_image, list(attribute.per_image_columns),
                metric=results.metric,
            )
    if results.conditions is not None:
        from .condition_charts import severity_chart_svg

        for name, block in results.conditions.attributes.items():
            charts.setdefault(name, {}).update({
                f"condition-{d.condition}": severity_chart_svg(name, block, d,
                                                               context["confidence"])
                for d in results.conditions.definitions})
    if results.label_agreement:
        from .label_charts import agreement_heatmap_svg

        for name, record in results.label_agreement.items():
            charts.setdefault(name, {})["label-agreement"] = agreement_heatmap_svg(name, record)
    if results.unit == "clip" and is_video_run(run_dir):
        from .timeline import TIMELINE_KEY, timeline_svg

        charts[TIMELINE_KEY] = {"timeline": timeline_svg(read_per_frame(run_dir))}
    overlays = (example_overlays(results, per_image, run_dir, examples, images)
                if examples else [])
    return render_html(context, charts, overlays)


def _check_formats(formats: Sequence[str]) -> list[str]:
    if isinstance(formats, str):
        formats = [f for f in formats.split(",") if f]
    wanted: list[str] = []
    for fmt in formats:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise UsageError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
        if fmt not in wanted:
            wanted.append(fmt)
    if not wanted:
        raise UsageError(f"--format: give at least one of {', '.join(FORMATS)}")
    return wanted


def _sha256_file(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


