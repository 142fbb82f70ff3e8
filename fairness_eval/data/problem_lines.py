"""Problems as lines a person reads: the first PROBLEM_LINES in full, the rest counted by
reason.

An attributes.csv of a million rows naming no image printed a million lines: nobody reads
them, and a CI log truncates or drowns in them. The full list stays where the caller keeps
it (`ValidateResult.problems`, the skipped rows of per_image.csv and results.json); what is
printed is bounded. The reason of a row is its text without the file and row it names,
so that rows failing alike are counted together.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from .samples import Problem

PROBLEM_LINES = 50
REASONS_SHOWN = 3
# "FILE: REASON" or "FILE, row N (ID): REASON", as Problem and RowFailure write them.
_WHERE = re.compile(r"^(?P<file>.+?)(?:, row \d+(?: \([^)]*\))?)?: (?P<reason>.+)$", re.S)


def reason_of(problem: Problem | str) -> str:
    """The reason of a problem without the file and row it names."""
    if isinstance(problem, Problem):
        return problem.reason
    found = _WHERE.match(problem)
    return found.group("reason") if found else problem


def problem_lines(problems: Sequence[Problem | str], prefix: str = "",
                  limit: int = PROBLEM_LINES) -> list[str]:
    """The first `limit` problems, each as `prefix` + its text, then one line counting the
    rest by reason (none when all fit)."""
    lines = [f"{prefix}{problem}" for problem in problems[:limit]]
    rest = problems[limit:]
    if rest:
        lines.append(f"{prefix}... and {len(rest):,} more ({count_by_reason(rest)})")
    return lines


def count_by_reason(problems: Sequence[Problem | str], shown: int = REASONS_SHOWN) -> str:
    """"N x REASON" for the most frequent reasons, then how many other reasons there are."""
    counts = Counter(reason_of(p) for p in problems)
    parts = [f"{n:,} x {reason}" for reason, n in counts.most_common(shown)]
    if len(counts) > shown:
        parts.append(f"{len(counts) - shown:,} other reason(s)")
    return "; ".join(parts)


__all__ = ["PROBLEM_LINES", "count_by_reason", "problem_lines", "reason_of"]
