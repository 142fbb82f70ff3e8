"""The gate as GitHub Actions step outputs: appended to the file $GITHUB_OUTPUT names.

`apply_gate` (`check`, `run --gate`, `card --gate`) calls `write_step_outputs`, which
does nothing unless GITHUB_OUTPUT is set. A later step reads `steps.<id>.outputs.<name>`:

- verdict: passed | failed | nothing-checked (`decision.gate_decision`); exit_code;
- the counts the gate decided on (`decision.gate_counts`): violations, inconclusive,
  passes, not_gated, failing, checks;
- results, card, junit, run_dir: absolute paths (card: the HTML card, else the PDF, else
  empty when no card was written).

Each output is written in the multiline form `name<<DELIMITER`, the value, `DELIMITER`, with
a random delimiter drawn again until it occurs nowhere in the value (as the Actions toolkit
does), so no value, a path with a newline in it included, can end its entry early or set
another output. The file is opened for appending, never truncated: outputs of earlier
commands in the same step stay. A file that cannot be written is one warning line on
stderr, as for the step summary: an optional output never changes the gate's verdict.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path

from ..results.names import JUNIT_FILE, MODEL_CARD_HTML, MODEL_CARD_PDF, RESULTS_FILE
from ..terminal import one_line
from .decision import gate_counts, gate_decision
from .gate import GateReport

OUTPUT_ENV = "GITHUB_OUTPUT"


def step_outputs(report: GateReport, run_dir: Path | str) -> dict[str, str]:
    """The outputs of one gated run folder, in the order they are written."""
    folder = Path(os.path.abspath(run_dir))
    cards = [folder / name for name in (MODEL_CARD_HTML, MODEL_CARD_PDF)]
    card = next((path for path in cards if path.is_file()), None)
    return {
        "verdict": gate_decision(report),
        "exit_code": str(report.exit_code),
        **{name: str(count) for name, count in gate_counts(report).items()},
        "results": str(folder / RESULTS_FILE),
        "card": "" if card is None else str(card),
        "junit": str(folder / JUNIT_FILE),
        "run_dir": str(folder),
    }


def output_entry(name: str, value: str) -> str:
    """`name<<DELIMITER`, `value`, `DELIMITER`, each on its own line; the delimiter is
    random and occurs neither in the name nor in the value."""
    while True:
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        if delimiter not in value and delimiter not in name:
            return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_step_outputs(report: GateReport, run_dir: Path | str, *,
                       env: Mapping[str, str] | None = None) -> bool:
    """Append the gate's outputs to $GITHUB_OUTPUT when it is set; whether they were."""
    env = os.environ if env is None else env
    path = env.get(OUTPUT_ENV)
    if not path:
        return False
    text = "".join(output_entry(name, value)
                   for name, value in step_outputs(report, run_dir).items())
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        # An optional output: failing to write it must not turn a verdict into a crash.
        print(one_line(f"warning: cannot append the step outputs to {path} "
                       f"({error.strerror or error}); the gate's verdict is unchanged"),
              file=sys.stderr)
        return False
    return True


__all__ = ["OUTPUT_ENV", "output_entry", "step_outputs", "write_step_outputs"]
