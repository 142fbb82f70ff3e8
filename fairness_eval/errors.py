"""Exceptions that the CLI turns into one-line messages and exit codes.

`UsageError` (exit 2) is for anything the user can fix: a bad option, a missing file, a
malformed manifest. Its message names the file, row or option at fault. Anything else
that escapes is a bug in fairness-eval.
"""


class FairnessEvalError(Exception):
    """Base class of the errors fairness-eval raises on purpose."""


class UsageError(FairnessEvalError):
    """Bad input or usage; the message is one line the user can act on (exit code 2)."""
