"""User text (attribute and group names) inside Markdown: shown as written, never as markup.

Every Markdown table fairness-eval writes (summary.md, the CI step summary, comparison.md)
passes user strings through `markdown_text`, so a name cannot inject Markdown or HTML into
the page that shows it, nor break a table row with a newline or a pipe.
"""

from __future__ import annotations

import html
import re

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|~"})
# Control characters and invisible direction overrides: shown as escapes (\x07, \u202e),
# since they would otherwise hide or reorder what the reader sees.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def markdown_text(value: object) -> str:
    """`value` as literal text on one line of a Markdown table cell."""
    flat = " ".join(str(value).split())  # newlines and runs of whitespace: one space
    visible = _INVISIBLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), flat)
    return html.escape(visible, quote=False).translate(_MD_SPECIAL)
