"""Text cells of the CSV files fairness-eval writes, safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage
return before one) as a formula: an image named `=HYPERLINK(...)` or an attribute value
`+cmd|...` would run when a reviewer opens per_image.csv. As OWASP recommends for CSV
injection, such a text cell is written with a leading apostrophe, which spreadsheets show
as text and hide. A text cell that itself starts with an apostrophe gets one more, so that
fairness-eval's reader, which removes one leading apostrophe, reads every cell back
exactly. Numeric columns are never touched: -0.5 stays a number. Column names (the
header) are text cells too: an attribute column named `=cmd` is written `'=cmd`, and the
readers take the header back with `plain_header`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where a table is handled: parsing a command needs no pandas
    import pandas as pd

TEXT_MARK = "'"
# What makes a spreadsheet read a cell as a formula, and the mark itself (see above).
_ESCAPED_START = ("=", "+", "-", "@", "\t", "\r", TEXT_MARK)


def spreadsheet_text(value: Any) -> Any:
    """A text cell as written: with the leading apostrophe where it needs one."""
    if isinstance(value, str) and value.startswith(_ESCAPED_START):
        return TEXT_MARK + value
    return value


def plain_text(value: Any) -> Any:
    """A text cell as read back: the one leading apostrophe `spreadsheet_text` added, gone."""
    if isinstance(value, str) and value.startswith(TEXT_MARK):
        return value[1:]
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose header and text cells are safe in a spreadsheet; numbers
    untouched."""
    import pandas as pd

    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(spreadsheet_text)
    safe.columns = [spreadsheet_text(str(column)) for column in safe.columns]
    return safe


def plain_header(frame: pd.DataFrame) -> None:
    """Undo `spreadsheet_safe` in place on the column names of a frame just read."""
    frame.columns = [plain_text(column) for column in frame.columns]


def read_back_text(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    """Undo `spreadsheet_safe` in place on the text `columns` of a frame read as text."""
    for column in columns:
        frame[column] = frame[column].map(plain_text)


__all__ = ["TEXT_MARK", "plain_header", "plain_text", "read_back_text", "spreadsheet_safe",
           "spreadsheet_text"]
