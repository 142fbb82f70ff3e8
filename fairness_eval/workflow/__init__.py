"""What each command does, as plain functions a notebook can call; the CLI only parses options.

    from fairness_eval import workflow
    from fairness_eval.config.settings import Settings

    done = workflow.run("data/voc", Settings(out=Path("runs/voc"), formats=("html",)))
    done.document.overall.value, done.reports, done.exit_code

Each function prints what the command prints through `echo` (results, `log` for
warnings) and returns a frozen record with what it made and the exit code it implies:
0 ok, 1 a gated criterion is violated, 2 bad input. Input errors found before anything
is written raise UsageError (the CLI's exit 2), as every library function does.

This package is the only orchestrator, one module per command: run.py (and run_video.py,
a video dataset's run), card.py (`card --from-table`), report.py, check.py, compare.py,
validate.py, init.py (`init_project`, a new project's files); finish.py is the tail they
share (summary, reports, gate), outcomes.py the records they return. A command's module
bears its function's name, and the package attribute is the function (`workflow.run`);
import the module by its dotted path (`from fairness_eval.workflow.run import
run_evaluation`). Each module imports the stages inside its functions: importing this
package loads neither pandas nor the model runtimes.
"""

from __future__ import annotations

# Each command's function is bound after its module is imported, so that the name
# `workflow.run` is the function, not the module run.py.
from .card import card_from_table
from .check import check
from .compare import compare, compare_models
from .examples import dataset_images
from .outcomes import (
    EXIT_GATE_FAILED,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    CardResult,
    CheckResult,
    CompareResult,
    ReportResult,
    RunResult,
    ValidateResult,
)
from .report import report
from .run import run
from .validate import validate

__all__ = [
    "EXIT_GATE_FAILED", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "CardResult", "CheckResult",
    "CompareResult", "ReportResult", "RunResult", "ValidateResult", "card_from_table", "check",
    "compare", "compare_models", "dataset_images", "report", "run", "validate",
]
