"""`fairness-eval card --from-table`: a published per-group table judged by the card's
criteria, written as a run folder (results.json) with its card and, if asked, gated."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from ..config.command_options import CheckOptions, TableSettings
from ..errors import UsageError
from ..terminal import safe_writer
from .finish import gate_run_folder, summarise_and_render
from .outcomes import EXIT_OK, CardResult
from .preflight import check_card_file, checked

Echo = Callable[[str], None]


def card_from_table(table: Path | str, out: Path | str, settings: TableSettings | None = None,
                    *, overwrite: bool = False, formats: Sequence[str] | str = ("html", "pdf"),
                    card: Path | None = None, gate: bool = False, strict: bool = False,
                    gate_on: str | None = None, allow_empty_gate: bool = False,
                    command: str = "", echo: Echo = print) -> CardResult:
    """Apply the card's criteria to published per-group figures; write results and the card.

    `gate_on` None gates on the card's point verdicts when the table gives no intervals,
    else on the statistical ones; a `gate_on` given is recorded, so that `check` on the
    folder and the card's verdict box read the same verdicts.
    """
    from ..config.recording import config_sha256
    from ..evaluation.run_dir import prepare_run_dir, record_hashes
    from ..fairness.table import evaluate_table
    from ..results.document import build_table_document, write_run
    from ..results.names import RESULTS_FILE

    table, out = Path(table), Path(out)
    echo = safe_writer(echo)
    settings = TableSettings() if settings is None else settings
    if not table.is_file():
        raise UsageError(f"--from-table: {table} does not exist")
    formats = checked("formats", formats)
    gate_on = None if gate_on is None else checked("gate_on", gate_on)
    check_card_file(card if formats else None)
    started = datetime.now(timezone.utc)
    statistics = evaluate_table(table, settings)
    with prepare_run_dir(out, overwrite, resume=False, resume_hint=False,
                         writes=(RESULTS_FILE,)):
        recorded = settings.as_dict()
        if gate_on is not None:
            recorded["gate_on"] = gate_on
        document = build_table_document(
            statistics, settings=recorded, command=command, started=started,
            finished=datetime.now(timezone.utc),
            config={"source": None, "sha256": config_sha256(recorded), "effective": recorded})
        write_run(out, document, None)
        record_hashes(out, (RESULTS_FILE,))
        reports = summarise_and_render(out, document, formats=formats, card=card,
                                       examples=0, overwrite=False, echo=echo, keep=True)
        gate_exit, gate_error = None, None
        if gate:
            gate_exit, gate_error = gate_run_folder(
                out, CheckOptions(strict=strict, gate_on=gate_on,
                                  allow_empty_gate=allow_empty_gate), echo, keep=True)
    return CardResult(out, document, reports, gate_exit, gate_exit or EXIT_OK, gate_error)
